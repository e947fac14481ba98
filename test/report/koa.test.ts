// unguardedRoutes() on real Koa apps with @koa/router: guarded and unguarded routes, router.use(),
// API mode on the app, prefixes and nested routers, the order of a route's handlers; the app or one
// router may be passed. Run on @koa/router 12 to 15 (vitest.config.ts): where they match differently,
// the requests say what each one does and the report must list exactly the routes so reached.
import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createKoaGuard, unguardedRoutes, warnUnguarded } from '../../src/adapters/koa.js';
import { useEmulator } from '../fixtures.js';
import { KOA_ROUTER_MAJOR } from '../koa-router.js';

const emulator = useEmulator();
const ok = (ctx: Koa.Context) => {
  ctx.body = 'ok';
};
/** @koa/router 14 matches a `use()` path as a bare regular expression: case-sensitively, params as text. */
const USE_AS_REGEXP = KOA_ROUTER_MAJOR === 14;
/** Before 15, any truthy `exclusive` is `true`: the last layer matched runs alone. */
const EXCLUSIVE_IS_BOOLEAN = KOA_ROUTER_MAJOR < 15;

describe('Koa unguardedRoutes', () => {
  it('lists the routes no guard middleware covers, app or router', async () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    const router = new Router();
    router.get('/health', ok);
    router.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
    router.post('/reports', ok);
    router.all('/anything', ok);
    const admin = new Router({ prefix: '/admin' });
    // With a path: matched ignoring case, as the routes are (a path-less use() is not: see below).
    admin.use('/users', guard.authenticate());
    admin.get('/users/:id', ok);
    const open = new Router();
    open.delete('/users/:id', ok);
    router.use('/v1', open.routes());
    app.use(router.routes()).use(admin.routes());
    const server = app.listen(0, '127.0.0.1');
    try {
      // 14 matches that use() path case-sensitively: `/ADMIN/USERS/1` reaches the route without it.
      expect((await request(server).get('/admin/users/1')).status).toBe(401);
      expect((await request(server).get('/ADMIN/USERS/1')).status).toBe(USE_AS_REGEXP ? 200 : 401);
    } finally {
      server.close();
    }
    const adminOpen = USE_AS_REGEXP ? [{ method: 'GET', path: '/admin/users/:id' }] : [];
    const expected = [
      ...adminOpen,
      { method: 'ALL', path: '/anything' },
      { method: 'GET', path: '/health' },
      { method: 'POST', path: '/reports' },
      { method: 'DELETE', path: '/v1/users/:id' },
    ];
    expect(unguardedRoutes(app)).toEqual(expected);
    expect(unguardedRoutes(router)).toEqual(expected.filter((route) => !adminOpen.includes(route)));
    expect(unguardedRoutes(admin)).toEqual(adminOpen);
  });

  it('API mode on the app covers the routers mounted after it', () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    const before = new Router();
    before.get('/before', ok);
    const after = new Router();
    after.get('/health', ok);
    after.put('/items/:id', ok);
    app.use(before.routes());
    app.use(guard.api({ publicPaths: ['/health'] }));
    app.use(after.routes());
    expect(unguardedRoutes(app)).toEqual([{ method: 'GET', path: '/before' }]);
  });

  it('a router.use() guard that @koa/router matches narrower than the routes does not cover them', async () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    // 15 matches a path-less use() under a prefix case-sensitively, the routes ignore case (12 and 13:
    // as the routes; 14: every use() case-sensitively).
    const prefixed = new Router({ prefix: '/p' });
    prefixed.use(guard.authenticate());
    prefixed.get('/k', ok);
    const child = new Router();
    child.use(guard.authenticate());
    child.get('/k', ok);
    const parent = new Router();
    parent.use('/n', child.routes());
    // use('/') is the root path alone on 15, not a prefix of every path (12 to 14: a prefix).
    const root = new Router({ prefix: '/e' });
    root.use('/', guard.authenticate());
    root.get('/', ok);
    root.get('/k', ok);
    // Covered: a sensitive router (both case-sensitive), an explicit path (both ignore case, but on 14).
    const sensitive = new Router({ prefix: '/s', sensitive: true });
    sensitive.use(guard.authenticate());
    sensitive.get('/k', ok);
    const explicit = new Router();
    explicit.use('/x', guard.authenticate());
    explicit.get('/x/k', ok);
    app.use(prefixed.routes()).use(parent.routes()).use(root.routes()).use(sensitive.routes()).use(explicit.routes());
    // What the report must tell: these reach their handler with no token at all.
    const open: Record<number, string[]> = { 12: [], 13: [], 14: ['/P/k', '/N/k', '/E/k', '/E', '/X/k'], 15: ['/P/k', '/N/k', '/e/k', '/E/k'] };
    const reached = open[KOA_ROUTER_MAJOR]!;
    const server = app.listen(0, '127.0.0.1');
    try {
      for (const path of ['/P/k', '/N/k', '/e/k', '/E/k', '/E', '/X/k', '/p/k', '/n/k', '/e', '/s/k', '/x/k']) {
        expect((await request(server).get(path)).status, path).toBe(reached.includes(path) ? 200 : 401);
      }
    } finally {
      server.close();
    }
    const listed = [...new Set(reached.map((path) => path.toLowerCase()))].sort();
    expect(unguardedRoutes(app)).toEqual(listed.map((path) => ({ method: 'GET', path })));
  });

  it('a router.use() path with a parameter covers the routes under it where @koa/router reads it as one', async () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    // Sensitive routers: the routes match as case-sensitively as any use() does, only the params differ.
    const servers = new Router({ sensitive: true });
    servers.use('/servers/:id', guard.authenticate());
    servers.get('/servers/:id/files', ok);
    const disks = new Router({ prefix: '/disks/:id', sensitive: true });
    disks.use(guard.authenticate());
    disks.get('/files', ok);
    app.use(servers.routes()).use(disks.routes());
    // 14 reads `:id` in a use() path as the text `:id`: its guard runs for no request of these routes.
    const server = app.listen(0, '127.0.0.1');
    try {
      for (const path of ['/servers/1/files', '/disks/1/files']) expect((await request(server).get(path)).status, path).toBe(USE_AS_REGEXP ? 200 : 401);
    } finally {
      server.close();
    }
    const open = [
      { method: 'GET', path: '/disks/:id/files' },
      { method: 'GET', path: '/servers/:id/files' },
    ];
    expect(unguardedRoutes(app)).toEqual(USE_AS_REGEXP ? open : []);
  });

  it.each([true, 'specificity'] as const)('an exclusive router (%s) runs one layer per request: its router.use() guards cover no route', async (exclusive) => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    const router = new Router({ exclusive });
    router.use(guard.authenticate());
    router.use('/p', guard.authenticate());
    router.get('/k', ok);
    router.get('/p/k', ok);
    // The route's own guard runs with it, exclusive or not.
    router.get('/own', guard.authenticate(), ok);
    // Nested routers are dispatched by the router they are mounted on: its exclusive, not theirs.
    const child = new Router();
    child.use('/k', guard.authenticate());
    child.get('/k', ok);
    router.use('/n', child.routes());
    const plain = new Router();
    const exclusiveChild = new Router({ exclusive });
    exclusiveChild.use('/k', guard.authenticate());
    exclusiveChild.get('/k', ok);
    plain.use('/x', exclusiveChild.routes());
    app.use(router.routes()).use(plain.routes());
    const server = app.listen(0, '127.0.0.1');
    try {
      const token = `Bearer ${await emulator().mintToken('alice')}`;
      for (const path of ['/k', '/p/k', '/n/k']) {
        // `true`: the last layer matched, the route, runs alone (no token needed). 'specificity': the one
        // with the fewest parameters, here the guard, runs alone, and the route never does. No request
        // meets both: the report cannot count such a guard.
        // Before 15, 'specificity' is `true`.
        if (exclusive === true || EXCLUSIVE_IS_BOOLEAN) expect((await request(server).get(path)).status, path).toBe(200);
        else expect((await request(server).get(path).set('authorization', token)).status, path).toBe(404);
      }
      for (const path of ['/own', '/x/k']) expect((await request(server).get(path)).status, path).toBe(401);
      // 14 matches the child's use('/k') case-sensitively, the route ignores case.
      expect((await request(server).get('/X/k')).status).toBe(USE_AS_REGEXP ? 200 : 401);
    } finally {
      server.close();
    }
    const listed = [
      { method: 'GET', path: '/k' },
      { method: 'GET', path: '/n/k' },
      { method: 'GET', path: '/p/k' },
    ];
    const mounted = USE_AS_REGEXP ? [{ method: 'GET', path: '/x/k' }] : [];
    expect(unguardedRoutes(app)).toEqual([...listed, ...mounted]);
    expect(unguardedRoutes(router)).toEqual(listed);
    expect(unguardedRoutes(plain)).toEqual(mounted);
  });

  it('a route with a handler before its guard is unguarded: the handler runs first and may answer', async () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    const router = new Router();
    router.get('/late', ok, guard.requirePermission('reports', 'reports:Read'));
    // Any other middleware first counts too: the report cannot tell one that calls next() from one that answers.
    const passOn = (_ctx: Koa.Context, next: Koa.Next) => next();
    router.post('/late', passOn, guard.authenticate(), ok);
    router.all('/any', ok, guard.authenticate());
    router.get('/first', guard.authenticate(), ok, guard.requirePermission('reports', 'reports:Read'));
    // A router.use() guard before the route still covers it, whatever the route's own order.
    const covered = new Router();
    covered.use('/c', guard.authenticate());
    covered.get('/c/k', ok, guard.authenticate());
    app.use(router.routes()).use(covered.routes());
    const server = app.listen(0, '127.0.0.1');
    try {
      // What the report must tell: these answer with no token at all.
      for (const path of ['/late', '/any']) expect((await request(server).get(path)).status, path).toBe(200);
      for (const path of ['/first', '/c/k']) expect((await request(server).get(path)).status, path).toBe(401);
      // 14 matches use('/c') case-sensitively: `/C/k` meets the route's own order, handler first.
      expect((await request(server).get('/C/k')).status).toBe(USE_AS_REGEXP ? 200 : 401);
      expect((await request(server).post('/late')).status).toBe(401);
    } finally {
      server.close();
    }
    expect(unguardedRoutes(app)).toEqual([
      { method: 'ALL', path: '/any', reason: 'handler-before-guard' },
      ...(USE_AS_REGEXP ? [{ method: 'GET', path: '/c/k', reason: 'handler-before-guard' }] : []),
      { method: 'GET', path: '/late', reason: 'handler-before-guard' },
      { method: 'POST', path: '/late', reason: 'handler-before-guard' },
    ]);
  });

  it('warnUnguarded logs one line listing them', () => {
    const app = new Koa();
    const router = new Router();
    router.get('/open', ok);
    app.use(router.routes());
    const lines: string[] = [];
    expect(warnUnguarded(app, { warn: (line) => lines.push(line) })).toEqual([{ method: 'GET', path: '/open' }]);
    expect(lines).toEqual([expect.stringContaining('GET /open')]);
  });
});
