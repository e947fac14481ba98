// Runs every example file the documentation includes code from (test/docs/snippets.test.ts checks that
// the blocks are copies of their regions), over real HTTP against the emulator, built package and all:
// examples import `genauth-guard/*` as users do, so this file needs `npm run build` first.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { redisTestsRun, startRedisServer } from '../redis/server.js';
import grantsList from '../../examples/api-mode/grants.json' with { type: 'json' };
import { emulatorEnv } from '../../src/cli/emulator.js';

const emulator = useEmulator();
const WEBHOOK_SECRET = 'docs-webhook-secret-0123456789';
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The environment variables of ENV.md, pointing at the emulator. */
function setTenantEnvironment(): void {
  Object.assign(process.env, { ...emulatorEnv(emulator()), GENAUTH_WEBHOOK_SECRET: WEBHOOK_SECRET });
}

beforeEach(() => {
  seedStandardTenant(emulator());
  setTenantEnvironment();
});

function listen(app: { listen(port: number, host: string): Server }): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return new Promise((resolve) => server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

// The README quick start (examples/express/quickstart.ts) is compiled against the packed tarball and run
// against the emulator by test/package/pack.test.ts.

describe('docs/express.md (examples/express/guide.ts)', () => {
  it('routes: resource functions, anyOf, resourceType and authenticate()', async () => {
    const { routesApp } = await import('../../examples/express/guide.js');
    const { app, guard } = routesApp(emulator().guardOptions());
    closers.push(() => guard.close());
    const alice = await bearerFor(emulator(), 'alice');
    const carol = await bearerFor(emulator(), 'carol');
    await request(app).post('/api/v1/servers/1/start').set('authorization', alice).expect(200, { by: 'alice' });
    await request(app).get('/api/v1/reports').set('authorization', await bearerFor(emulator(), 'bob')).expect(200);
    await request(app).get('/api/v1/reports').set('authorization', carol).expect(403);
    await request(app).post('/api/v1/servers/1/stop').set('authorization', alice).expect(200); // ecs:1 is of type API
    emulator().addGrants('alice', [{ resourceCode: 'ecs:2', resourceType: 'DATA', actions: ['ecs:Stop'] }]);
    await guard.invalidateUser('alice');
    await request(app).post('/api/v1/servers/2/stop').set('authorization', alice).expect(403); // a DATA grant
    await request(app).get('/api/v1/me').set('authorization', carol).expect(200, { userId: 'carol' });
  });

  it('check(): decides outside HTTP', async () => {
    const { checkOutsideHttp } = await import('../../examples/express/guide.js');
    const decision = await checkOutsideHttp(emulator().guardOptions());
    expect(decision.allowed).toBe(true);
  });
});

describe('docs/api-mode.md (examples/express/guide.ts, examples/api-mode/offline.ts)', () => {
  it('API mode with cors() in front: grants by path and method, public paths, preflights', async () => {
    emulator().setRawGrants('alice', grantsList);
    const { apiModeApp } = await import('../../examples/express/guide.js');
    const { app, guard } = apiModeApp(emulator().guardOptions());
    closers.push(() => guard.close());
    const alice = await bearerFor(emulator(), 'alice');
    await request(app).get('/api/v1/users').set('authorization', alice).expect(200);
    await request(app).delete('/api/v1/users/1').set('authorization', alice).expect(403);
    await request(app).get('/api/v1/users').expect(401);
    await request(app).get('/health').expect(200);
    await request(app).options('/api/v1/users').set('origin', 'https://app.example').set('access-control-request-method', 'GET').expect(204);
  });

  it('shows the grant set the tests serve', () => {
    const page = readFileSync(new URL('../../docs/api-mode.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(page);
    expect(JSON.parse(block![1]!)).toEqual(grantsList);
  });

  it('matchApi(): the same decisions offline', async () => {
    const { offlineExample } = await import('../../examples/api-mode/offline.js');
    const { denied, refused, otherCase, folded, onFastify } = offlineExample();
    expect(denied).toMatchObject({ allowed: false, reason: 'denied', action: 'delete', grant: { code: 'admin' } });
    expect(refused).toMatchObject({ allowed: false, reason: 'invalid_target', problem: 'dot_segment' });
    expect(otherCase).toMatchObject({ allowed: false, reason: 'no_grant' });
    expect(folded).toMatchObject({ allowed: true, reason: 'allowed', grant: { code: 'api-v1' } });
    expect(onFastify).toMatchObject({ allowed: false, reason: 'no_grant' });
  });
});

describe('docs/genauth-setup.md: the webhook route (examples/express/guide.ts)', () => {
  it('a grant revoked in GenAuth is refused on the next request', async () => {
    const { webhookApp } = await import('../../examples/express/guide.js');
    const { app, guard } = webhookApp(emulator().guardOptions());
    closers.push(() => guard.close());
    const url = await listen(app);
    const remove = emulator().addWebhook({ url: `${url}/hooks/genauth`, secret: WEBHOOK_SECRET });
    closers.push(remove);
    const alice = await bearerFor(emulator(), 'alice');
    await request(url).get('/api/v1/reports').set('authorization', alice).expect(200);
    emulator().setGrants('alice', []);
    await emulator().webhooksSettled();
    await request(url).get('/api/v1/reports').set('authorization', alice).expect(403);
    await request(url).post('/hooks/genauth').send({ eventName: 'login', data: {} }).expect(401);
  });
});

describe('docs/koa.md (examples/koa/guide.ts)', () => {
  it('routes, authenticate() and the webhook route', async () => {
    const { koaApp } = await import('../../examples/koa/guide.js');
    const { app, guard } = koaApp(emulator().guardOptions());
    closers.push(() => guard.close());
    const url = await listen(app);
    await request(url).post('/api/v1/servers/1/start').set('authorization', await bearerFor(emulator(), 'alice')).expect(200, { by: 'alice' });
    await request(url).post('/api/v1/servers/1/start').set('authorization', await bearerFor(emulator(), 'bob')).expect(403);
    await request(url).get('/api/v1/me').expect(401);
    await request(url).post('/hooks/genauth').send({ eventName: 'login', data: {} }).expect(401);
  });

  it('API mode', async () => {
    emulator().setRawGrants('alice', grantsList);
    const { koaApiApp } = await import('../../examples/koa/guide.js');
    const { app, guard } = koaApiApp(emulator().guardOptions());
    closers.push(() => guard.close());
    const url = await listen(app);
    await request(url).get('/health').expect(200, { path: '/health', user: null });
    await request(url).get('/api/v1/users').set('authorization', await bearerFor(emulator(), 'alice')).expect(200);
    await request(url).delete('/api/v1/admin/x').set('authorization', await bearerFor(emulator(), 'alice')).expect(403);
  });
});

describe('docs/fastify.md (examples/fastify/guide.ts)', () => {
  it('route config, hooks and public routes', async () => {
    emulator().addGrants('alice', [{ resourceCode: 'order:7', actions: ['order:Create'] }]);
    const { fastifyApp } = await import('../../examples/fastify/guide.js');
    const app = await fastifyApp(emulator().guardOptions());
    closers.push(() => app.close());
    const alice = await bearerFor(emulator(), 'alice');
    expect((await app.inject({ method: 'POST', url: '/api/v1/servers/1/start', headers: { authorization: alice } })).statusCode).toBe(200);
    const order = { method: 'POST' as const, url: '/api/v1/orders', headers: { authorization: alice } };
    expect((await app.inject({ ...order, payload: { id: '7' } })).statusCode).toBe(200);
    expect((await app.inject({ ...order, payload: { id: '8' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('API mode on the instance, frameworkErrors and the webhook route', async () => {
    emulator().setRawGrants('alice', grantsList);
    const { fastifyApiApp } = await import('../../examples/fastify/guide.js');
    const app = await fastifyApiApp(emulator().guardOptions());
    closers.push(() => app.close());
    const alice = await bearerFor(emulator(), 'alice');
    expect((await app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: alice } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/x', headers: { authorization: alice } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/hooks/genauth', payload: { eventName: 'login', data: {} } })).statusCode).toBe(401);
  });
});

describe('docs/nest.md (examples/nest/guide.ts)', () => {
  it('the module, the controllers and the testing kit', async () => {
    const { nestTestingExample } = await import('../../examples/nest/guide.js');
    const app = await nestTestingExample(emulator());
    closers.push(() => app.close());
    await request(app.getHttpServer()).get('/servers/health').expect(200);
    await request(app.getHttpServer()).post('/servers/1/start').set('authorization', await bearerFor(emulator(), 'bob')).expect(403);
    await request(app.getHttpServer()).post('/hooks/genauth').send({ eventName: 'login', data: {} }).expect(401);
    await request(app.getHttpServer())
      .post('/hooks/genauth')
      .set('x-authing-webhook-secret', WEBHOOK_SECRET)
      .send({ eventName: 'login', data: {} })
      .expect(204);
  });
});

describe('docs/testing.md (examples/testing/emulator.ts)', () => {
  it('an emulator of its own, both auth schemes, a minted token and the route report', async () => {
    const { emulatorExample, unguardedExample } = await import('../../examples/testing/emulator.js');
    const { emulator: own, guard, signed, token } = await emulatorExample();
    closers.push(() => own.close(), () => guard.close(), () => signed.close());
    for (const g of [guard, signed]) {
      const decision = await g.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
      expect(decision.allowed).toBe(true);
    }
    expect(own.calls.some((call) => call.auth === 'signature')).toBe(true);
    expect(own.calls.some((call) => call.auth === 'token')).toBe(true);
    const { routesApp } = await import('../../examples/express/guide.js');
    const { app } = routesApp(own.guardOptions());
    await request(app).get('/api/v1/reports').set('authorization', `Bearer ${token}`).expect(200);
    expect(unguardedExample(guard)).toEqual([{ method: 'GET', path: '/api/v1/forgotten' }]);
  });
});

describe('docs/observability.md (examples/observability/channels.ts)', () => {
  it('the channel subscriptions see a cold decision; explain() tells why', async () => {
    const counted: string[] = [];
    const timed: object[] = [];
    const { subscribe, explainExample } = await import('../../examples/observability/channels.js');
    const unsubscribe = subscribe({
      metrics: { count: (name) => counted.push(name), histogram: (_name, _value, tags) => timed.push(tags ?? {}) },
      log: { warn: () => {} },
    });
    closers.push(unsubscribe);
    const { createExpressGuard } = await import('genauth-guard/express');
    const guard = createExpressGuard(emulator().guardOptions());
    closers.push(() => guard.close());
    await guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
    expect(counted).toEqual(expect.arrayContaining(['decision', 'cache.miss']));
    expect(timed).toContainEqual(expect.objectContaining({ status: '2xx' }));
    const { why, api } = await explainExample(guard);
    expect(why).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'disk:9' } });
    expect(api.allowed).toBe(false);
  });
});

const redisRuns = redisTestsRun('test/docs/examples.test.ts');
describe.skipIf(!redisRuns)('docs/many-instances.md (examples/many-instances/redis.ts)', () => {
  const servers: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('connects the client, shares the tier and invalidates through Redis', async () => {
    const server = await startRedisServer();
    servers.push(server);
    process.env.REDIS_URL = server.url;
    const { sharedTier } = await import('../../examples/many-instances/redis.js');
    const { guard, redis } = await sharedTier(emulator().guardOptions());
    closers.push(() => redis.destroy(), () => guard.close());
    await guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
    expect(guard.cacheStats().redis?.writes).toBeGreaterThan(0); // the loaded grants went to Redis
  });
});
