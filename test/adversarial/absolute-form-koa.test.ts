/**
 * Absolute-form targets Node's url.parse throws on (`GET http://[::1/`: an IPv6 host never closed). Koa
 * reads `ctx.path` through it, so whatever reads the path first (@koa/router, any middleware) throws a
 * TypeError without a status, which Koa's stock handler answers 500 (and logs). A route-mode guard in
 * front (`app.use(guard.authenticate())`, `app.use(guard.requirePermission(...))`) refuses the request
 * as bad input (400), as API mode does, before reading the token; the process keeps serving. A guard on
 * an @koa/router route is never reached: the router throws first (docs/koa.md).
 */
import type { Server } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import { afterEach, describe, expect, it } from 'vitest';
import { createKoaGuard, type KoaGuard } from '../../src/adapters/koa.js';
import { bearerFor, listeningPort, resetToAliceReading, useEmulator } from '../fixtures.js';
import { rawSend } from './raw-http.js';

const emulator = useEmulator();
const BAD = ['http://[::1/', 'http://[::1/reports', 'http://[/', 'HTTP://[::1/reports?x=1', 'http://[::1]x/reports', 'ftp://[::1/'];

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
])('%s: a target Koa cannot parse', (_name, App) => {
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()));
  });

  async function start(place: (app: Koa, router: Router, guard: KoaGuard, handler: Koa.Middleware) => void, passErrors = false) {
    resetToAliceReading(emulator());
    const guard = createKoaGuard({ ...emulator().guardOptions(), passErrors });
    const app = new App();
    const logged: unknown[] = [];
    app.on('error', (error) => logged.push(error));
    const ran: string[] = [];
    const router = new Router();
    place(app, router, guard, (ctx) => {
      ran.push(ctx.path);
      ctx.body = 'ran';
    });
    app.use(router.routes());
    const server: Server = app.listen(0, '127.0.0.1');
    closing.push(() => guard.close(), () => new Promise((resolve) => server.close(resolve)));
    const port = await listeningPort(server);
    const alice = await bearerFor(emulator(), 'alice');
    const send = (target: string, token: string | null = alice) =>
      rawSend(port, { method: 'GET', target, headers: token === null ? [] : [['authorization', token]] });
    return { send, ran, logged };
  }

  it.each(BAD)('%s: a guard in front (requirePermission, authenticate) answers 400, with or without a token; the app keeps serving', async (target) => {
    for (const kind of ['permission', 'authenticate'] as const) {
      const { send, ran, logged } = await start((app, router, guard, handler) => {
        app.use(kind === 'permission' ? guard.requirePermission('reports', 'reports:Read') : guard.authenticate());
        router.get('/reports', handler);
      });
      for (const token of [undefined, null]) {
        const answer = await send(target, token);
        expect(answer.status).toBe(400);
        expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(answer.headers['www-authenticate']).toMatch(/error="invalid_request"/);
      }
      expect(ran).toEqual([]);
      expect(logged).toEqual([]);
      expect((await send('/reports')).status).toBe(200);
      expect(ran).toEqual(['/reports']);
    }
  });

  it('passErrors: the guard throws its 400, which Koa stock handler answers with its status', async () => {
    const { send, ran } = await start((app, router, guard, handler) => {
      app.use(guard.requirePermission('reports', 'reports:Read'));
      router.get('/reports', handler);
    }, true);
    const answer = await send('http://[::1/reports');
    expect(answer.status).toBe(400);
    expect(answer.headers['www-authenticate']).toMatch(/error="invalid_request"/);
    expect(ran).toEqual([]);
  });

  it('a guard on an @koa/router route is never reached: the router reads the path first, Koa answers 500 (pinned)', async () => {
    const { send, ran, logged } = await start((_app, router, guard, handler) => {
      router.get('/reports', guard.requirePermission('reports', 'reports:Read'), handler);
    });
    expect((await send('http://[::1/reports')).status).toBe(500);
    expect(ran).toEqual([]);
    expect(logged).toHaveLength(1);
    expect((await send('/reports')).status).toBe(200);
  });

  it('control: a well-formed absolute-form target is served as its path', async () => {
    const { send, ran } = await start((app, router, guard, handler) => {
      app.use(guard.requirePermission('reports', 'reports:Read'));
      router.get('/reports', handler);
    });
    expect((await send('http://[::1]:80/reports')).status).toBe(200);
    expect((await send('http://h/reports', null)).status).toBe(401);
    expect(ran).toEqual(['/reports']);
  });
});
