/**
 * API mode on real Express 4 and 5 apps with routers mounted under prefixes. Odd request targets go
 * over a raw `net` socket, byte for byte, since supertest and fetch would normalize them.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import cors from 'cors';
import express4 from 'express4';
import express5 from 'express';
import type { Express, Request, Response } from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { useEmulator } from '../fixtures.js';
import { raw } from '../paths/raw.js';

function listen(app: Express): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

type ExpressModule = typeof express5;

/** Which handler ran, and for which URL and params. */
interface Ran {
  route: string;
  url: string;
  params: Record<string, string>;
}

const PUBLIC_PATHS = ['/health', '/docs/*'];

function buildApp(express: ExpressModule, guard: ExpressGuard, ran: Ran[], withCors: boolean, caseSensitive?: false): Express {
  const app = express();
  const h = (route: string) => (req: Request, res: Response) => {
    ran.push({ route, url: req.originalUrl, params: { ...req.params } as Record<string, string> });
    res.json({ route, user: req.genauth?.identity.userId ?? null, grant: req.genauth?.decision?.grant?.code ?? null });
  };
  if (withCors) app.use(cors());
  app.use(guard.api(caseSensitive === false ? { publicPaths: PUBLIC_PATHS, caseSensitive } : { publicPaths: PUBLIC_PATHS }));

  const v1 = express.Router();
  v1.get('/users', h('users'));
  v1.get('/users/:id', h('user'));
  v1.delete('/users/:id', h('user-delete'));
  v1.all('/admin', h('admin'));
  v1.all('/admin/:sub', h('admin-sub'));
  v1.all('/all', h('all'));
  v1.get('/:name', h('name'));
  const v2 = express.Router();
  v2.get('/items/:id', h('item'));
  const api = express.Router();
  api.use('/v1', v1);
  api.use('/v2', v2);
  app.use('/api', api);
  app.get('/health', h('health'));
  const docs = express.Router();
  docs.get('/:page', h('docs'));
  app.use('/docs', docs);
  return app;
}

describe.each([
  ['Express 4', express4 as unknown as ExpressModule],
  ['Express 5', express5],
])('%s guard.api()', (_name, express) => {
  const emulator = useEmulator();
  let guard: ExpressGuard;
  let server: Server;
  let port: number;
  let corsServer: Server;
  let corsPort: number;
  let foldingServer: Server;
  let foldingPort: number;
  const ran: Ran[] = [];
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'v1', resourceType: 'API', apiIdentifier: '/api/v1/*', actions: ['read', 'create', 'update'] },
      { resourceCode: 'admin', resourceType: 'API', apiIdentifier: '/api/v1/admin/*', actions: ['*'], effect: 'DENY' },
      { resourceCode: 'user-0', resourceType: 'API', apiIdentifier: '/api/v1/users/0', actions: ['*'], effect: 'DENY' },
      { resourceCode: 'item', resourceType: 'API', apiIdentifier: '/api/v2/items/{id}', actions: ['read'] },
      // Not API resources: they never count in API mode.
      { resourceCode: 'data', resourceType: 'DATA', apiIdentifier: '/api/v2/*', actions: ['*'] },
    ]);
    // Conditional grants: an ALLOW and a DENY that hold from loopback, an ALLOW that does not.
    emulator().setGrants('carol', [
      { resourceCode: 'c', resourceType: 'API', apiIdentifier: '/api/v1/*', actions: ['read'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }] },
      { resourceCode: 'c-deny', resourceType: 'API', apiIdentifier: '/api/v1/users/:id', actions: ['read'], effect: 'DENY', condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }] },
      { resourceCode: 'c-far', resourceType: 'API', apiIdentifier: '/api/v2/*', actions: ['read'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }] },
    ]);
    emulator().setGrants('bob', [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/v1/users', actions: ['read'] }]);
    guard = createExpressGuard(emulator().guardOptions());
    alice = `Bearer ${await emulator().mintToken('alice')}`;
    bob = `Bearer ${await emulator().mintToken('bob')}`;
    carol = `Bearer ${await emulator().mintToken('carol')}`;
    ({ server, port } = await listen(buildApp(express, guard, ran, false)));
    ({ server: corsServer, port: corsPort } = await listen(buildApp(express, guard, ran, true)));
    ({ server: foldingServer, port: foldingPort } = await listen(buildApp(express, guard, ran, false, false)));
  });
  afterAll(async () => {
    await close(server);
    await close(corsServer);
    await close(foldingServer);
    await guard.close();
  });
  beforeEach(() => {
    ran.length = 0;
  });

  type Who = 'alice' | 'bob' | 'none';
  const token = (who: Who): Record<string, string> => (who === 'none' ? {} : { authorization: who === 'alice' ? alice : bob });

  describe('allowed requests reach the routed handler', () => {
    it.each<[string, string, Who, string, string | null]>([
      ['GET', '/api/v1/users', 'alice', 'users', 'v1'],
      ['GET', '/api/v1/users', 'bob', 'users', 'users'],
      ['GET', '/api/v1/users/', 'bob', 'users', 'users'],
      ['GET', '/api/v1/users/7', 'alice', 'user', 'v1'],
      ['GET', '/api/v2/items/3', 'alice', 'item', 'item'],
      ['GET', '/api/v1/users?x=/../admin', 'alice', 'users', 'v1'],
      ['GET', 'http://evil.example/api/v1/users', 'alice', 'users', 'v1'],
      ['GET', '/health', 'none', 'health', null],
      ['GET', '/health/', 'none', 'health', null],
      ['GET', '/docs/intro', 'none', 'docs', null],
    ])('%s %s as %s -> 200 from %s', async (method, target, who, route, grant) => {
      const res = await raw(port, method, target, token(who));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ route, user: who === 'none' ? null : who, grant });
      expect(ran.map((r) => r.route)).toEqual([route]);
    });

    it.each<[string, string, Who, string, string | null]>([
      ['GET', '/API/V1/USERS/', 'bob', 'users', 'users'],
      ['GET', '/HEALTH/', 'none', 'health', null],
      ['GET', '/DOCS/Intro', 'none', 'docs', null],
    ])('with caseSensitive: false, ALLOW patterns and public paths fold as Express does: %s %s as %s -> 200 from %s', async (method, target, who, route, grant) => {
      const res = await raw(foldingPort, method, target, token(who));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ route, user: who === 'none' ? null : who, grant });
      expect(ran.map((r) => r.route)).toEqual([route]);
    });

    it('HEAD is checked like GET and reaches the GET handler when allowed', async () => {
      const res = await raw(port, 'HEAD', '/api/v1/users', token('bob'));
      expect(res.status).toBe(200);
      expect(ran.map((r) => r.route)).toEqual(['users']);
    });

    it('an encoded letter is checked decoded, while Express routes the raw spelling: 404, no handler', async () => {
      const res = await raw(port, 'GET', '/api/v1/%75sers/7', token('alice'));
      expect(res.status).toBe(404);
      expect(ran).toEqual([]);
    });

    it('double encoding is decoded once: the handler sees the literal, never the admin route', async () => {
      const res = await raw(port, 'GET', '/api/v1/%2561dmin', token('alice'));
      expect(res.status).toBe(200);
      expect(ran).toEqual([{ route: 'name', url: '/api/v1/%2561dmin', params: { name: '%61dmin' } }]);
    });

    it('a non-ASCII lookalike of a denied segment is another path, and routes elsewhere', async () => {
      const res = await raw(port, 'GET', '/api/v1/adm%C4%B0n', token('alice'));
      expect(res.status).toBe(200);
      expect(ran).toEqual([{ route: 'name', url: '/api/v1/adm%C4%B0n', params: { name: 'admİn' } }]);
    });
  });

  // [method, target, who, status, code, extra headers]
  type Row = [string, string, Who, number, string | null, Record<string, string>?];
  const LONG = 'a'.repeat(8000);
  const BYPASS: Row[] = [
    // baseline
    ['GET', '/api/v1/admin', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['POST', '/api/v1/admin/run', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/users/0', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    // case and trailing slash (Express routes these to the same handlers)
    ['GET', '/API/V1/ADMIN', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/ADMIN', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['PUT', '/api/v1/Admin/x/', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/admin/', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/Api/V1/Admin/', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/API/v1/USERS/0/', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    // percent-encoded letters and digits
    ['GET', '/api/v1/%61dmin', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/%41DMIN/x', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/%61pi/v1/admin', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/users/%30', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    // double slashes
    ['GET', '//api/v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api//v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1//admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    // encoded slashes and backslashes
    ['GET', '/api/v1%2Fadmin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api%2fv1%2fadmin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/admin%2F', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1%5Cadmin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1\\admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    // dot segments, plain and encoded
    ['GET', '/api/v1/users/../admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/./admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/%2e%2e/v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/.%2E/v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/health/../api/v1/admin', 'none', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/docs/%2e%2e/api/v1/admin', 'none', 400, 'ERR_INVALID_REQUEST'],
    // matrix parameters, NUL, fragments
    ['GET', '/api/v1/admin;jsessionid=1', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1;x=1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/health;x=1', 'none', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/admin%00', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/admin#/users', 'alice', 400, 'ERR_INVALID_REQUEST'],
    // absolute-form targets: the host never matters, the path does
    ['GET', 'http://evil.example/api/v1/admin', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', 'http://127.0.0.1:1/API/V1/ADMIN/', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', 'HTTP://127.0.0.1:1/API/V1/ADMIN/', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', 'http://evil.example/health/../api/v1/admin', 'none', 400, 'ERR_INVALID_REQUEST'],
    ['GET', 'http://ev!l/api/v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['GET', 'http://user@evil.example/api/v1/admin', 'alice', 400, 'ERR_INVALID_REQUEST'],
    ['OPTIONS', '*', 'alice', 400, 'ERR_INVALID_REQUEST'],
    // HEAD, OPTIONS and unknown methods
    ['HEAD', '/api/v1/admin', 'alice', 403, null],
    ['HEAD', '/API/V1/ADMIN/', 'alice', 403, null],
    ['OPTIONS', '/api/v1/all', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['OPTIONS', '/api/v1/all', 'none', 401, 'ERR_MISSING_TOKEN'],
    ['OPTIONS', '/api/v1/users', 'alice', 403, 'ERR_PERMISSION_DENIED', { origin: 'https://app.example', 'access-control-request-method': 'GET' }],
    ['PROPFIND', '/api/v1/all', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['PURGE', '/api/v1/all', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['DELETE', '/api/v1/users/1', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    // mount prefixes: bob's grant is one exact path
    ['GET', '/api/v1/users/1', 'bob', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/api/v1/%75sers/1', 'bob', 403, 'ERR_PERMISSION_DENIED'],
    ['POST', '/api/v1/users', 'bob', 403, 'ERR_PERMISSION_DENIED'],
    // ALLOW patterns and public paths match case-sensitively by default, though Express folds case
    ['GET', '/API/V1/USERS/', 'bob', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', '/HEALTH/', 'none', 401, 'ERR_MISSING_TOKEN'],
    ['GET', '/DOCS/Intro', 'none', 401, 'ERR_MISSING_TOKEN'],
    // grants of other resource types never count
    ['GET', '/api/v2/other', 'alice', 403, 'ERR_PERMISSION_DENIED'],
    // very long paths
    ['GET', `/api/v1/admin/${LONG}`, 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', `/api/v1/admin${'/x'.repeat(3000)}`, 'alice', 403, 'ERR_PERMISSION_DENIED'],
    ['GET', `/api/v1/${'b'.repeat(20_000)}`, 'alice', 431, null],
    // unicode: raw bytes are not a valid request target (Node's parser refuses them before the guard would)
    ['GET', '/api/v1/adm\u00c4\u00b0n', 'alice', 400, null],
    ['GET', '/api/v1/caf\u00c3\u00a9', 'alice', 400, null],
    // client headers never influence the decision
    ['GET', '/api/v1/admin', 'alice', 403, 'ERR_PERMISSION_DENIED', { 'x-original-url': '/api/v1/users', 'x-rewrite-url': '/api/v1/users' }],
    ['GET', '/api/v1/admin', 'alice', 403, 'ERR_PERMISSION_DENIED', { 'x-forwarded-prefix': '/public', 'x-forwarded-host': 'evil.example' }],
    // order: 400 before 401, 401 before 403
    ['GET', '/api/v1/admin;x', 'none', 400, 'ERR_INVALID_REQUEST'],
    ['GET', '/api/v1/admin', 'none', 401, 'ERR_MISSING_TOKEN'],
    ['GET', '/healthz', 'none', 401, 'ERR_MISSING_TOKEN'],
    ['GET', '/nowhere', 'alice', 403, 'ERR_PERMISSION_DENIED'],
  ];

  it.each(BYPASS)('%s %s as %s -> %i %s', async (method, target, who, status, code, headers = {}) => {
    const res = await raw(port, method, target, { ...token(who), ...headers });
    expect(res.status).toBe(status);
    if (code !== null) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ status, code });
    }
    expect(ran).toEqual([]);
  });

  it('conditions are evaluated like the core: a holding ALLOW applies, a holding DENY overrides', async () => {
    const auth = { authorization: carol };
    expect((await raw(port, 'GET', '/api/v1/users', auth)).status).toBe(200);
    expect((await raw(port, 'GET', '/api/v1/users/1', auth)).status).toBe(403);
    expect((await raw(port, 'GET', '/api/v2/items/1', auth)).status).toBe(403);
    expect(ran.map((r) => r.route)).toEqual(['users']);
  });

  it('answers are byte-identical to requirePermission answers (problem+json, headers, no path echoed)', async () => {
    const res = await raw(port, 'GET', '/api/v1/admin;secret-path', token('alice'));
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toContain('secret-path');
    const denied = await raw(port, 'GET', '/api/v1/admin', token('alice'));
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"');
  });

  it('GenAuth down: 503, never 401/403, and the handler does not run', async () => {
    emulator().fault({ kind: 'status', status: 500 });
    guard.invalidateAll();
    try {
      const res = await raw(port, 'GET', '/api/v1/users', token('alice'));
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
      expect(ran).toEqual([]);
    } finally {
      emulator().clearFaults();
      guard.invalidateAll();
    }
  });

  describe('CORS', () => {
    const preflight = { origin: 'https://app.example', 'access-control-request-method': 'DELETE' };

    it('cors() mounted before the guard answers a preflight without credentials; no handler runs', async () => {
      const res = await raw(corsPort, 'OPTIONS', '/api/v1/all', preflight);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toContain('DELETE');
      expect(ran).toEqual([]);
    });

    it('cors() answers every OPTIONS itself, so a plain OPTIONS never reaches app.all handlers either', async () => {
      const res = await raw(corsPort, 'OPTIONS', '/api/v1/all');
      expect(res.status).toBe(204);
      expect(ran).toEqual([]);
    });

    it('behind cors(), other methods still need the token and the grant, and carry CORS headers', async () => {
      const anonymous = await raw(corsPort, 'GET', '/api/v1/users', { origin: 'https://app.example' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['access-control-allow-origin']).toBe('*');
      const denied = await raw(corsPort, 'DELETE', '/api/v1/admin', { origin: 'https://app.example', ...token('alice') });
      expect(denied.status).toBe(403);
      const allowed = await raw(corsPort, 'GET', '/api/v1/users', { origin: 'https://app.example', ...token('alice') });
      expect(allowed.status).toBe(200);
      expect(ran.map((r) => r.route)).toEqual(['users']);
    });

    it('without cors(), a preflight reaches the guard: 401 without credentials, and no handler runs', async () => {
      const res = await raw(port, 'OPTIONS', '/api/v1/all', preflight);
      expect(res.status).toBe(401);
      expect(ran).toEqual([]);
    });
  });

  it('mounted inside a prefixed router, the guard still matches the full path (originalUrl)', async () => {
    const app = express();
    const v1 = express.Router();
    v1.use(guard.api());
    v1.get('/users', (req, res) => {
      ran.push({ route: 'users', url: req.originalUrl, params: {} });
      res.json({ grant: req.genauth?.decision?.grant?.code });
    });
    v1.get('/admin', (req, res) => {
      ran.push({ route: 'admin', url: req.originalUrl, params: {} });
      res.end();
    });
    app.use('/api/v1', v1);
    const mounted = await listen(app);
    try {
      const ok = await raw(mounted.port, 'GET', '/api/v1/users', token('bob'));
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toEqual({ grant: 'users' });
      expect((await raw(mounted.port, 'GET', '/API/v1/Admin/', token('alice'))).status).toBe(403);
      expect(ran.map((r) => r.route)).toEqual(['users']);
    } finally {
      await close(mounted.server);
    }
  });

  it('options are validated when the middleware is created', () => {
    expect(() => guard.api({ publicPaths: ['health'] })).toThrow(TypeError);
    expect(() => guard.api({ methodActions: { GET: '' } })).toThrow(TypeError);
    const { api } = guard; // works when taken off the guard
    expect(typeof api()).toBe('function');
  });
});
