// Koa-specific behaviour; the shared cases (allow/deny/tokens/outage, byte-identical answers) live in
// test/conformance.
import type { Server } from 'node:http';
import express from 'express';
import express4 from 'express4';
import Koa from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKoaGuard, isGuardError, type KoaGuard } from '../../src/adapters/koa.js';
import { useEmulator, resetToAliceStartingAndReading } from '../fixtures.js';

const RESOURCES = '/api/v3/get-user-authorized-resources';

const emulator = useEmulator();

const servers: Server[] = [];
const guards: KoaGuard[] = [];
beforeEach(() => resetToAliceStartingAndReading(emulator()));
afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  await Promise.all(guards.splice(0).map((guard) => guard.close()));
});

function guardFor(extra: { passErrors?: boolean } = {}): KoaGuard {
  const guard = createKoaGuard({ ...emulator().guardOptions(), ...extra });
  guards.push(guard);
  return guard;
}

function serve(app: Koa): Server {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  return server;
}

const auth = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;

describe('Koa adapter', () => {
  it('gives resource functions the ctx and sets ctx.state.genauth; methods work off the guard', async () => {
    const { requirePermission } = guardFor();
    const app = new Koa();
    const router = new Router();
    let seen: unknown;
    router.post(
      '/servers/:id/start',
      requirePermission((ctx) => {
        seen = ctx.params.id;
        return `ecs:${ctx.params.id}`;
      }, 'ecs:Start'),
      (ctx) => {
        ctx.body = { user: ctx.state.genauth?.identity.userId, reason: ctx.state.genauth?.decision?.reason };
      },
    );
    app.use(router.routes());
    const res = await request(serve(app)).post('/servers/1/start').set('authorization', await auth('alice'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: 'alice', reason: 'allowed' });
    expect(seen).toBe('1');
  });

  it.each([
    ['Koa 3', Koa],
    ['Koa 2', Koa2],
  ] as const)("SourceIp is the socket's peer whatever app.proxy says: a client's X-Forwarded-For does not meet an internal-network condition (%s)", async (_label, App) => {
    emulator().setGrants('alice', [
      { resourceCode: 'reports', actions: ['reports:Read'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }] },
    ]);
    const guard = guardFor();
    const app = new App();
    app.proxy = true;
    let ran = 0;
    let ip = '';
    app.use(async (ctx, next) => {
      ip = ctx.ip;
      await next();
    });
    app.use(guard.requirePermission('reports', 'reports:Read'));
    app.use((ctx) => {
      ran++;
      ctx.body = 'ok';
    });
    const res = await request(serve(app as Koa)).get('/').set('authorization', await auth('alice')).set('x-forwarded-for', '10.1.2.3');
    // Koa itself believes the header (app.proxy); the guard reads the peer, 127.0.0.1.
    expect(ip).toBe('10.1.2.3');
    expect(res.status).toBe(403);
    expect(ran).toBe(0);
  });

  it('works as plain app middleware without a router', async () => {
    const guard = guardFor();
    const app = new Koa();
    let ran = 0;
    app.use(guard.requirePermission('reports', 'reports:Read'));
    app.use((ctx) => {
      ran++;
      ctx.body = 'ok';
    });
    const server = serve(app);
    expect((await request(server).get('/anything')).status).toBe(401);
    expect(ran).toBe(0);
    expect((await request(server).get('/anything').set('authorization', await auth('alice'))).text).toBe('ok');
  });

  it('an error thrown downstream is not turned into a guard answer', async () => {
    const guard = guardFor();
    const app = new Koa();
    app.silent = true;
    app.use(guard.requirePermission('reports', 'reports:Read'));
    app.use(() => {
      throw new Error('handler failed');
    });
    const res = await request(serve(app)).get('/').set('authorization', await auth('alice'));
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).not.toMatch(/problem\+json/);
  });

  it('a resource function that throws fails closed with 500 and reveals nothing', async () => {
    const guard = guardFor();
    const app = new Koa();
    let ran = 0;
    app.use(guard.requirePermission(() => { throw new Error('boom secret-ish'); }, 'x'));
    app.use(() => void ran++);
    const res = await request(serve(app)).get('/').set('authorization', await auth('alice'));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'ERR_INTERNAL' });
    expect(res.text).not.toMatch(/boom/);
    expect(ran).toBe(0);
  });

  it('rejects a malformed route definition at once', () => {
    const guard = guardFor();
    expect(() => guard.requirePermission('', 'x')).toThrow(TypeError);
    expect(() => guard.requirePermission(42 as never, 'x')).toThrow(TypeError);
  });

  describe('passErrors', () => {
    it('throws the GuardError to an upstream error middleware', async () => {
      const guard = guardFor({ passErrors: true });
      const app = new Koa();
      let caught: unknown;
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          caught = error;
          ctx.status = 418;
          ctx.body = 'mine';
        }
      });
      app.use(guard.requirePermission('reports', 'reports:Read'));
      const res = await request(serve(app)).get('/');
      expect(res.status).toBe(418);
      expect(isGuardError(caught)).toBe(true);
      expect(caught).toMatchObject({ code: 'ERR_MISSING_TOKEN', status: 401, expose: true });
    });

    it("Koa's stock handler answers with the error's status and headers", async () => {
      const guard = guardFor({ passErrors: true });
      const app = new Koa();
      app.silent = true;
      app.use(guard.requirePermission('reports', 'reports:Read'));
      const server = serve(app);
      const missing = await request(server).get('/');
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(missing.text).toBe('Bearer token required'); // expose: a fixed text

      emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
      const down = await request(server).get('/').set('authorization', await auth('alice'));
      expect(down.status).toBe(503);
      expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
      expect(down.text).toBe('Service Unavailable'); // not exposed: Koa's generic text
    });
  });

  it('invalidateUser forces a refetch', async () => {
    const guard = guardFor();
    const app = new Koa();
    app.use(guard.requirePermission('reports', 'reports:Read'));
    app.use((ctx) => void (ctx.body = 'ok'));
    const server = serve(app);
    const token = await auth('alice');
    expect((await request(server).get('/').set('authorization', token)).status).toBe(200);
    emulator().setGrants('alice', []);
    expect((await request(server).get('/').set('authorization', token)).status).toBe(200);
    guard.invalidateUser('alice');
    expect((await request(server).get('/').set('authorization', token)).status).toBe(403);
  });

  describe('API mode', () => {
    beforeEach(() => {
      emulator().setGrants('alice', [{ resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers' }]);
    });

    it('judges the full original URL, not a mount-shortened path', async () => {
      const guard = guardFor();
      const app = new Koa();
      // What koa-mount does: strip the prefix from ctx.path for the mounted middleware.
      app.use(async (ctx, next) => {
        if (!ctx.path.startsWith('/api')) return next();
        ctx.path = ctx.path.slice('/api'.length) || '/';
        await next();
      });
      app.use(guard.api());
      app.use((ctx) => {
        ctx.body = { path: ctx.path, user: ctx.state.genauth?.identity.userId };
      });
      const server = serve(app);
      const alice = await auth('alice');
      const res = await request(server).get('/api/v1/servers').set('authorization', alice);
      expect(res.body).toEqual({ path: '/v1/servers', user: 'alice' });
      // '/v1/servers' as seen after the mount is not what the grant names.
      expect((await request(server).get('/v1/servers').set('authorization', alice)).status).toBe(403);
    });

    it('judges the URL the client sent when the Koa app is mounted in Express or Connect (req.originalUrl)', async () => {
      emulator().setGrants('alice', [
        { resourceCode: 'api', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/*' },
        { resourceCode: 'admin', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/admin/*', effect: 'DENY' },
      ]);
      const guard = guardFor();
      const koa = new Koa();
      koa.use(guard.api());
      koa.use((ctx) => {
        ctx.body = { path: ctx.path, user: ctx.state.genauth?.identity.userId };
      });
      // Express strips its mount path from req.url before Koa builds ctx.originalUrl from it.
      const app = express();
      app.use('/api', koa.callback());
      const server = app.listen(0, '127.0.0.1');
      servers.push(server);
      const alice = await auth('alice');
      const allowed = await request(server).get('/api/servers').set('authorization', alice);
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ path: '/servers', user: 'alice' });
      // The DENY names the path the client sent, not the one the mounted app sees ('/admin/keys').
      const denied = await request(server).get('/api/admin/keys').set('authorization', alice);
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    });

    describe.each([
      ['Koa 3', Koa],
      ['Koa 2', Koa2 as unknown as typeof Koa],
    ])('%s mounted in Express behind a host rewrite of req.url', (_label, KoaApp) => {
      describe.each([
        ['Express 5', express],
        ['Express 4', express4 as unknown as typeof express],
      ])('(%s)', (_host, expressModule) => {
        /** A host that rewrites `from` to `to` in front of `app.use('/api', koa.callback())`. */
        function hostWithRewrite(from: string, to: string): Server {
          const guard = guardFor();
          const koa = new KoaApp();
          koa.use(guard.api());
          koa.use((ctx) => {
            ctx.body = { path: ctx.path, user: ctx.state.genauth?.identity.userId };
          });
          const app = expressModule();
          app.use((req, _res, next) => {
            if (req.url.startsWith(from)) req.url = to + req.url.slice(from.length);
            next();
          });
          app.use('/api', koa.callback());
          const server = app.listen(0, '127.0.0.1');
          servers.push(server);
          return server;
        }

        it('a rewrite that lengthens the URL: the path that runs, mount path included, is judged', async () => {
          emulator().setGrants('alice', [
            { resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/*' },
            { resourceCode: 'admin', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/admin/*', effect: 'DENY' },
          ]);
          emulator().setGrants('bob', [{ resourceCode: 'keys', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/admin/keys' }]);
          // GET /k runs /admin/keys of the Koa app: /api/admin/keys in the host's terms.
          const server = hostWithRewrite('/k', '/api/admin/keys');
          expect((await request(server).get('/k').set('authorization', await auth('alice'))).status).toBe(403);
          expect((await request(server).get('/k').set('authorization', await auth('bob'))).body).toEqual({ path: '/admin/keys', user: 'bob' });
          expect((await request(server).get('/api/servers').set('authorization', await auth('alice'))).status).toBe(200);
        });

        it('a rewrite onto the mount from another prefix is not taken for a mount of the alias', async () => {
          emulator().setGrants('alice', [
            { resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/*' },
            { resourceCode: 'admin', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/admin/*', effect: 'DENY' },
          ]);
          // /pub/admin/keys ends like a mount of /admin/keys, but runs /api/admin/keys.
          const server = hostWithRewrite('/pub/', '/api/');
          expect((await request(server).get('/pub/admin/keys').set('authorization', await auth('alice'))).status).toBe(403);
          expect((await request(server).get('/pub/servers').set('authorization', await auth('alice'))).body).toEqual({ path: '/servers', user: 'alice' });
        });
      });
    });

    it('a shortened req.originalUrl set inside a mount (an Express router run in Koa) does not shorten the judged URL', async () => {
      const guard = guardFor();
      const app = new Koa();
      app.use(async (ctx, next) => {
        if (!ctx.path.startsWith('/api')) return next();
        ctx.path = ctx.path.slice('/api'.length) || '/';
        // What Express's router does to the request it is handed: req.originalUrl = req.originalUrl || req.url.
        (ctx.req as { originalUrl?: string }).originalUrl ??= ctx.req.url;
        await next();
      });
      app.use(guard.api());
      app.use((ctx) => {
        ctx.body = { user: ctx.state.genauth?.identity.userId };
      });
      const server = serve(app);
      const alice = await auth('alice');
      expect((await request(server).get('/api/v1/servers').set('authorization', alice)).status).toBe(200);
    });

    it('public paths pass without a token and leave ctx.state.genauth unset', async () => {
      const guard = guardFor();
      const app = new Koa();
      app.use(guard.api({ publicPaths: ['/health'] }));
      app.use((ctx) => {
        ctx.body = { genauth: ctx.state.genauth ?? 'unset' };
      });
      const server = serve(app);
      expect((await request(server).get('/health')).body).toEqual({ genauth: 'unset' });
      expect((await request(server).get('/api/v1/servers')).status).toBe(401);
    });

    it('malformed options throw at once', () => {
      const guard = guardFor();
      expect(() => guard.api({ publicPaths: ['health'] })).toThrow(TypeError);
      expect(() => guard.api({ strict: 'yes' } as never)).toThrow(TypeError);
    });
  });

  it('check() agrees with the middleware', async () => {
    const guard = guardFor();
    await expect(guard.check({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' })).resolves.toMatchObject({ allowed: true });
    await expect(guard.check({ userId: 'alice', resource: 'ecs:2', action: 'ecs:Start' })).resolves.toMatchObject({ allowed: false });
  });
});
