import { generateKeyPair, SignJWT } from 'jose';
import express4 from 'express4';
import express5 from 'express';
import type { Express, Request } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';


describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s requirePermission', (_name, express) => {
  let guard: ExpressGuard;
  let app: Express;
  let handled: number;

  const emulator = useEmulator();

  beforeEach(() => {
    seedStandardTenant(emulator());
    // No negative cache here, so each test can show that a failure was not cached.
    guard = createExpressGuard({
      ...emulator().guardOptions(),
      genauth: { ...emulator().guardOptions().genauth, timeout: 1500 },
      cache: { errorTtl: 0 },
    });
    handled = 0;
    app = express();
    const handler = (req: Request, res: express5.Response) => {
      handled++;
      res.json({ ok: true, user: req.genauth?.identity.userId, reason: req.genauth?.decision?.reason });
    };
    const { requirePermission } = guard; // methods work when taken off the guard
    app.post('/api/v1/servers/:id/start', requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), handler);
    app.get('/api/v1/reports', requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), handler);
    app.get('/api/v1/reports/full', requirePermission('reports', { allOf: ['reports:Read', 'reports:Admin'] }), handler);
    app.delete('/api/v1/disks/:id', requirePermission(async (req) => `disk:${req.params.id}`, 'disk:Delete'), handler);
    app.get('/api/v1/typed', requirePermission('ecs:1', 'ecs:Start', { resourceType: 'DATA' }), handler);
    app.get('/api/v1/throws', requirePermission(() => { throw new Error('boom secret-ish'); }, 'x'), handler);
  });
  afterEach(async () => {
    await guard.close();
  });

  const auth = async (user: string, options?: Parameters<GenAuthEmulator['mintToken']>[1]) =>
    `Bearer ${await emulator().mintToken(user, options)}`;

  it('allows a granted action and exposes identity and decision', async () => {
    const res = await request(app).post('/api/v1/servers/1/start').set('authorization', await auth('alice'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
  });

  it('denies with 403 insufficient_scope and problem+json', async () => {
    const res = await request(app).post('/api/v1/servers/2/start').set('authorization', await auth('alice'));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 403, code: 'ERR_PERMISSION_DENIED' });
    expect(res.text + JSON.stringify(res.headers)).not.toMatch(/eyJ|emulator-secret/);
    expect(handled).toBe(0);
  });

  it('DENY beats a wildcard ALLOW; the wildcard allows the rest', async () => {
    const token = await auth('alice');
    expect((await request(app).delete('/api/v1/disks/9').set('authorization', token)).status).toBe(403);
    expect((await request(app).delete('/api/v1/disks/8').set('authorization', token)).status).toBe(200);
  });

  it('anyOf and allOf', async () => {
    const alice = await auth('alice');
    const bob = await auth('bob');
    expect((await request(app).get('/api/v1/reports').set('authorization', alice)).status).toBe(200);
    expect((await request(app).get('/api/v1/reports').set('authorization', bob)).status).toBe(200);
    expect((await request(app).get('/api/v1/reports/full').set('authorization', alice)).status).toBe(403);
  });

  it('a user alternating between routes and resources gets each its own decision', async () => {
    // The cached path keeps each user's last decision: it must never answer another question.
    const alice = await auth('alice');
    const steps: Array<[string, string, number]> = [
      ['get', '/api/v1/reports', 200],
      ['get', '/api/v1/reports/full', 403],
      ['get', '/api/v1/reports', 200],
      ['post', '/api/v1/servers/1/start', 200],
      ['post', '/api/v1/servers/2/start', 403],
      ['post', '/api/v1/servers/1/start', 200],
      ['get', '/api/v1/typed', 403],
      ['post', '/api/v1/servers/1/start', 200],
      ['get', '/api/v1/reports/full', 403],
    ];
    const statuses = [];
    for (const [method, path] of steps) {
      const agent = request(app);
      statuses.push((await (method === 'get' ? agent.get(path) : agent.post(path)).set('authorization', alice)).status);
    }
    expect(statuses).toEqual(steps.map((s) => s[2]));
  });

  it('a route may ask for a resource type', async () => {
    expect((await request(app).get('/api/v1/typed').set('authorization', await auth('alice'))).status).toBe(403);
  });

  it('a user GenAuth does not know is denied, not an outage', async () => {
    const res = await request(app).get('/api/v1/reports').set('authorization', await auth('nobody'));
    expect(res.status).toBe(403);
  });

  it('check() agrees with the middleware', async () => {
    await expect(guard.check({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' })).resolves.toMatchObject({ allowed: true });
    await expect(guard.check({ userId: 'alice', resource: 'ecs:2', action: 'ecs:Start' })).resolves.toMatchObject({ allowed: false });
    await expect(guard.check({ userId: 'alice', resource: 'disk:9', action: 'disk:Delete' })).resolves.toMatchObject({ allowed: false, reason: 'denied' });
    await expect(guard.check({ userId: 'bob', resource: 'reports', anyOf: ['reports:Read', 'reports:Admin'] })).resolves.toMatchObject({ allowed: true });
    expect(Object.isFrozen(await guard.check({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' }))).toBe(true);
  });

  it('the decision handed to the handler is frozen', async () => {
    const seen: unknown[] = [];
    const frozenApp = express();
    frozenApp.get('/r/:id', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req: Request, res: express5.Response) => {
      seen.push(req.genauth?.decision);
      res.json({ frozen: Object.isFrozen(req.genauth?.decision) });
    });
    const token = await auth('alice');
    for (let i = 0; i < 3; i++) expect((await request(frozenApp).get('/r/1').set('authorization', token)).body).toEqual({ frozen: true });
    // The first request loaded the grants; the third reused the decision the second made from them.
    expect(seen[2]).toBe(seen[1]);
  });

  describe('tokens', () => {
    it('no token: 401 without an error code', async () => {
      const res = await request(app).get('/api/v1/reports');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(res.body.code).toBe('ERR_MISSING_TOKEN');
    });

    it('another scheme counts as no token', async () => {
      const res = await request(app).get('/api/v1/reports').set('authorization', 'Basic YTpi');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('a malformed Bearer header is 400 invalid_request', async () => {
      const res = await request(app).get('/api/v1/reports').set('authorization', 'Bearer a b');
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/);
    });

    it.each([
      ['malformed', async () => 'Bearer not.a.jwt'],
      ['expired', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { expiresIn: -120 })}`],
      ['missing exp', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { expiresIn: null })}`],
      ['wrong alg (HS256)', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { alg: 'HS256' })}`],
      ['wrong iss', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { issuer: 'https://evil.example/oidc' })}`],
      ['wrong aud', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { audience: 'other-app' })}`],
      ['non-string sub', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { claims: { sub: 42 } })}`],
      ['empty sub', async (e: GenAuthEmulator) => `Bearer ${await e.mintToken('alice', { claims: { sub: '' } })}`],
      [
        'wrong key',
        async (e: GenAuthEmulator) => {
          const { privateKey } = await generateKeyPair('RS256');
          return `Bearer ${await e.mintToken('alice', { key: privateKey })}`;
        },
      ],
      [
        'alg none',
        async (e: GenAuthEmulator) => {
          const header = Buffer.from('{"alg":"none"}').toString('base64url');
          const body = Buffer.from(JSON.stringify({ sub: 'alice', iss: e.issuer, aud: e.audience, exp: 9e9 })).toString('base64url');
          return `Bearer ${header}.${body}.`;
        },
      ],
    ])('%s: 401 invalid_token, handler not run', async (_label, make) => {
      const res = await request(app).get('/api/v1/reports').set('authorization', await make(emulator()));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
      expect(res.body.code).toBe('ERR_INVALID_TOKEN');
      expect(handled).toBe(0);
    });

    it('two Authorization headers are a 400 invalid_request', async () => {
      const token = await auth('alice');
      const port = await listen(app);
      const raw = await rawRequest(
        port,
        `GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${token}\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/error="invalid_request"/);
      expect(handled).toBe(0);
    });

    it('a token already verified is judged by the whole header as before, in every form', async () => {
      const token = (await auth('alice')).slice('Bearer '.length);
      const status = async (header: string) => (await request(app).get('/api/v1/reports').set('authorization', header)).status;
      // Verified and cached in the plain form, then found in the cache the plain way.
      expect(await status(`Bearer ${token}`)).toBe(200);
      expect(await status(`Bearer ${token}`)).toBe(200);
      // Other forms the RFC allows still pass, through the full syntax check.
      expect(await status(`bearer ${token}`)).toBe(200);
      expect(await status(`Bearer   ${token}`)).toBe(200);
      // A cached token followed by anything is not that token.
      expect(await status(`Bearer ${token} x`)).toBe(400);
      expect(await status(`Bearer ${token}x`)).toBe(401);
      expect(await status(`Bearer ${token}.`)).toBe(401);
      expect(await status(`Bearer ${token},Bearer ${token}`)).toBe(400);
      // Twice, even with a cached token, is ambiguous.
      const port = await listen(app);
      const raw = await rawRequest(
        port,
        `GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(handled).toBe(4);
    });

    it('JWKS unreachable is 503, not 401', async () => {
      emulator().setJwksAvailable(false);
      const res = await request(app).get('/api/v1/reports').set('authorization', await auth('alice'));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.code).toBe('ERR_KEYS_UNAVAILABLE');
    });
  });

  describe('upstream failures', () => {
    it.each([
      ['HTTP 500', { kind: 'status', status: 500 }],
      ['HTTP 503', { kind: 'status', status: 503 }],
      ['200 with an error body', { kind: 'body-error', statusCode: 500, message: 'internal upstream detail' }],
      ['slow beyond the deadline', { kind: 'latency', ms: 3000 }],
      ['hang', { kind: 'hang' }],
      ['dropped connection', { kind: 'drop' }],
    ] as const)('%s -> 503 and nothing cached', async (_label, fault) => {
      emulator().fault({ ...fault, path: RESOURCES } as never);
      const token = await auth('alice');
      const res = await request(app).get('/api/v1/reports').set('authorization', token);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      const everything = JSON.stringify(res.body) + JSON.stringify(res.headers);
      expect(everything).not.toMatch(/upstream detail|emulator-secret/);
      expect(everything).not.toContain(token.slice(7));
      expect(handled).toBe(0);
      emulator().clearFaults();
      const before = emulator().callCount(RESOURCES);
      expect((await request(app).get('/api/v1/reports').set('authorization', token)).status).toBe(200);
      expect(emulator().callCount(RESOURCES)).toBe(before + 1);
    });

    it('HTTP 429 with Retry-After -> 503 carrying it, and no call during the back-off', async () => {
      emulator().fault({ kind: 'status', status: 429, retryAfter: 7, path: RESOURCES });
      const token = await auth('alice');
      const res = await request(app).get('/api/v1/reports').set('authorization', token);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      emulator().clearFaults();
      const calls = emulator().callCount(RESOURCES);
      const again = await request(app).get('/api/v1/reports').set('authorization', token);
      expect(again.status).toBe(503);
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
      expect(emulator().callCount(RESOURCES)).toBe(calls);
    });

    it('upstream down entirely -> 503', async () => {
      const down = createExpressGuard({
        ...emulator().guardOptions(),
        genauth: { ...emulator().guardOptions().genauth, host: 'http://127.0.0.1:9' },
      });
      const downApp = express();
      downApp.get('/x', down.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('no'));
      const res = await request(downApp).get('/x').set('authorization', await auth('alice'));
      expect(res.status).toBe(503);
      await down.close();
    });

    it('32 concurrent cold requests make one upstream call, then the cache answers', async () => {
      emulator().fault({ kind: 'latency', ms: 100, path: RESOURCES });
      const token = await auth('alice');
      const server = await listen(app);
      const responses = await Promise.all(
        Array.from({ length: 32 }, () => request(`http://127.0.0.1:${server}`).get('/api/v1/reports').set('authorization', token)),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(32).fill(200));
      expect(emulator().callCount(RESOURCES)).toBe(1);
      await request(app).get('/api/v1/reports').set('authorization', token);
      expect(emulator().callCount(RESOURCES)).toBe(1);
    });

    it('invalidateUser forces a refetch', async () => {
      const token = await auth('alice');
      await request(app).get('/api/v1/reports').set('authorization', token);
      emulator().setGrants('alice', []);
      expect((await request(app).get('/api/v1/reports').set('authorization', token)).status).toBe(200);
      guard.invalidateUser('alice');
      expect((await request(app).get('/api/v1/reports').set('authorization', token)).status).toBe(403);
      emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
      guard.invalidateAll();
      expect((await request(app).get('/api/v1/reports').set('authorization', token)).status).toBe(200);
    });
  });

  it('a resource function that throws fails closed with 500 and reveals nothing', async () => {
    const res = await request(app).get('/api/v1/throws').set('authorization', await auth('alice'));
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/boom/);
    expect(handled).toBe(0);
  });

  it('passErrors hands the typed error to Express', async () => {
    const passing = createExpressGuard({ ...emulator().guardOptions(), passErrors: true });
    const passApp = express();
    passApp.get('/x', passing.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('no'));
    passApp.use((err: { status: number; code: string; headers: Record<string, string> }, _req: Request, res: express5.Response, _next: unknown) => {
      res.status(err.status).set(err.headers).json({ mine: err.code });
    });
    const res = await request(passApp).get('/x');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ mine: 'ERR_MISSING_TOKEN' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    await passing.close();
  });
});

const servers: import('node:http').Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

async function listen(app: Express): Promise<number> {
  const server = app.listen(0);
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as import('node:net').AddressInfo).port;
}

async function rawRequest(port: number, text: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

void SignJWT;
