// Fastify-specific behaviour (plugin, decorators, route config, hooks, passErrors, onClose); the shared
// cases (allow/deny/tokens/outage, byte-identical answers) live in test/conformance.
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { genauthFrameworkErrors, genauthGuard, isGuardError, type FastifyGuardOptions } from '../../src/adapters/fastify.js';
import { routeConfigSpec } from '../../src/adapters/fastify/route-config.js';
import type { GrantInput } from '../../src/testing/index.js';
import { useEmulator, resetToAliceStartingAndReading } from '../fixtures.js';

const RESOURCES = '/api/v3/get-user-authorized-resources';

const emulator = useEmulator();

const apps: FastifyInstance[] = [];
beforeEach(() => resetToAliceStartingAndReading(emulator()));
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function appWith(extra: Partial<FastifyGuardOptions> = {}): FastifyInstance {
  const app = Fastify();
  apps.push(app);
  app.register(genauthGuard, { ...emulator().guardOptions(), ...extra });
  return app;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const auth = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;

describe('Fastify plugin', () => {
  it('route config: protects the route and its HEAD twin, sets request.genauth', async () => {
    const app = appWith();
    let ran = 0;
    await app.after();
    app.get(
      '/servers/:id',
      { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } },
      async (req) => {
        ran++;
        return { user: req.genauth?.identity.userId, reason: req.genauth?.decision?.reason };
      },
    );
    const url = await listen(app);
    const token = await auth('alice');
    expect((await request(url).get('/servers/1').set('authorization', token)).body).toEqual({ user: 'alice', reason: 'allowed' });
    expect((await request(url).get('/servers/2').set('authorization', token)).status).toBe(403);
    const head = await request(url).head('/servers/1');
    expect(head.status).toBe(401);
    expect(head.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(ran).toBe(1);
  });

  it('route config also covers routes declared before the plugin finished loading', async () => {
    const app = Fastify();
    apps.push(app);
    app.register(genauthGuard, emulator().guardOptions());
    let ran = 0;
    // Not awaited: the plugin's onRoute hook does not see this route, the request hook still does.
    app.get('/early', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => {
      ran++;
      return 'ok';
    });
    const url = await listen(app);
    expect((await request(url).get('/early')).status).toBe(401);
    expect((await request(url).get('/early').set('authorization', await auth('alice'))).status).toBe(200);
    expect(ran).toBe(1);
  });

  it.each([
    ['route config alone', {}, { resource: 'reports', requirment: 'reports:Read' }],
    ['instance API mode', { api: {} }, { resource: 'reports', requirment: 'reports:Read' }],
    ['route config alone, not an object', {}, 'reports:Read'],
    ['instance API mode, not an object', { api: {} }, 'reports:Read'],
  ])('a malformed config on a route the onRoute check did not see is a 500 problem, never a crash (%s)', async (_label, extra, genauth) => {
    emulator().setGrants('alice', [{ resourceCode: 'early', resourceType: 'API', actions: ['*'], apiIdentifier: '/early' }]);
    const app = Fastify();
    apps.push(app);
    app.register(genauthGuard, { ...emulator().guardOptions(), ...extra });
    let ran = 0;
    // Declared before the plugin finished loading: its onRoute hook never validated this config.
    app.get('/early', { config: { genauth: genauth as never } }, async () => {
      ran++;
      return 'ok';
    });
    const url = await listen(app);
    const res = await request(url).get('/early').set('authorization', await auth('alice')).timeout(5_000);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.text)).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    expect(res.text).not.toMatch(/requirment|reports:Read|genauth-guard/);
    expect(ran).toBe(0);
  });

  it.each([
    ['route config alone', {}],
    ['instance API mode', { api: {} }],
  ])('a public config with a requirement beside it, on a route the onRoute check did not see, is a 500, never public (%s)', async (_label, extra) => {
    const app = Fastify();
    apps.push(app);
    app.register(genauthGuard, { ...emulator().guardOptions(), ...extra });
    let ran = 0;
    // The onRoute check refuses this config (public: true stands alone); declared before the plugin
    // finished loading, it escaped that check, and must not open the route it also protects.
    const genauth = { public: true, resource: 'reports', requirement: 'reports:Read' };
    app.get('/early', { config: { genauth: genauth as never } }, async () => {
      ran++;
      return 'ok';
    });
    const url = await listen(app);
    const res = await request(url).get('/early').timeout(5_000);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text)).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    expect(ran).toBe(0);
    expect(() => routeConfigSpec(genauth)).toThrow(TypeError);
  });

  it('registered inside an encapsulated plugin, it fails ready(): a route config outside that plugin would run unchecked', async () => {
    const app = Fastify();
    apps.push(app);
    let ran = 0;
    const handler = async () => {
      ran++;
      return 'ok';
    };
    const config = { config: { genauth: { resource: 'reports', requirement: 'reports:Admin' } } };
    app.register(async (scope) => {
      await scope.register(genauthGuard, emulator().guardOptions());
      scope.get('/inside', config, handler);
    });
    // Neither the plugin's onRoute check nor its onRequest hook reaches these: they ran for anyone.
    app.register(async (sibling) => {
      sibling.get('/sibling', config, handler);
    });
    app.get('/parent', config, handler);
    await expect(listen(app)).rejects.toThrow(/genauthGuard.*root instance/);
    expect(ran).toBe(0);
  });

  it('registered through fastify-plugin wrappers of the app, it is still on the root instance and guards every context', async () => {
    const app = Fastify();
    apps.push(app);
    app.register(fp(async (wrapper) => {
      await wrapper.register(genauthGuard, emulator().guardOptions());
    }));
    let ran = 0;
    app.register(async (sibling) => {
      sibling.get('/sibling', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => (ran++, 'ok'));
    });
    const url = await listen(app);
    expect((await request(url).get('/sibling')).status).toBe(401);
    expect((await request(url).get('/sibling').set('authorization', await auth('alice'))).status).toBe(200);
    expect(ran).toBe(1);
  });

  it('route config: the resource function sees params as the route schema makes them for the handler (a DENY on ecs:9 holds for /servers/09)', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'ecs:*', actions: ['ecs:Start'] },
      { resourceCode: 'ecs:9', actions: ['ecs:Start'], effect: 'DENY' },
    ]);
    const app = appWith();
    await app.after();
    const ran: unknown[] = [];
    const handler = async (req: { params: unknown }) => {
      ran.push((req.params as { id: unknown }).id);
      return 'started';
    };
    const config = { genauth: { resource: (req: { params: Record<string, string> }) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } };
    // Fastify's default validator coerces "09", "9.0", "+9" to the integer 9 after onRequest, where route config is checked.
    app.get('/servers/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } }, config }, handler);
    // A validator compiler of the app's own that returns the value (as type providers do).
    app.get(
      '/disks/:id',
      {
        schema: { params: { type: 'object' } },
        validatorCompiler: () => (data: unknown) => ({ value: { id: Number((data as { id: string }).id) } }),
        config,
      },
      handler,
    );
    // An asynchronous one, coercing in place as Ajv's $async validators do.
    app.get(
      '/volumes/:id',
      {
        schema: { params: { type: 'object' } },
        // Typed for the branded promise Fastify's types want; at run time any promise.
        validatorCompiler: (() => async (data: unknown) => {
          (data as { id: unknown }).id = Number((data as { id: string }).id);
          return true;
        }) as never,
        config,
      },
      handler,
    );
    const url = await listen(app);
    const alice = await auth('alice');
    for (const id of ['9', '09', '9.0', '+9', '9e0']) {
      for (const path of ['servers', 'disks', 'volumes']) {
        expect((await request(url).get(`/${path}/${id}`).set('authorization', alice)).status, `/${path}/${id}`).toBe(403);
      }
    }
    expect(ran).toEqual([]);
    for (const path of ['servers', 'disks', 'volumes']) expect((await request(url).get(`/${path}/01`).set('authorization', alice)).status).toBe(200);
    expect(ran).toEqual([1, 1, 1]);
    // The handler's request is Fastify's own, its params validated once by Fastify.
    expect((await request(url).get('/servers/x').set('authorization', alice)).status).toBe(400);
  });

  it('route config: the resource function sees the query string as the route schema makes it for the handler', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'ecs:*', actions: ['ecs:Start'] },
      { resourceCode: 'ecs:9', actions: ['ecs:Start'], effect: 'DENY' },
    ]);
    const app = appWith();
    await app.after();
    const ran: unknown[] = [];
    app.get(
      '/start',
      {
        schema: { querystring: { type: 'object', properties: { id: { type: 'integer' } } } },
        config: { genauth: { resource: (req) => `ecs:${(req.query as { id: unknown }).id}`, requirement: 'ecs:Start' } },
      },
      async (req) => {
        ran.push((req.query as { id: unknown }).id);
        return 'started';
      },
    );
    const url = await listen(app);
    const alice = await auth('alice');
    for (const id of ['9', '09', '9.0', '+9']) expect((await request(url).get(`/start?id=${id}`).set('authorization', alice)).status, id).toBe(403);
    expect((await request(url).get('/start?id=01').set('authorization', alice)).status).toBe(200);
    expect(ran).toEqual([1]);
  });

  it("SourceIp is the socket's peer whatever Fastify's trustProxy says: a client's X-Forwarded-For does not meet an internal-network condition", async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'reports', actions: ['reports:Read'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }] },
    ]);
    const app = Fastify({ trustProxy: true });
    apps.push(app);
    app.register(genauthGuard, emulator().guardOptions());
    await app.after();
    let ran = 0;
    app.get('/r', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => (ran++, 'ok'));
    app.get('/ip', async (req) => req.ip);
    const url = await listen(app);
    // Fastify itself believes the header (trustProxy); the guard reads the peer, 127.0.0.1.
    expect((await request(url).get('/ip').set('x-forwarded-for', '10.1.2.3')).text).toBe('10.1.2.3');
    expect((await request(url).get('/r').set('authorization', await auth('alice')).set('x-forwarded-for', '10.1.2.3')).status).toBe(403);
    expect(ran).toBe(0);
  });

  it('public routes and unprotected routes run without a token; request.genauth is null', async () => {
    const app = appWith();
    await app.after();
    app.get('/health', { config: { genauth: { public: true } } }, async (req) => ({ genauth: req.genauth }));
    app.get('/open', async (req) => ({ genauth: req.genauth }));
    const url = await listen(app);
    expect((await request(url).get('/health')).body).toEqual({ genauth: null });
    expect((await request(url).get('/open')).body).toEqual({ genauth: null });
  });

  it('a malformed route config fails when the route is added', async () => {
    const app = appWith();
    await app.after();
    expect(() => app.get('/bad', { config: { genauth: { resource: '', requirement: 'x' } } }, async () => 'no')).toThrow(TypeError);
  });

  it('requirePermission as preHandler can use the parsed body; methods work off the decorator', async () => {
    const app = appWith();
    await app.after();
    const { requirePermission, authenticate } = app.genauth;
    app.post(
      '/start',
      { preHandler: requirePermission((req) => `ecs:${(req.body as { id: string }).id}`, 'ecs:Start') },
      async (req) => ({ user: req.genauth?.identity.userId }),
    );
    app.get('/me', { onRequest: authenticate() }, async (req) => ({ user: req.genauth?.identity.userId, decision: req.genauth?.decision ?? null }));
    const url = await listen(app);
    const token = await auth('alice');
    expect((await request(url).post('/start').set('authorization', token).send({ id: '1' })).body).toEqual({ user: 'alice' });
    expect((await request(url).post('/start').set('authorization', token).send({ id: '2' })).status).toBe(403);
    expect((await request(url).get('/me').set('authorization', token)).body).toEqual({ user: 'alice', decision: null });
  });

  it('a resource function that throws fails closed with 500 and reveals nothing', async () => {
    const app = appWith();
    await app.after();
    let ran = 0;
    app.get('/x', { onRequest: app.genauth.requirePermission(() => { throw new Error('boom secret-ish'); }, 'x') }, async () => {
      ran++;
      return 'no';
    });
    const res = await request(await listen(app)).get('/x').set('authorization', await auth('alice'));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'ERR_INTERNAL' });
    expect(res.text).not.toMatch(/boom/);
    expect(ran).toBe(0);
  });

  describe('passErrors', () => {
    it("Fastify's default error handler gets the status and headers right", async () => {
      const app = appWith({ passErrors: true });
      await app.after();
      app.get('/x', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'no');
      const url = await listen(app);
      const missing = await request(url).get('/x');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(missing.body).toMatchObject({ statusCode: 401, code: 'ERR_MISSING_TOKEN' });

      emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
      const down = await request(url).get('/x').set('authorization', await auth('alice'));
      expect(down.status).toBe(503);
      expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('a custom error handler receives the GuardError', async () => {
      const app = appWith({ passErrors: true });
      await app.after();
      let caught: unknown;
      app.setErrorHandler((error, _req, reply) => {
        caught = error;
        return reply.code(418).send('mine');
      });
      app.get('/x', { onRequest: app.genauth.requirePermission('reports', 'reports:Read') }, async () => 'no');
      const res = await request(await listen(app)).get('/x');
      expect(res.status).toBe(418);
      expect(isGuardError(caught)).toBe(true);
      expect(caught).toMatchObject({ code: 'ERR_MISSING_TOKEN', statusCode: 401 });
    });
  });

  describe('API mode', () => {
    const API_GRANTS = [
      { resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers' },
      { resourceCode: 'reports', actions: ['reports:Read'] },
    ] satisfies GrantInput[];

    it('the api option covers every route; public routes and publicPaths skip it; route config still applies', async () => {
      emulator().setGrants('alice', API_GRANTS);
      emulator().setGrants('bob', API_GRANTS.slice(0, 1));
      const app = appWith({ api: { publicPaths: ['/health'] } });
      await app.after();
      let ran = 0;
      const handler = async () => {
        ran++;
        return 'ok';
      };
      app.get('/api/v1/servers', handler);
      app.get('/api/v1/servers/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, handler);
      app.get('/health', handler);
      app.get('/open', { config: { genauth: { public: true } } }, handler);
      const url = await listen(app);
      const alice = await auth('alice');
      const bob = await auth('bob');
      expect((await request(url).get('/api/v1/servers')).status).toBe(401);
      expect((await request(url).get('/api/v1/servers').set('authorization', alice)).status).toBe(200);
      expect((await request(url).post('/api/v1/servers').set('authorization', alice)).status).toBe(403); // no route, still the guard
      expect((await request(url).get('/health')).status).toBe(200);
      expect((await request(url).get('/open')).status).toBe(200);
      // API grant missing for this path: 403 from API mode, whatever the route config says.
      expect((await request(url).get('/api/v1/servers/reports').set('authorization', alice)).status).toBe(403);
      expect(ran).toBe(3);
    });

    it('both API mode and route config must allow', async () => {
      emulator().setGrants('alice', [
        ...API_GRANTS,
        { resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/*' },
      ]);
      emulator().setGrants('bob', [{ resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/*' }]);
      const app = appWith({ api: {} });
      await app.after();
      app.get('/api/v1/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async (req) => ({
        reason: req.genauth?.decision?.reason,
      }));
      const url = await listen(app);
      expect((await request(url).get('/api/v1/reports').set('authorization', await auth('alice'))).body).toEqual({ reason: 'allowed' });
      expect((await request(url).get('/api/v1/reports').set('authorization', await auth('bob'))).status).toBe(403);
    });

    it('fastify.genauth.api() as a hook on chosen routes', async () => {
      emulator().setGrants('alice', API_GRANTS);
      const app = appWith();
      await app.after();
      app.get('/api/v1/servers', { onRequest: app.genauth.api() }, async (req) => ({ user: req.genauth?.identity.userId }));
      app.get('/api/v1/other', { onRequest: app.genauth.api() }, async () => 'no');
      const url = await listen(app);
      const alice = await auth('alice');
      expect((await request(url).get('/api/v1/servers').set('authorization', alice)).body).toEqual({ user: 'alice' });
      expect((await request(url).get('/api/v1/other').set('authorization', alice)).status).toBe(403);
    });

    it('rewriteUrl: API mode judges the path Fastify routes, not the alias the client sent', async () => {
      // A legacy prefix aliased onto the current routes: a DENY on the routed path must hold through the alias.
      emulator().setGrants('alice', [
        { resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/*' },
        { resourceCode: 'admin', resourceType: 'API', actions: ['*'], apiIdentifier: '/v2/admin/*', effect: 'DENY' },
      ]);
      const app = Fastify({ rewriteUrl: (req) => (req.url ?? '/').replace(/^\/v1\//, '/v2/') });
      apps.push(app);
      app.register(genauthGuard, { ...emulator().guardOptions(), api: { publicPaths: ['/v1/status'] } });
      await app.after();
      app.get('/v2/admin/keys', async () => 'secret');
      app.get('/v2/status', async () => 'ok');
      app.get('/v2/users', async () => 'users');
      const url = await listen(app);
      const alice = await auth('alice');
      expect((await request(url).get('/v2/admin/keys').set('authorization', alice)).status).toBe(403);
      expect((await request(url).get('/v1/admin/keys').set('authorization', alice)).status).toBe(403);
      expect((await request(url).get('/v1/users').set('authorization', alice)).status).toBe(200);
      // publicPaths are the routed paths too: /v1/status is /v2/status, which is not public.
      expect((await request(url).get('/v1/status')).status).toBe(401);
    });

    it('malformed api options fail registration or hook creation', async () => {
      const app = Fastify();
      app.register(genauthGuard, { ...emulator().guardOptions(), api: { publicPaths: ['no-slash'] } });
      await expect(app.ready()).rejects.toThrow(TypeError);
      const ok = appWith();
      await ok.after();
      expect(() => ok.genauth.api({ caseSensitve: true } as never)).toThrow(TypeError);
    });

    it('api: undefined (an unset variable) fails registration naming api, never runs without API mode', async () => {
      const app = Fastify();
      app.register(genauthGuard, { ...emulator().guardOptions(), api: undefined });
      await expect(app.ready()).rejects.toThrow(/option "api" is set to undefined/);
    });

    it('genauthFrameworkErrors: without API mode, Fastify answers its own router errors', async () => {
      const app = Fastify({ frameworkErrors: genauthFrameworkErrors });
      apps.push(app);
      app.register(genauthGuard, emulator().guardOptions());
      app.get('/x/:id', async () => 'no');
      const res = await request(await listen(app)).get('/x/%ZZ');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'FST_ERR_BAD_URL' });
    });

    it('genauthFrameworkErrors: with API mode, the guard answers a target Fastify cannot route', async () => {
      emulator().setGrants('alice', API_GRANTS);
      const app = Fastify({ frameworkErrors: genauthFrameworkErrors });
      apps.push(app);
      app.register(genauthGuard, { ...emulator().guardOptions(), api: {} });
      app.get('/x/:id', async () => 'no');
      const res = await request(await listen(app)).get('/x/%ZZ').set('authorization', await auth('alice'));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_REQUEST' });
    });
  });

  it('closes the guard with the instance', async () => {
    const app = Fastify();
    app.register(genauthGuard, emulator().guardOptions());
    await app.ready();
    const guard = app.genauth;
    await expect(guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })).resolves.toMatchObject({ allowed: true });
    await app.close();
    // Closed: an uncached user can no longer be loaded (fails closed, as an outage).
    await expect(guard.check({ userId: 'bob', resource: 'reports', action: 'reports:Read' })).rejects.toMatchObject({ status: 503 });
  });

  it('a configuration mistake fails registration', async () => {
    const app = Fastify();
    app.register(genauthGuard, { ...emulator().guardOptions(), jwt: { algorithms: [] } as never });
    await expect(app.ready()).rejects.toThrow(TypeError);
  });
});
