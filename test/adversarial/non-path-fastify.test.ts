/**
 * Targets Fastify's router does not read as a path (`GET ftp://[::1/`, `GET *`; and, with find-my-way
 * before 9.10, `HTTP://h/x` or `http://h`): it walks them from their second character, so only a
 * wildcard route (`app.get('/*')`, `app.all('/*')`) matches them, with a parameter made of the
 * scheme's tail (`'*': 'tp://[::1/'`). A route-mode guard on such a route (route config, a
 * requirePermission or authenticate hook) refuses them as bad input, 400 `invalid_request` before the
 * token is read, as the Koa adapter refuses a target it cannot read (absolute-form-koa.test.ts) and API
 * mode one it cannot evaluate; the answer is the Koa guard's, byte for byte. Express never lets such a
 * target reach a guard unread (absolute-form-unparsable.test.ts); Nest on Fastify lets `HTTP://h/x` and
 * `http://h` reach one, and its guard refuses them the same way (non-path-nest.test.ts).
 */
import type { Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { bearerFor, listeningPort, resetToAliceReading, useEmulator } from '../fixtures.js';
import { rawSend } from './raw-http.js';

const emulator = useEmulator();
const NOT_A_PATH = ['ftp://[::1/', 'ftp://h/reports', '*', 'HTTP://h/reports', 'http://h', 'http://h?x=1'];
const closing: Array<() => Promise<unknown>> = [];
const ran: string[] = [];
let alice = '';

beforeEach(async () => {
  resetToAliceReading(emulator());
  alice = await bearerFor(emulator(), 'alice');
  ran.length = 0;
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

type Mode = 'route config on get' | 'route config on all' | 'onRequest requirePermission' | 'preHandler requirePermission' | 'onRequest authenticate';
const MODES: Mode[] = ['route config on get', 'route config on all', 'onRequest requirePermission', 'preHandler requirePermission', 'onRequest authenticate'];

async function startFastify(mode: Mode, passErrors = false): Promise<number> {
  const app: FastifyInstance = Fastify();
  closing.push(() => app.close());
  await app.register(genauthGuard, { ...emulator().guardOptions(), passErrors });
  const handler = async (request: { url: string }) => (ran.push(request.url), 'ran');
  const config = { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } };
  if (mode === 'route config on get') app.get('/*', config, handler);
  if (mode === 'route config on all') app.all('/*', config, handler);
  if (mode === 'onRequest requirePermission') app.get('/*', { onRequest: app.genauth.requirePermission('reports', 'reports:Read') }, handler);
  if (mode === 'preHandler requirePermission') app.get('/*', { preHandler: app.genauth.requirePermission('reports', 'reports:Read') }, handler);
  if (mode === 'onRequest authenticate') app.get('/*', { onRequest: app.genauth.authenticate() }, handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

/** A Koa app with a route-mode guard in front: its answer to a target it cannot read is the reference. */
async function startKoa(): Promise<number> {
  const guard = createKoaGuard(emulator().guardOptions());
  const app = new Koa();
  app.use(guard.requirePermission('reports', 'reports:Read'));
  const server: Server = app.listen(0, '127.0.0.1');
  closing.push(() => guard.close(), () => new Promise((resolve) => server.close(resolve)));
  return listeningPort(server);
}

const send = (port: number, target: string, authorization: string | null) =>
  rawSend(port, { method: 'GET', target, headers: authorization === null ? [] : [['authorization', authorization]] });

describe.each(MODES)('Fastify, %s on a wildcard route: a target the router does not read as a path', (mode) => {
  it.each(NOT_A_PATH)('%s: 400 invalid_request with a token, without one and with a bad one; no handler, no upstream call', async (target) => {
    const port = await startFastify(mode);
    emulator().resetCalls();
    for (const authorization of [alice, null, 'Bearer not-a-jwt']) {
      const answer = await send(port, target, authorization);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.headers['www-authenticate']).toMatch(/error="invalid_request"/);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: 'ERR_INVALID_REQUEST' });
    }
    expect(ran).toEqual([]);
    // Refused before the token: no key set fetched, no grants loaded.
    expect(emulator().callCount()).toBe(0);
    // The app keeps serving, origin-form and absolute-form with a path alike.
    for (const target of ['/reports', 'http://h/reports']) {
      expect((await send(port, target, alice)).status).toBe(200);
      expect((await send(port, target, null)).status).toBe(401);
    }
    expect(ran).toEqual(['/reports', 'http://h/reports']);
  });
});

it("the answer is the Koa guard's for a target it cannot read: status, headers that matter, body", async () => {
  const fastifyPort = await startFastify('route config on get');
  const koaPort = await startKoa();
  const fastify = await send(fastifyPort, 'ftp://[::1/', alice);
  const koa = await send(koaPort, 'ftp://[::1/', alice);
  expect(koa.status).toBe(400);
  expect(fastify.status).toBe(koa.status);
  expect(fastify.headers['content-type']).toBe(koa.headers['content-type']);
  expect(fastify.headers['www-authenticate']).toBe(koa.headers['www-authenticate']);
  expect(fastify.body).toBe(koa.body);
});

it('passErrors: the 400 goes to Fastify’s error handler, which answers with its status', async () => {
  const port = await startFastify('route config on get', true);
  const answer = await send(port, 'ftp://[::1/', alice);
  expect(answer.status).toBe(400);
  expect(answer.headers['www-authenticate']).toMatch(/error="invalid_request"/);
  expect(ran).toEqual([]);
});
