// unguardedRoutes() on real Express 4 and 5 apps: guarded and unguarded routes, mounted routers and
// sub-apps, API mode with public paths, guards mounted under a prefix, the order of a route's handlers.
import express4 from 'express4';
import express5 from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createExpressGuard, unguardedRoutes, warnUnguarded } from '../../src/adapters/express.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const ok = (_req: unknown, res: { send(body: string): void }) => res.send('ok');

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s', (_name, express) => {
  it('lists the routes no guard middleware covers', () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.get('/health', ok);
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
    app.post('/reports', ok);
    const admin = express.Router();
    admin.get('/users/:id', ok);
    admin.delete('/users/:id', guard.requirePermission((req) => `user:${req.params.id}`, 'user:Delete'), ok);
    app.use('/admin', admin);
    const me = express.Router();
    me.use(guard.authenticate());
    me.get('/profile', ok);
    app.use('/me', me);
    app.all('/anything', ok);
    expect(unguardedRoutes(app)).toEqual([
      { method: 'GET', path: '/admin/users/:id' },
      { method: 'ALL', path: '/anything' },
      { method: 'GET', path: '/health' },
      { method: 'POST', path: '/reports' },
    ]);
  });

  it('API mode mounted first covers everything but its public paths', () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.get('/before', ok);
    app.use(guard.api({ publicPaths: ['/health', '/docs/*'] }));
    app.get('/health', ok);
    app.get('/docs/intro', ok);
    app.get('/users/:id', ok);
    const v1 = express.Router();
    v1.put('/items/:id', ok);
    app.use('/v1', v1);
    expect(unguardedRoutes(app)).toEqual([{ method: 'GET', path: '/before' }]);
  });

  it('a guard mounted under a prefix covers that prefix only, and an app with none reports nothing', () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.use('/private', guard.authenticate());
    app.get('/private/x', ok);
    app.get('/privately', ok);
    expect(unguardedRoutes(app)).toEqual([{ method: 'GET', path: '/privately' }]);
    expect(unguardedRoutes(express())).toEqual([]);
  });

  it("a guard among a route's handlers covers only the methods of its layer", () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.route('/items').get(guard.authenticate(), ok).post(ok);
    app.route('/all').all(guard.authenticate()).get(ok).delete(ok);
    expect(unguardedRoutes(app)).toEqual([{ method: 'POST', path: '/items' }]);
  });

  it('a guard mounted on several paths covers those, one mounted on a regular expression no prefix', () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.use(['/a', '/b'], guard.authenticate());
    app.use(/^\/admin/, guard.authenticate());
    app.get('/a/x', ok);
    app.get('/b/x', ok);
    app.get('/open', ok);
    expect(unguardedRoutes(app)).toEqual([{ method: 'GET', path: '/open' }]);
  });

  it("a route with a handler before its guard is unguarded: the handler runs first and may answer", async () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.get('/late', ok, guard.requirePermission('reports', 'reports:Read'));
    // Any other middleware first counts too: the report cannot tell one that calls next() from one that answers.
    app.post('/late', express.json(), guard.authenticate(), ok);
    app.all('/any', ok, guard.authenticate());
    app.all('/every', guard.authenticate(), ok);
    app.route('/r').get(ok).all(guard.authenticate()).post(ok);
    app.route('/s').all(guard.authenticate()).get(ok);
    app.get('/first', guard.authenticate(), ok, guard.requirePermission('reports', 'reports:Read'));
    // What the report must tell: these answer with no token at all.
    for (const path of ['/late', '/any', '/r']) expect((await request(app).get(path)).status, path).toBe(200);
    for (const path of ['/s', '/first', '/every']) expect((await request(app).get(path)).status, path).toBe(401);
    expect((await request(app).post('/r')).status).toBe(401);
    expect(unguardedRoutes(app)).toEqual([
      { method: 'ALL', path: '/any', reason: 'handler-before-guard' },
      { method: 'GET', path: '/late', reason: 'handler-before-guard' },
      { method: 'POST', path: '/late', reason: 'handler-before-guard' },
      { method: 'GET', path: '/r', reason: 'handler-before-guard' },
    ]);
  });

  it('the routes of a sub-app mounted with use(path, app) are listed under its mount path', async () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    const open = express();
    open.get('/items/:id', ok);
    open.post('/items', guard.authenticate(), ok);
    const nested = express();
    nested.get('/n', ok);
    open.use('/nested', nested);
    app.use('/open', open);
    // A guard inside the sub-app covers its routes.
    const inner = express();
    inner.use(guard.authenticate());
    inner.get('/me', ok);
    app.use('/inner', inner);
    // A sub-app mounted on a Router (the Router keeps the app itself as the layer's handle).
    const router = express.Router();
    const deep = express();
    deep.delete('/d', ok);
    router.use('/deep', deep);
    app.use('/r', router);
    // A guard on the parent covers a sub-app mounted after it.
    app.use(guard.api({ publicPaths: ['/health'] }));
    const after = express();
    after.get('/x', ok);
    app.use('/after', after);
    // What the report must tell: these reach their handler with no token at all.
    for (const path of ['/open/items/1', '/open/nested/n']) expect((await request(app).get(path)).status, path).toBe(200);
    expect((await request(app).delete('/r/deep/d')).status).toBe(200);
    for (const path of ['/inner/me', '/after/x']) expect((await request(app).get(path)).status, path).toBe(401);
    expect(unguardedRoutes(app)).toEqual([
      { method: 'GET', path: '/open/items/:id' },
      { method: 'GET', path: '/open/nested/n' },
      { method: 'DELETE', path: '/r/deep/d' },
    ]);
    expect(unguardedRoutes(open)).toEqual([
      { method: 'GET', path: '/items/:id' },
      { method: 'GET', path: '/nested/n' },
    ]);
  });

  it("a mounted app the report cannot look into is listed as a whole, unless a guard before it covers it", () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    // Express's name for the wrapper of a mounted app, here holding none: nothing to read, so it is open.
    app.use('/legacy', function mounted_app(_req: unknown, res: { send(body: string): void }) {
      res.send('ok');
    });
    app.use('/private', guard.authenticate());
    app.use('/private', function mounted_app(_req: unknown, res: { send(body: string): void }) {
      res.send('ok');
    });
    expect(unguardedRoutes(app)).toEqual([{ method: 'ALL', path: '/legacy', reason: 'sub-app-not-read' }]);
  });

  it('warnUnguarded logs one line when some route is unguarded, nothing otherwise', () => {
    const guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.get('/open', ok);
    const lines: string[] = [];
    warnUnguarded(app, { warn: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('GET /open');
    const safe = express();
    safe.get('/closed', guard.authenticate(), ok);
    warnUnguarded(safe, { warn: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
  });
});

it('the mark is not enumerable: a middleware looks like any other function', () => {
  const guard = createExpressGuard(emulator().guardOptions());
  const middleware = guard.authenticate();
  expect(Object.keys(middleware)).toEqual([]);
  expect(JSON.stringify(Object.getOwnPropertyNames(middleware))).not.toContain('mark');
});
