// unguardedRoutes() on real Koa apps with @koa/router: guarded and unguarded routes, router.use(),
// API mode on the app, prefixes and nested routers; the app or one router may be passed.
import Router from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { createKoaGuard, unguardedRoutes, warnUnguarded } from '../../src/adapters/koa.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const ok = (ctx: Koa.Context) => {
  ctx.body = 'ok';
};

describe('Koa unguardedRoutes', () => {
  it('lists the routes no guard middleware covers, app or router', () => {
    const guard = createKoaGuard(emulator().guardOptions());
    const app = new Koa();
    const router = new Router();
    router.get('/health', ok);
    router.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
    router.post('/reports', ok);
    router.all('/anything', ok);
    const admin = new Router({ prefix: '/admin' });
    admin.use(guard.authenticate());
    admin.get('/users/:id', ok);
    const open = new Router();
    open.delete('/users/:id', ok);
    router.use('/v1', open.routes());
    app.use(router.routes()).use(admin.routes());
    const expected = [
      { method: 'ALL', path: '/anything' },
      { method: 'GET', path: '/health' },
      { method: 'POST', path: '/reports' },
      { method: 'DELETE', path: '/v1/users/:id' },
    ];
    expect(unguardedRoutes(app)).toEqual(expected);
    expect(unguardedRoutes(router)).toEqual(expected);
    expect(unguardedRoutes(admin)).toEqual([]);
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
