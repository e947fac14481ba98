/**
 * A letter sent percent-encoded (`/%68ealth`, `/api/v1/%75sers`). The guard decodes it once (`%68` is
 * `h`), but Express, @koa/router and Nest on Express match the raw target: `%68ealth` is not the route
 * `/health`, so they dispatch the request to a parameter or wildcard route instead (`/*`,
 * `/api/v1/:name`). Judged as `/health`, a public path let a request without a token run the catch-all
 * handler; judged as `/api/v1/users`, an ALLOW on that path let it run the `/api/v1/:name` handler.
 * Found by the differential path test (differential.test.ts). find-my-way (Fastify) decodes most
 * escapes before routing but not `%24 %26 %2B %2C %3A %3D %40` (`$&+,:=@`), which the guard decoded too.
 *
 * A DENY still matches the decoded spelling (it must catch every spelling some router dispatches to its
 * path); an ALLOW pattern or a public path matches a segment with such an escape only by a parameter
 * or a wildcard, never by a literal.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genauthGuard } from '../../src/adapters/fastify.js';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { matchApi } from '../../src/policy/api-match.js';
import { indexGrants } from '../../src/policy/grants.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { startExpress, startKoa, startNest, type AppInput, type PathApp } from './apps.js';
import { raw } from './raw.js';

const GRANTS: AuthorizedResource[] = [
  { resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/v1/users', actions: ['read'], effect: 'ALLOW' },
  { resourceCode: 'user', resourceType: 'API', apiIdentifier: '/api/v1/users/:id', actions: ['read'], effect: 'ALLOW' },
];

let emulator: GenAuthEmulator;
let authorization = '';
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('bob', GRANTS);
  authorization = `Bearer ${await emulator.mintToken('bob')}`;
});
afterAll(async () => {
  await emulator.close();
});

const RAW_ROUTERS: Array<[string, (input: AppInput) => Promise<PathApp>]> = [
  ['Express 4', (input) => startExpress(4, {}, input)],
  ['Express 5', (input) => startExpress(5, {}, input)],
  ['Express 5, case sensitive routing', (input) => startExpress(5, { settings: { 'case sensitive routing': true } }, input)],
  ['Koa 2 with @koa/router', (input) => startKoa(2, {}, input)],
  ['Koa 3 with @koa/router', (input) => startKoa(3, {}, input)],
  ['Nest (express)', (input) => startNest({ platform: 'express' }, input)],
];

describe.each(RAW_ROUTERS)('%s (routes the raw target)', (_label, start) => {
  let app: PathApp;
  beforeAll(async () => {
    app = await start({ options: emulator.guardOptions(), api: { publicPaths: ['/health', '/docs/:page'] } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('control: the public path and the granted ones reach their own handlers', async () => {
    app.ran.length = 0;
    expect((await raw(app.port, 'GET', '/health')).status).toBe(200);
    expect((await raw(app.port, 'GET', '/docs/intro')).status).toBe(200);
    expect((await raw(app.port, 'GET', '/api/v1/users', { authorization })).status).toBe(200);
    expect((await raw(app.port, 'GET', '/api/v1/users/%37', { authorization })).status).toBe(200);
    expect(app.ran.map((r) => r.route)).toEqual(['health', 'docs', 'users', 'user']);
  });

  it.each(['/%68ealth', '/healt%68', '/%64ocs/intro', '/d%6Fcs/intro'])('the public path spelled %s opens no other route', async (target) => {
    app.ran.length = 0;
    const answer = await raw(app.port, 'GET', target);
    expect(app.ran).toEqual([]);
    expect(answer.status).toBe(401);
  });

  it.each(['/api/v1/%75sers', '/api/v1/user%73', '/%61pi/v1/users', '/api/v1/%75sers/7'])('an ALLOW on /api/v1/users does not run another route for %s', async (target) => {
    app.ran.length = 0;
    const answer = await raw(app.port, 'GET', target, { authorization });
    expect(app.ran).toEqual([]);
    expect(answer.status).toBe(403);
  });
});

describe('Express 5 with case sensitive routing: an escape in lower-case hex', () => {
  it('an ALLOW on /api/v1/café does not run /api/v1/:name for /api/v1/caf%c3%a9 (the route is caf%C3%A9)', async () => {
    emulator.setGrants('carol', [{ resourceCode: 'cafe', resourceType: 'API', apiIdentifier: '/api/v1/café', actions: ['read'], effect: 'ALLOW' }]);
    const carol = `Bearer ${await emulator.mintToken('carol')}`;
    const app = await startExpress(5, { settings: { 'case sensitive routing': true } }, { options: emulator.guardOptions(), api: {} });
    try {
      expect((await raw(app.port, 'GET', '/api/v1/caf%C3%A9', { authorization: carol })).status).toBe(200);
      expect(app.ran.map((r) => r.route)).toEqual(['cafe']);
      app.ran.length = 0;
      // Express compares the raw target case-sensitively: `%c3%a9` is not the route, `/api/v1/:name` runs.
      expect((await raw(app.port, 'GET', '/api/v1/caf%c3%a9', { authorization: carol })).status).toBe(403);
      expect(app.ran).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('Fastify (decodes most escapes before routing)', () => {
  it('a public path spelled with %3A, which find-my-way leaves encoded, does not open the parameter route', async () => {
    const app = Fastify();
    await app.register(genauthGuard, { ...emulator.guardOptions(), api: { publicPaths: ['/docs/a:b'] } });
    const ran: string[] = [];
    // `::` is a literal colon in a find-my-way route.
    app.get('/docs/a::b', async () => (ran.push('literal'), { ok: true }));
    app.get('/docs/:page', async () => (ran.push('page'), { ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      expect((await raw(port, 'GET', '/docs/a:b')).status).toBe(200);
      expect(ran).toEqual(['literal']);
      // find-my-way keeps %3A: no literal route matches, the `/docs/:page` handler would run.
      expect((await raw(port, 'GET', '/docs/a%3Ab')).status).toBe(401);
      expect((await raw(port, 'GET', '/docs/a%3ab')).status).toBe(401);
      expect(ran).toEqual(['literal']);
      // Letters find-my-way decodes before routing: still not a literal for the guard (fails closed).
      expect((await raw(port, 'GET', '/docs/%61:b')).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('the rule, offline', () => {
  const index = indexGrants(GRANTS);
  it('an escape a segment decodes to is matched by a parameter or a wildcard, never by an ALLOW literal', () => {
    expect(matchApi(index, 'GET', '/api/v1/users').allowed).toBe(true);
    expect(matchApi(index, 'GET', '/api/v1/users/%37').allowed).toBe(true);
    expect(matchApi(index, 'GET', '/api/v1/%75sers')).toMatchObject({ allowed: false, reason: 'no_grant', path: '/api/v1/users' });
    expect(matchApi(index, 'GET', '/api/v1/%75sers/7')).toMatchObject({ allowed: false, reason: 'no_grant' });
    // A DENY still catches the decoded spelling.
    const deny = indexGrants([
      { resourceCode: 'all', resourceType: 'API', apiIdentifier: '/*', actions: ['read'], effect: 'ALLOW' },
      { resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/v1/users', actions: ['*'], effect: 'DENY' },
    ] as never);
    expect(matchApi(deny, 'GET', '/api/v1/%75sers')).toMatchObject({ allowed: false, reason: 'denied' });
    expect(matchApi(deny, 'GET', '/api/v1/%75sers/7')).toMatchObject({ allowed: true });
  });
});
