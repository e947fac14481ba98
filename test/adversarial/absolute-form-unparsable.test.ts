/**
 * The targets Node's url.parse throws on (`GET http://[::1/`), which a Koa guard must refuse itself
 * (absolute-form-koa.test.ts), on the other adapters. None of these frameworks lets such a request reach
 * a guard or a handler, so no guard code is involved; pinned so a framework upgrade that changes it is
 * seen (docs/errors.md):
 * - Express 4 and 5 (and Nest on Express): the router's getPathname catches url.parse's throw and ends
 *   the request before its first layer: finalhandler's 404, no middleware, no error handler.
 * - Fastify 5: FST_ERR_BAD_URL (400) before any hook for the `http(s)://` ones; `ftp://[::1/` matches no
 *   route here (404, route-level hooks do not run), and the instance's API-mode hook refuses it 400; on a
 *   wildcard route a route-mode check refuses it 400 (non-path-fastify.test.ts).
 * - Nest on Fastify: Nest's 404 for every one.
 * Never a 500, never a handler, and the app keeps serving.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express5 from 'express';
import express4 from 'express4';
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { GenAuthGuardModule, RequirePermission } from '../../src/adapters/nest/index.js';
import { bearerFor, listeningPort, useEmulator } from '../fixtures.js';
import { rawSend } from './raw-http.js';

const emulator = useEmulator();
const HTTP_SCHEME = ['http://[::1/', 'http://[::1/reports', 'http://[/', 'HTTP://[::1/reports?x=1', 'http://[::1]x/reports'];
const BAD = [...HTTP_SCHEME, 'ftp://[::1/'];
const ran: string[] = [];
const closing: Array<() => Promise<unknown>> = [];
let alice = '';

beforeEach(async () => {
  emulator().setGrants('alice', [{ resourceCode: 'reports', resourceType: 'API', apiIdentifier: '/reports', actions: ['reports:Read', 'read'] }]);
  alice = await bearerFor(emulator(), 'alice');
  ran.length = 0;
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** Each target with alice's token and without one: the statuses in order. */
async function statuses(port: number, targets: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const target of targets) {
    for (const token of [alice, null]) {
      const answer = await rawSend(port, { method: 'GET', target, headers: token === null ? [] : [['authorization', token]] });
      out.push(answer.status);
    }
  }
  return out;
}

const twice = (status: number, targets: readonly string[]) => targets.flatMap(() => [status, status]);

type ExpressModule = typeof express5;
type Placement = (app: Express, router: ReturnType<ExpressModule['Router']>, guard: ExpressGuard, handler: RequestHandler) => void;

const PLACEMENTS: Array<[string, Placement]> = [
  ['app.use(requirePermission)', (app, _router, guard, handler) => (app.use(guard.requirePermission('reports', 'reports:Read')), app.get('/reports', handler))],
  ['app.use(authenticate)', (app, _router, guard, handler) => (app.use(guard.authenticate()), app.get('/reports', handler))],
  ['requirePermission on the route', (app, _router, guard, handler) => app.get('/reports', guard.requirePermission('reports', 'reports:Read'), handler)],
  ['router.use(requirePermission)', (app, router, guard, handler) => (router.use(guard.requirePermission('reports', 'reports:Read')), router.get('/reports', handler), app.use(router))],
  ['requirePermission on a router route', (app, router, guard, handler) => (router.get('/reports', guard.requirePermission('reports', 'reports:Read'), handler), app.use(router))],
  ['app.use(api())', (app, _router, guard, handler) => (app.use(guard.api()), app.get('/reports', handler))],
  ['router.use(api()) under a mount', (app, router, guard, handler) => (router.use(guard.api()), router.get('/reports', handler), app.use('/', router))],
];

describe.each([
  ['Express 4', express4 as unknown as ExpressModule],
  ['Express 5', express5],
])('%s: a target url.parse throws on', (_name, express) => {
  it.each(PLACEMENTS)('%s: the router answers 404 before any layer; no guard, handler or error handler runs; the app keeps serving', async (_place, place) => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    const errors: unknown[] = [];
    place(app, express.Router(), guard, (req, res) => {
      ran.push(req.path);
      res.send('ran');
    });
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      errors.push(error);
      res.status(599).end();
    };
    app.use(onError);
    const server: Server = app.listen(0, '127.0.0.1');
    closing.push(() => guard.close(), () => new Promise((resolve) => server.close(resolve)));
    const port = await listeningPort(server);
    expect(await statuses(port, BAD)).toEqual(twice(404, BAD));
    expect(ran).toEqual([]);
    expect(errors).toEqual([]);
    expect(await statuses(port, ['/reports', 'http://[::1]:80/reports'])).toEqual([200, 401, 200, 401]);
    expect(ran).toEqual(['/reports', '/reports']);
  });
});

describe('Fastify 5: a target url.parse throws on', () => {
  type Mode = 'route config' | 'onRequest requirePermission' | 'preHandler requirePermission' | 'onRequest authenticate' | 'instance api';
  async function start(mode: Mode): Promise<number> {
    const app: FastifyInstance = Fastify();
    closing.push(() => app.close());
    await app.register(genauthGuard, { ...emulator().guardOptions(), ...(mode === 'instance api' ? { api: {} } : {}) });
    const handler = async (request: { url: string }) => (ran.push(request.url), 'ran');
    if (mode === 'route config') app.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, handler);
    if (mode === 'onRequest requirePermission') app.get('/reports', { onRequest: app.genauth.requirePermission('reports', 'reports:Read') }, handler);
    if (mode === 'preHandler requirePermission') app.get('/reports', { preHandler: app.genauth.requirePermission('reports', 'reports:Read') }, handler);
    if (mode === 'onRequest authenticate') app.get('/reports', { onRequest: app.genauth.authenticate() }, handler);
    if (mode === 'instance api') app.get('/reports', handler);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as { port: number }).port;
  }

  it.each(['route config', 'onRequest requirePermission', 'preHandler requirePermission', 'onRequest authenticate', 'instance api'] as const)(
    '%s: Fastify refuses the http(s) ones 400 before any hook; the handler never runs',
    async (mode) => {
      const port = await start(mode);
      const answer = await rawSend(port, { method: 'GET', target: 'http://[::1/reports', headers: [['authorization', alice]] });
      expect(answer.headers['www-authenticate']).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'FST_ERR_BAD_URL' });
      expect(await statuses(port, HTTP_SCHEME)).toEqual(twice(400, HTTP_SCHEME));
      // ftp://[::1/ reaches no route: route-level hooks never run; the instance's API-mode hook refuses it.
      const ftp = await rawSend(port, { method: 'GET', target: 'ftp://[::1/', headers: [['authorization', alice]] });
      expect(ftp.status).toBe(mode === 'instance api' ? 400 : 404);
      if (mode === 'instance api') expect(ftp.headers['www-authenticate']).toMatch(/error="invalid_request"/);
      expect(ran).toEqual([]);
      expect(await statuses(port, ['/reports'])).toEqual([200, 401]);
      expect(ran).toEqual(['/reports']);
    },
  );
});

@Controller()
class ReportsController {
  @Get('reports')
  @RequirePermission('reports', 'reports:Read')
  reports(@Req() request: { url: string }): string {
    ran.push(request.url);
    return 'ran';
  }
}

describe.each([
  ['express', false],
  ['express', true],
  ['fastify', false],
  ['fastify', true],
] as const)('Nest on %s (API mode: %s): a target url.parse throws on', (platform, api) => {
  it('is the platform 404; neither the guard nor the handler runs', async () => {
    @Module({ imports: [GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), ...(api ? { api: {} } : {}) })], controllers: [ReportsController] })
    class ReportsModule {}
    const app: INestApplication = await NestFactory.create(ReportsModule, platform === 'express' ? new ExpressAdapter(express5()) : new FastifyAdapter(), { logger: false });
    closing.push(() => app.close());
    await app.listen(0, '127.0.0.1');
    const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
    expect(await statuses(port, BAD)).toEqual(twice(404, BAD));
    expect(ran).toEqual([]);
    expect(await statuses(port, ['/reports'])).toEqual([200, 401]);
    expect(ran).toEqual(['/reports']);
  });
});
