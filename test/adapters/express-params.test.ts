// What docs/express.md ("The resource and the handler must read the same value") says of Express's
// params, on Express 4 and 5: the traps the guard cannot see (the handler runs on server 9 past a DENY
// on `ecs:9`) and the remedies the page gives (refused). If Express changes any of this, the page is wrong.
import express4 from 'express4';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import net from 'node:net';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s: which params the resource reads', (name, express) => {
  let guard: ExpressGuard;
  let seen: Array<Record<string, unknown>>;
  const handler = (req: Request, res: Response) => {
    seen.push({ ...req.params });
    res.json({ ok: true });
  };
  const byId = (req: Request) => `ecs:${req.params.id}`;

  beforeEach(() => {
    emulator().setGrants('alice', [
      { resourceCode: 'ecs:*', actions: ['ecs:Describe'] },
      { resourceCode: 'ecs:9', actions: ['ecs:Describe'], effect: 'DENY' },
      { resourceCode: 'files:*', actions: ['read'] },
      { resourceCode: 'files:secret:*', actions: ['read'], effect: 'DENY' },
    ]);
    guard = createExpressGuard(emulator().guardOptions());
    seen = [];
  });
  afterEach(async () => {
    await guard.close();
  });

  const get = async (app: express5.Express, url: string) => request(app).get(url).set('authorization', await bearerFor(emulator(), 'alice'));

  it.each(['/servers/9%3Astart', '/servers/9%2F', '/servers/%209', '/servers/09'])('%s: a decoded, non-canonical param passes the DENY (trap)', async (url) => {
    const app = express();
    app.get('/servers/:id', guard.requirePermission(byId, 'ecs:Describe'), handler);
    const res = await get(app, url);
    expect(res.status).toBe(200);
    expect(parseInt(seen[0]!.id as string, 10)).toBe(9);
  });

  it.each(['/servers/9%3Astart', '/servers/9%2F', '/servers/%209', '/servers/09'])('%s: a code built as the handler reads the value is refused', async (url) => {
    const app = express();
    app.get('/servers/:id', guard.requirePermission((req) => `ecs:${Number(req.params.id)}`, 'ecs:Describe'), handler);
    const res = await get(app, url);
    expect([403, 500]).toContain(res.status);
    expect(seen).toEqual([]);
  });

  it("app.param() does not run for a mounted router's routes (trap); router.param() does", async () => {
    const app = express();
    const digits = (_req: Request, res: Response, next: NextFunction, value: string) => (/^\d+$/.test(value) ? next() : res.status(404).end());
    app.param('id', digits);
    const router = express.Router();
    router.get('/servers/:id', guard.requirePermission(byId, 'ecs:Describe'), handler);
    app.use('/a', router);
    const checked = express.Router();
    checked.param('id', digits);
    checked.get('/servers/:id', guard.requirePermission(byId, 'ecs:Describe'), handler);
    app.use('/b', checked);
    expect((await get(app, '/a/servers/%209')).status).toBe(200);
    expect((await get(app, '/b/servers/%209')).status).toBe(404);
    expect(seen).toEqual([{ id: ' 9' }]);
  });

  it("a guard in app.use('/servers/:id') reads that path's params, not the route's (trap); on the route it reads the route's", async () => {
    const app = express();
    app.use('/servers/:id', guard.requirePermission(byId, 'ecs:Describe'));
    app.get('/servers/:id-:name', handler);
    app.get('/disks/:id-:name', guard.requirePermission(byId, 'ecs:Describe'), handler);
    expect((await get(app, '/servers/9-x')).status).toBe(200);
    expect((await get(app, '/disks/9-x')).status).toBe(403);
    expect(seen).toEqual([{ id: '9', name: 'x' }]);
  });

  it("mergeParams: a guard in child.use() reads the parent's param, a child route's param of the same name replaces it", async () => {
    const app = express();
    const child = express.Router({ mergeParams: true });
    child.use(guard.requirePermission(byId, 'ecs:Describe'));
    child.get('/files/:id', handler);
    app.use('/servers/:id', child);
    expect((await get(app, '/servers/1/files/9')).status).toBe(200);
    expect((await get(app, '/servers/9/files/1')).status).toBe(403);
    expect(seen).toEqual([{ id: '9' }]);
  });

  it('an absent optional param is refused (500), never decided', async () => {
    const app = express();
    app.get(name === 'Express 5' ? '/servers{/:id}' : '/servers/:id?', guard.requirePermission(byId, 'ecs:Describe'), handler);
    const res = await get(app, '/servers');
    expect(res.status).toBe(500);
    expect(seen).toEqual([]);
  });

  it('a percent-escape that is not UTF-8 is answered 400 by Express before the guard or the handler', async () => {
    const app = express();
    let guarded = 0;
    app.get('/servers/:id', guard.requirePermission((req) => (guarded++, byId(req)), 'ecs:Describe'), handler);
    expect((await get(app, '/servers/%E0%A4%A')).status).toBe(400);
    expect(guarded).toBe(0);
    expect(seen).toEqual([]);
  });

  it.runIf(name === 'Express 5')("*splat is an array: joined by the template with commas, it passes a DENY the handler's path falls under (trap)", async () => {
    const app = express();
    app.get('/files/*splat', guard.requirePermission((req: Request) => `files:${req.params.splat as unknown as string}`, 'read'), handler);
    app.get('/safe/*splat', guard.requirePermission((req: Request) => `files:${(req.params.splat as unknown as string[]).join(':')}`, 'read'), handler);
    expect((await get(app, '/files/secret/x')).status).toBe(200);
    expect((await get(app, '/safe/secret/x')).status).toBe(403);
    expect(seen).toEqual([{ splat: ['secret', 'x'] }]);
  });

  it('passErrors: an error handler that calls next() resumes routing for the refused caller (trap)', async () => {
    const passing = createExpressGuard({ ...emulator().guardOptions(), passErrors: true });
    try {
      const app = express();
      app.get('/servers/:id', passing.requirePermission(byId, 'ecs:Describe'), handler);
      app.use((_err: unknown, _req: Request, _res: Response, next: NextFunction) => next());
      app.get('/servers/:id', (_req: Request, res: Response) => res.json({ later: true }));
      const res = await get(app, '/servers/9');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ later: true });
      expect(seen).toEqual([]);
    } finally {
      await passing.close();
    }
  });

  it('an async resource function that resolves after the client left: the handler does not run, nothing is written', async () => {
    const app = express();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gone!: () => void;
    const left = new Promise<void>((resolve) => (gone = resolve));
    let asked = 0;
    let decided = 0;
    const watched = createExpressGuard({ ...emulator().guardOptions(), onDecision: () => void decided++ });
    app.get(
      '/servers/:id',
      watched.requirePermission(async (req: Request) => {
        asked++;
        if (req.query.wait !== undefined) {
          req.socket.once('close', gone);
          await gate;
        }
        return `ecs:${req.params.id}`;
      }, 'ecs:Describe'),
      handler,
    );
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => server.once('listening', resolve));
      const { port } = server.address() as net.AddressInfo;
      const authorization = await bearerFor(emulator(), 'alice');
      // Grants cached: the resource function is the only wait.
      expect((await request(server).get('/servers/1').set('authorization', authorization)).status).toBe(200);
      let answer = '';
      const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /servers/1?wait HTTP/1.1\r\nhost: x\r\nauthorization: ${authorization}\r\n\r\n`));
      socket.on('data', (chunk) => (answer += String(chunk)));
      await vi.waitFor(() => expect(asked).toBe(2), { timeout: 5_000, interval: 5 });
      socket.destroy();
      await left;
      release();
      await vi.waitFor(() => expect(decided).toBe(2), { timeout: 5_000, interval: 5 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual([{ id: '1' }]);
      expect(answer).toBe('');
    } finally {
      server.close();
      await watched.close();
    }
  });
});
