/**
 * `req.genauth` on Express is kept beside the request (an accessor on Express's request prototype and
 * a WeakMap) instead of as a property added to each request, which costs Express a new hidden class
 * per request (docs/bench.md, "Hot path"). What an app can observe must not change: each request reads
 * its own context, mounted sub-apps and later middleware see it, an app may assign or define its own.
 */
import express4 from 'express4';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { rawExchange } from '../adversarial/raw-http.js';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, closeAfterEach, seedStandardTenant, useEmulator } from '../fixtures.js';

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s req.genauth', (_name, express) => {
  const emulator = useEmulator();
  const track = closeAfterEach<ExpressGuard>();
  let guard: ExpressGuard;

  beforeEach(() => {
    seedStandardTenant(emulator());
    guard = track(createExpressGuard(emulator().guardOptions()));
  });

  const show = (req: Request, res: Response) => {
    res.json({ user: req.genauth?.identity.userId ?? null, reason: req.genauth?.decision?.reason ?? null, own: Object.hasOwn(req, 'genauth') });
  };

  it('adds no property to the request: the handler reads the context of its own request', async () => {
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), show);
    const [alice, bob] = await Promise.all([
      request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice')),
      request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'bob')),
    ]);
    expect(alice.body).toEqual({ user: 'alice', reason: 'allowed', own: false });
    expect(bob.status).toBe(403);
    const again = await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(again.body).toEqual({ user: 'alice', reason: 'allowed', own: false });
  });

  /** Listens on a loopback port for raw pipelined exchanges; closed when `run` is done. */
  async function onPort<T>(app: express5.Express, run: (port: number) => Promise<T>): Promise<T> {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      return await run((server.address() as AddressInfo).port);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('keeps each pipelined request its own context while an earlier one on the connection still waits', async () => {
    const app = express();
    let fastSeen!: () => void;
    const fastIn = new Promise<void>((resolve) => (fastSeen = resolve));
    app.get('/who', guard.authenticate(), async (req: Request, res: Response) => {
      // The first (slow) request reads its context only once a later one on its connection was authenticated.
      if (req.query.slow === '1') await Promise.race([fastIn, delay(3000)]);
      else fastSeen();
      res.json({ user: req.genauth?.identity.userId ?? null });
    });
    const [alice, bob] = [await bearerFor(emulator(), 'alice'), await bearerFor(emulator(), 'bob')];
    const answers = await onPort(app, (port) =>
      rawExchange(port, [
        { method: 'GET', target: '/who?slow=1', headers: [['authorization', alice]] },
        { method: 'GET', target: '/who', headers: [['authorization', bob]] },
        { method: 'GET', target: '/who', headers: [['authorization', alice]] },
      ]),
    );
    expect(answers.map((a) => JSON.parse(a.body) as unknown)).toEqual([{ user: 'alice' }, { user: 'bob' }, { user: 'alice' }]);
  });

  it('keeps a finished request its context after the connection serves the next one', async () => {
    const app = express();
    let first: Request | undefined;
    let firstDone!: () => void;
    const firstAnswered = new Promise<void>((resolve) => (firstDone = resolve));
    app.get('/first', guard.authenticate(), (req: Request, res: Response) => {
      first = req;
      res.json({ user: req.genauth?.identity.userId ?? null });
      firstDone();
    });
    app.get('/second', guard.authenticate(), async (req: Request, res: Response) => {
      await Promise.race([firstAnswered, delay(3000)]);
      res.json({ user: req.genauth?.identity.userId ?? null, first: first?.genauth?.identity.userId ?? null });
    });
    const answers = await onPort(app, async (port) =>
      rawExchange(port, [
        { method: 'GET', target: '/first', headers: [['authorization', await bearerFor(emulator(), 'alice')]] },
        { method: 'GET', target: '/second', headers: [['authorization', await bearerFor(emulator(), 'bob')]] },
      ]),
    );
    expect(answers.map((a) => JSON.parse(a.body) as unknown)).toEqual([{ user: 'alice' }, { user: 'bob', first: 'alice' }]);
  });

  it('is undefined on a request the guard did not see', async () => {
    const app = express();
    app.get('/open', show);
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), show);
    // The accessor is installed by the first guarded request; a request without a guard reads nothing.
    await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    const open = await request(app).get('/open').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(open.body).toEqual({ user: null, reason: null, own: false });
  });

  it('reaches middleware after a mounted sub-app, and the sub-app of another app', async () => {
    const sub = express();
    sub.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req: Request, _res: Response, next: NextFunction) => next());
    const app = express();
    app.use('/sub', sub);
    app.use(show);
    const res = await request(app).get('/sub/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(res.body).toEqual({ user: 'alice', reason: 'allowed', own: false });
    const other = express();
    other.get('/reports', guard.authenticate(), show);
    const res2 = await request(other).get('/reports').set('authorization', await bearerFor(emulator(), 'bob'));
    expect(res2.body).toEqual({ user: 'bob', reason: null, own: false });
  });

  it('lets the app assign req.genauth, before or after the guard, and keeps an own property the app defined', async () => {
    const app = express();
    app.get(
      '/before',
      (req: Request, _res: Response, next: NextFunction) => {
        req.genauth = { identity: { userId: 'someone-else', claims: {} } } as unknown as Request['genauth'];
        next();
      },
      guard.requirePermission('reports', 'reports:Read'),
      show,
    );
    app.get('/after', guard.requirePermission('reports', 'reports:Read'), (req: Request, res: Response) => {
      req.genauth = undefined;
      res.json({ value: req.genauth ?? null });
    });
    app.get(
      '/defined',
      (req: Request, _res: Response, next: NextFunction) => {
        Object.defineProperty(req, 'genauth', { value: undefined, writable: true, enumerable: true, configurable: true });
        next();
      },
      guard.requirePermission('reports', 'reports:Read'),
      show,
    );
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/before').set('authorization', token)).body).toEqual({ user: 'alice', reason: 'allowed', own: false });
    expect((await request(app).get('/after').set('authorization', token)).body).toEqual({ value: null });
    expect((await request(app).get('/defined').set('authorization', token)).body).toEqual({ user: 'alice', reason: 'allowed', own: true });
  });

  it('leaves a genauth the app put on its request prototype alone', async () => {
    const app = express();
    const mine = new WeakMap<object, unknown>();
    Object.defineProperty(app.request, 'genauth', {
      configurable: true,
      get(this: object) {
        return mine.get(this);
      },
      set(this: object, value: unknown) {
        mine.set(this, { wrapped: value });
      },
    });
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (req: Request, res: Response) => {
      res.json(req.genauth);
    });
    const res = await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(res.body.wrapped.identity.userId).toBe('alice');
  });

  it('a genauth accessor the app defines on app.request after requests were served gets the guard\'s context', async () => {
    const app = express();
    const other = express();
    for (const each of [app, other]) {
      each.get('/reports', guard.requirePermission('reports', 'reports:Read'), (req: Request, res: Response) => {
        res.json({ genauth: req.genauth ?? null });
      });
    }
    const token = await bearerFor(emulator(), 'alice');
    // Both prototypes checked and served by the guard's accessor; `app` is not the last one seen.
    expect((await request(app).get('/reports').set('authorization', token)).body.genauth.identity.userId).toBe('alice');
    expect((await request(other).get('/reports').set('authorization', token)).body.genauth.identity.userId).toBe('alice');
    const mine = new WeakMap<object, unknown>();
    for (const each of [app, other]) {
      Object.defineProperty(each.request, 'genauth', {
        configurable: true,
        get(this: object) {
          return mine.get(this);
        },
        set(this: object, value: unknown) {
          mine.set(this, { wrapped: (value as { identity: { userId: string } }).identity.userId });
        },
      });
    }
    // `other` was the last prototype seen, `app` is found in the per-prototype record: both must see the app's accessor.
    expect((await request(other).get('/reports').set('authorization', token)).body).toEqual({ genauth: { wrapped: 'alice' } });
    expect((await request(app).get('/reports').set('authorization', token)).body).toEqual({ genauth: { wrapped: 'alice' } });
    expect((await request(app).get('/reports').set('authorization', token)).body).toEqual({ genauth: { wrapped: 'alice' } });
  });

  it('a getter-only genauth the app defines after requests were served fails closed with a 500, as one defined before', async () => {
    const app = express();
    let handled = 0;
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req: Request, res: Response) => {
      handled++;
      res.json({ ok: true });
    });
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/reports').set('authorization', token)).status).toBe(200);
    Object.defineProperty(app.request, 'genauth', { configurable: true, get: () => undefined });
    const res = await request(app).get('/reports').set('authorization', token);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_INTERNAL');
    expect(handled).toBe(1);
  });

  it('a genauth the app cannot assign (getter only) fails closed with a 500, whether the check waited or not', async () => {
    const app = express();
    Object.defineProperty(app.request, 'genauth', { configurable: true, get: () => undefined });
    let handled = 0;
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req: Request, res: Response) => {
      handled++;
      res.json({ ok: true });
    });
    const token = await bearerFor(emulator(), 'alice');
    // The first request waits for alice's grants (the decision settles later); the second is decided at once.
    for (const _ of [1, 2]) {
      const res = await request(app).get('/reports').set('authorization', token).timeout(3000);
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('ERR_INTERNAL');
    }
    expect(handled).toBe(0);
  });
});
