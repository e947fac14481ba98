// What docs/koa.md ("The resource and the handler must read the same value") says of @koa/router's
// params, on Koa 2 and 3: the traps the guard cannot see (the handler runs on server 9 past a DENY on
// `ecs:9`) and the remedies the page gives (refused). If Koa or @koa/router changes any of this, the
// page is wrong. Run on @koa/router 12 to 15 (vitest.config.ts): where they differ, each is pinned.
import type { Server } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKoaGuard, type KoaContext, type KoaGuard } from '../../src/adapters/koa.js';
import { bearerFor, useEmulator } from '../fixtures.js';
import { KOA_ROUTER_MAJOR, KOA_ROUTER_PTR6 } from '../koa-router.js';

const emulator = useEmulator();
/** @koa/router 14 reads a `use()` path (a prefix's or a mount's too) as a bare regular expression: `:id` is text. */
const USE_PARAMS_ARE_TEXT = KOA_ROUTER_MAJOR === 14;

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
])('%s with @koa/router: which params the resource reads', (_name, App) => {
  let guard: KoaGuard;
  let seen: Array<Record<string, unknown>>;
  const servers: Server[] = [];
  const handler = (ctx: KoaContext) => {
    seen.push({ ...ctx.params });
    ctx.body = { ok: true };
  };
  const byId = (ctx: KoaContext) => `ecs:${ctx.params.id}`;
  const describeBy = (resource: (ctx: KoaContext) => string) => guard.requirePermission(resource, 'ecs:Describe');

  beforeEach(() => {
    emulator().setGrants('alice', [
      { resourceCode: 'ecs:*', actions: ['ecs:Describe'] },
      { resourceCode: 'ecs:9', actions: ['ecs:Describe'], effect: 'DENY' },
    ]);
    guard = createKoaGuard(emulator().guardOptions());
    seen = [];
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close();
    await guard.close();
  });

  function appOf(...routers: Router[]): Server {
    const app = new App();
    app.silent = true;
    for (const router of routers) app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    return server;
  }
  const get = async (server: Server, url: string) => request(server).get(url).set('authorization', await bearerFor(emulator(), 'alice'));

  it.each(['/servers/9%3Astart', '/servers/9%2F', '/servers/%209', '/servers/09', '/servers/9%00'])('%s: a decoded, non-canonical param passes the DENY (trap)', async (url) => {
    const router = new Router();
    router.get('/servers/:id', describeBy(byId), handler);
    const res = await get(appOf(router), url);
    expect(res.status).toBe(200);
    expect(parseInt(seen[0]!.id as string, 10)).toBe(9);
  });

  it.each(['/servers/9%3Astart', '/servers/9%2F', '/servers/%209', '/servers/09', '/servers/9%00'])('%s: a code built as the handler reads the value is refused', async (url) => {
    const router = new Router();
    router.get('/servers/:id', describeBy((ctx) => `ecs:${Number(ctx.params.id)}`), handler);
    const res = await get(appOf(router), url);
    expect([403, 500]).toContain(res.status);
    expect(seen).toEqual([]);
  });

  it('router.param() runs before the guard on the route: it can refuse a value of the wrong shape first', async () => {
    const router = new Router();
    router.param('id', (id, ctx, next) => (/^\d+$/.test(id) ? next() : void (ctx.status = 404)));
    router.get('/servers/:id', describeBy(byId), handler);
    const server = appOf(router);
    expect((await get(server, '/servers/%209')).status).toBe(404);
    expect((await get(server, '/servers/9')).status).toBe(403);
    expect(seen).toEqual([]);
  });

  it('an inline pattern (`:id(\\d+)`) refuses another shape on 12 and 13 (path-to-regexp 6); 14 and 15 refuse the route', async () => {
    const router = new Router();
    const register = () => router.get('/servers/:id(\\d+)', describeBy(byId), handler);
    if (!KOA_ROUTER_PTR6) {
      expect(register).toThrow();
      return;
    }
    register();
    const server = appOf(router);
    expect((await get(server, '/servers/%209')).status).toBe(404);
    expect((await get(server, '/servers/9')).status).toBe(403);
    expect(seen).toEqual([]);
  });

  it('a percent-escape that is not UTF-8 reaches the guard and the handler undecoded (no 400, unlike Express)', async () => {
    const router = new Router();
    router.get('/servers/:id', describeBy(byId), handler);
    expect((await get(appOf(router), '/servers/%E0%A4%A')).status).toBe(200);
    expect(seen).toEqual([{ id: '%E0%A4%A' }]);
  });

  it("a guard in router.use('/servers/:id') or router.all('/servers/:id') reads that layer's params, not the route's (trap); on the route it reads the route's", async () => {
    const used = new Router();
    used.use('/servers/:id', describeBy(byId));
    used.get('/servers/:id-:name', handler);
    const all = new Router();
    all.all('/disks/:id', describeBy(byId));
    all.get('/disks/:id-:name', handler);
    const onRoute = new Router();
    onRoute.get('/volumes/:id-:name', describeBy(byId), handler);
    // The same use() before a route of its own path: it checks server 9, but on 14, where it never runs.
    const exact = new Router();
    exact.use('/hosts/:id', describeBy(byId));
    exact.get('/hosts/:id', handler);
    const server = appOf(used, all, onRoute, exact);
    expect((await get(server, '/servers/9-x')).status).toBe(200);
    expect((await get(server, '/disks/9-x')).status).toBe(200);
    expect((await get(server, '/volumes/9-x')).status).toBe(403);
    expect((await get(server, '/hosts/9')).status).toBe(USE_PARAMS_ARE_TEXT ? 200 : 403);
    expect(seen).toEqual([{ id: '9', name: 'x' }, { id: '9', name: 'x' }, ...(USE_PARAMS_ARE_TEXT ? [{ id: '9' }] : [])]);
  });

  it("nested routers: a guard in child.use() reads the parent's param, a child route's param of the same name replaces it (trap)", async () => {
    const parent = new Router();
    const child = new Router();
    child.use(describeBy(byId));
    child.get('/files/:id', handler);
    parent.use('/servers/:id', child.routes());
    const server = appOf(parent);
    if (KOA_ROUTER_PTR6) {
      // 12 and 13 give the child's use() no params at all: `ecs:undefined` is refused (500).
      expect((await get(server, '/servers/1/files/9')).status).toBe(500);
      expect((await get(server, '/servers/9/files/1')).status).toBe(500);
      expect(seen).toEqual([]);
    } else if (USE_PARAMS_ARE_TEXT) {
      // 14 never runs the child's use() under a mount path with a param: the handler runs unchecked.
      expect((await get(server, '/servers/1/files/9')).status).toBe(200);
      expect((await get(server, '/servers/9/files/1')).status).toBe(200);
      expect(seen).toMatchObject([{ id: '9' }, { id: '1' }]);
    } else {
      expect((await get(server, '/servers/1/files/9')).status).toBe(200);
      expect((await get(server, '/servers/9/files/1')).status).toBe(403);
      expect(seen).toMatchObject([{ id: '9' }]);
    }
  });

  it("a prefix's param is replaced by a route param of the same name, for the guard and the handler alike", async () => {
    const router = new Router({ prefix: '/servers/:id' });
    router.get('/files/:id', describeBy(byId), handler);
    router.get('/', describeBy(byId), handler);
    const server = appOf(router);
    // The file's id is checked: server 9's DENY does not apply to its file 1.
    expect((await get(server, '/servers/9/files/1')).status).toBe(200);
    expect((await get(server, '/servers/1/files/9')).status).toBe(403);
    expect((await get(server, '/servers/9')).status).toBe(403);
    expect(seen).toEqual([{ id: '1' }]);
  });

  it("a guard in router.use() of a router with a prefix reads the prefix's param, which the route's replaces (trap)", async () => {
    const router = new Router({ prefix: '/servers/:id' });
    router.use(describeBy(byId));
    router.get('/files/:id', handler);
    const server = appOf(router);
    expect((await get(server, '/servers/1/files/9')).status).toBe(200);
    // 14 never runs a use() under a prefix with a param: the handler runs unchecked.
    expect((await get(server, '/servers/9/files/1')).status).toBe(USE_PARAMS_ARE_TEXT ? 200 : 403);
    expect(seen).toEqual([{ id: '9' }, ...(USE_PARAMS_ARE_TEXT ? [{ id: '1' }] : [])]);
  });

  it('a repeated query key is a list: the code joins it with commas, which no DENY on ecs:9 names (trap); a check that it is one string refuses it', async () => {
    const router = new Router();
    router.get('/servers', describeBy((ctx) => `ecs:${ctx.query.id as string}`), handler);
    const oneId = (ctx: KoaContext) => {
      if (typeof ctx.query.id !== 'string') throw new TypeError('one id expected');
      return `ecs:${ctx.query.id}`;
    };
    router.get('/disks', describeBy(oneId), handler);
    const server = appOf(router);
    expect((await get(server, '/servers?id=9&id=10')).status).toBe(200);
    expect((await get(server, '/disks?id=9&id=10')).status).toBe(500);
    expect((await get(server, '/disks?id=9')).status).toBe(403);
    expect(seen).toHaveLength(1);
  });

  it('trailing slash, case and HEAD reach the route with the same param the guard checks', async () => {
    const router = new Router();
    router.get('/servers/:id', describeBy(byId), handler);
    const server = appOf(router);
    const alice = await bearerFor(emulator(), 'alice');
    expect((await get(server, '/servers/9/')).status).toBe(403);
    expect((await get(server, '/SERVERS/9')).status).toBe(403);
    expect((await request(server).head('/servers/9').set('authorization', alice)).status).toBe(403);
    expect((await request(server).head('/servers/1').set('authorization', alice)).status).toBe(200);
    expect(seen).toEqual([{ id: '1' }]);
  });

  it('the guard reads ctx.params when it runs: a middleware after it that rewrites them acts on another server (trap)', async () => {
    const router = new Router();
    router.get(
      '/servers/:id',
      describeBy(byId),
      (ctx, next) => {
        ctx.params.id = String(ctx.query.as ?? ctx.params.id);
        return next();
      },
      handler,
    );
    expect((await get(appOf(router), '/servers/1?as=9')).status).toBe(200);
    expect(seen).toEqual([{ id: '9' }]);
  });

  it('passErrors: an upstream middleware that catches the error and answers sends that to the refused caller; the handler does not run', async () => {
    const passing = createKoaGuard({ ...emulator().guardOptions(), passErrors: true });
    try {
      const app = new App();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch {
          ctx.body = { fine: true };
        }
      });
      const router = new Router();
      router.get('/servers/:id', passing.requirePermission(byId, 'ecs:Describe'), handler);
      app.use(router.routes());
      const server = app.listen(0, '127.0.0.1');
      servers.push(server);
      const res = await get(server, '/servers/9');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ fine: true });
      expect(seen).toEqual([]);
    } finally {
      await passing.close();
    }
  });
});
