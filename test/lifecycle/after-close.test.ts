// A closed guard decides nothing, on every adapter: after close() its GenAuth connections are gone and,
// with cache.redis, it no longer hears other instances' invalidations, so grants it still caches may
// have been revoked since. Every protected request is a 503 (never a 200 from those grants, never a
// 401 or 403: the request was not judged), public API-mode paths still pass, and check(), explain()
// and ready() reject.
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { isGuardError } from '../../src/errors.js';
import { GuardNotReadyError } from '../../src/core/readiness.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { express4Row, express5Row } from '../conformance/apps/express.js';
import { fastifyRow } from '../conformance/apps/fastify.js';
import { koa2Row, koaRow } from '../conformance/apps/koa.js';
import { nestExpressRow } from '../conformance/apps/nest-express.js';
import { nestFastifyRow } from '../conformance/apps/nest-fastify.js';
import { send, type Answer } from '../conformance/http.js';
import type { AdapterRow, RunningApp } from '../conformance/row.js';
import { bearerFor, seedStandardTenant } from '../fixtures.js';

const ROWS: AdapterRow[] = [express4Row, express5Row, koaRow, koa2Row, fastifyRow, nestExpressRow, nestFastifyRow];

let emulator: GenAuthEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});

/** The 503 of a closed guard: problem+json, a Retry-After, the handler not run. */
function expectClosed(answer: Answer, handled: number): void {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.headers['retry-after']).toBeDefined();
  expect(answer.headers['www-authenticate']).toBeUndefined();
  expect(JSON.parse(answer.body)).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  expect(handled).toBe(0);
}

describe.each(ROWS)('$name: requests after close()', (row) => {
  let app: RunningApp;
  let handled: number;

  beforeEach(() => {
    seedStandardTenant(emulator);
    handled = 0;
  });
  afterEach(async () => {
    await app.close(); // closes the guard again: that must resolve too
  });

  it('every protected route answers 503: a cached user, an uncached one, no token, a bad header', async () => {
    app = await row.start({ options: emulator.guardOptions(), handled: () => void handled++ });
    const alice = await bearerFor(emulator, 'alice');
    expect((await send(app.port, { target: '/api/v1/reports', headers: { authorization: alice } })).status).toBe(200);
    handled = 0;
    await app.core.close();
    const requests = [
      { target: '/api/v1/reports', headers: { authorization: alice } }, // cached grants and token
      { target: '/api/v1/me', headers: { authorization: alice } }, // authenticate() only
      { target: '/api/v1/reports', headers: { authorization: await bearerFor(emulator, 'bob') } },
      { target: '/api/v1/reports' }, // no token: not a 401
      { target: '/api/v1/reports', headers: { authorization: 'Bearer not-a-token' } }, // not a 401
      { method: 'DELETE', target: '/api/v1/disks/9', headers: { authorization: alice } }, // denied before: not a 403
    ];
    for (const request of requests) expectClosed(await send(app.port, request), handled);
  });

  it('API mode: protected paths answer 503, public paths still pass', async () => {
    if (row.startApi === undefined) return;
    emulator.setGrants('alice', [{ resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers' }]);
    app = await row.startApi({ options: emulator.guardOptions(), handled: () => void handled++, api: { publicPaths: ['/health'] } });
    const alice = await bearerFor(emulator, 'alice');
    expect((await send(app.port, { target: '/api/v1/servers', headers: { authorization: alice } })).status).toBe(200);
    handled = 0;
    await app.core.close();
    expectClosed(await send(app.port, { target: '/api/v1/servers', headers: { authorization: alice } }), handled);
    expectClosed(await send(app.port, { target: '/api/v1/servers' }), handled);
    const health = await send(app.port, { target: '/health' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true, user: null });
  });

  it('check() and explain() reject with the 503; ready() rejects naming the close', async () => {
    app = await row.start({ options: emulator.guardOptions(), handled: () => void handled++ });
    const { core } = app;
    await core.ready();
    expect((await core.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })).allowed).toBe(true);
    await core.close();
    const refused = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
    for (const error of [await refused(core.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })), await refused(core.explain({ userId: 'alice', resource: 'reports', action: 'reports:Read' }))]) {
      expect(isGuardError(error)).toBe(true);
      expect(error).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    }
    const notReady = await refused(core.ready());
    expect(notReady).toBeInstanceOf(GuardNotReadyError);
    expect((notReady as GuardNotReadyError).reasons.map((reason) => reason.kind)).toEqual(['closed']);
  });
});

// Each way of naming the caller refuses on its own once closed (the check sits in each, not in a
// wrapper): a getToken hook's token and an identity.resolve identity, cached before the close.
describe('a caller named by a hook: requests after close()', () => {
  type Headers = Record<string, string | undefined>;
  const hooks: Array<[string, () => Promise<[Record<string, unknown>, Record<string, string>]>]> = [
    ['getToken', async () => [{ getToken: (req: { headers: Headers }) => req.headers['x-token'] }, { 'x-token': (await bearerFor(emulator, 'alice')).slice('Bearer '.length) }]],
    ['identity.resolve', async () => [{ jwt: undefined, identity: { resolve: (req: { headers: Headers }) => req.headers['x-user'] } }, { 'x-user': 'alice' }]],
  ];

  it.each(hooks)('%s: a cached caller is a 503, the handler not run', async (_hook, setUp) => {
    seedStandardTenant(emulator);
    const [extra, headers] = await setUp();
    const guard = createExpressGuard({ ...emulator.guardOptions(), ...extra } as ExpressGuardOptions);
    let handled = 0;
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => {
      handled++;
      res.send('ok');
    });
    expect((await request(app).get('/reports').set(headers)).status).toBe(200);
    await guard.close();
    const res = await request(app).get('/reports').set(headers);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    expect(handled).toBe(1);
  });
});
