// unguardedRoutes() on real Express 4 and 5 apps: guarded and unguarded routes, mounted routers,
// API mode with public paths, guards mounted under a prefix.
import express4 from 'express4';
import express5 from 'express';
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
