// Set-up mistakes said once, in words, naming the option to check: as a log line (the guard's logger)
// and as a reason of guard.ready(). Over real HTTP: an Express app on port 0, the emulator, a closed
// port, a tiny key server and an https server on a certificate made now. Expected 401/403s log nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { keySourceOption, keySourceProblem } from '../../src/core/setup-problems.js';
import { GuardNotReadyError } from '../../src/index.js';
import { bearerFor, closeAfterEach, RESOURCES, resetToAliceReading, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => resetToAliceReading(emulator()));

/** A guard with a logger that keeps its lines, behind one route requiring reports:Read. */
/** The emulator's options, whose `jwt` is always there. */
type Base = ExpressGuardOptions & { jwt: NonNullable<ExpressGuardOptions['jwt']> };

function appWith(overrides: (base: Base) => Partial<ExpressGuardOptions>) {
  const lines: string[] = [];
  const base = emulator().guardOptions() as Base;
  const guard = track(createExpressGuard({ ...base, logger: { warn: (line: string) => lines.push(line) }, ...overrides(base) }));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.send('ok'));
  return { app, guard, lines };
}

const get = (app: express.Express, authorization?: string) => {
  const call = request(app).get('/r');
  return authorization === undefined ? call : call.set('authorization', authorization);
};

async function readyReasons(guard: ExpressGuard) {
  const error = await guard.ready().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GuardNotReadyError);
  return (error as GuardNotReadyError).reasons;
}

/** A server on a port that is then closed: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('unreachable hosts', () => {
  it('genauth.host on a closed port: 503, one line naming genauth.host, and ready() rejects with it', async () => {
    const port = await closedPort();
    const { app, guard, lines } = appWith((base) => ({ genauth: { ...base.genauth, host: `http://127.0.0.1:${port}`, retries: 0 } }));
    const auth = await bearerFor(emulator(), 'alice');
    expect((await get(app, auth)).status).toBe(503);
    expect((await get(app, auth)).status).toBe(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/unreachable \(ECONNREFUSED\).*"genauth\.host"/);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'genauth.host', kind: 'unreachable' })]);
  });

  it('jwt.jwksUri on a closed port: 503 and a line naming jwt.jwksUri', async () => {
    const port = await closedPort();
    const { app, guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, jwksUri: `http://127.0.0.1:${port}/jwks.json` } as ExpressGuardOptions['jwt'] }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/unreachable.*"jwt\.jwksUri"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'unreachable' })]);
  });
});

describe('key sources that are not one', () => {
  it('a mistyped jwksUri (404): 503, a line naming jwt.jwksUri and the status', async () => {
    const { app, guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, jwksUri: `${base.genauth.host}/oidc/.well-known/jwks.jsn` } as ExpressGuardOptions['jwt'] }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/JWKS URL answered .*"jwt\.jwksUri"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'key_source_status' })]);
  });

  it('a JWKS URL answering a web page: a line saying it is not JSON, and nothing of the page', async () => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>secret-page-text</html>', path: '/oidc/.well-known/jwks.json' });
    const { app, guard, lines } = appWith(() => ({}));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/did not answer JSON.*"jwt\.jwksUri"/)]);
    expect(lines[0]).not.toMatch(/secret-page-text/);
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>secret-page-text</html>', path: '/oidc/.well-known/jwks.json' });
    const reasons = await readyReasons(guard);
    expect(reasons).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'key_source_not_json' })]);
    expect(JSON.stringify(reasons)).not.toMatch(/secret-page-text/);
  });

  it('a key server answering JSON that is no key set', async () => {
    const url = await listen(createHttpServer((_req, res) => res.setHeader('content-type', 'application/json').end('{"hello":"world"}')));
    const { guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, jwksUri: `${url}/jwks.json` } as ExpressGuardOptions['jwt'] }));
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'key_source_invalid' })]);
    expect(lines).toEqual([expect.stringMatching(/JSON Web Key Set.*"jwt\.jwksUri"/)]);
  });

  it('discovery with a mistyped issuer (its document 404): a line naming jwt.issuer and the status', async () => {
    const { guard, lines } = appWith((base) => ({ jwt: { discovery: true, issuer: `${base.genauth.host}/oidcc`, audience: base.jwt.audience, algorithms: ['RS256'] } }));
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'key_source_status' })]);
    expect(lines).toEqual([expect.stringMatching(/discovery document .* answered HTTP 404.*"jwt\.issuer"/)]);
  });

  it('discovery with an issuer that has a trailing slash: a line naming jwt.issuer', async () => {
    const { app, guard, lines } = appWith((base) => ({ jwt: { discovery: true, issuer: `${base.jwt.issuer as string}/`, audience: base.jwt.audience, algorithms: ['RS256'] } }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/discovery document's issuer differs from jwt\.issuer.*trailing slash.*"jwt\.issuer"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'discovery_mismatch' })]);
  });
});

/** A self-signed certificate made now with openssl (node:crypto cannot issue X.509). */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'genauth-guard-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  }
}

describe.skipIf(selfSigned() === undefined)('TLS (an https server on a self-signed certificate)', () => {
  let url = '';
  beforeAll(async () => {
    const tls = selfSigned() as { key: Buffer; cert: Buffer };
    const server = createHttpsServer(tls, (_req, res) => res.end('{}'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  it('jwt.jwksUri: a line naming TLS and jwt.jwksUri, and the ready() reason', async () => {
    const { app, guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, jwksUri: `${url}/jwks.json` } as ExpressGuardOptions['jwt'] }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/TLS to the JWKS URL failed.*"jwt\.jwksUri"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'tls' })]);
  });

  it('genauth.host: a line naming TLS and genauth.host, and the ready() reason', async () => {
    const { app, guard, lines } = appWith((base) => ({ genauth: { ...base.genauth, host: url, retries: 0 } }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/TLS to GenAuth \(genauth\.host\) failed.*"genauth\.host"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'genauth.host', kind: 'tls' })]);
  });
});

describe('issuer and audience mismatches', () => {
  it('an issuer with a trailing slash: 401 and a line naming "iss" and jwt.issuer', async () => {
    const { app, guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, issuer: `${base.jwt!.issuer as string}/` } }) );
    const auth = await bearerFor(emulator(), 'alice');
    expect((await get(app, auth)).status).toBe(401);
    expect((await get(app, auth)).status).toBe(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"iss" claim.*ends with a slash.*"jwt\.issuer"/);
    expect(lines[0]).not.toMatch(/"aud"/);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'issuer_mismatch' })]);
  });

  it('a wrong audience: 401 and a line naming "aud" and jwt.audience, not the issuer', async () => {
    const { app, guard, lines } = appWith((base) => ({ jwt: { ...base.jwt, audience: 'another-app' } }) );
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"aud" claim.*"jwt\.audience"/);
    expect(lines[0]).not.toMatch(/"iss"|jwt\.issuer/);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'jwt.audience', kind: 'audience_mismatch' })]);
  });

  it('the 401 passed to the framework names the failed claim in its cause: "iss" and "aud" differ, no value', async () => {
    const causes: string[] = [];
    const base = emulator().guardOptions() as Base;
    const guard = track(createExpressGuard({ ...base, logger: false, passErrors: true }));
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.send('ok'));
    app.use((error: { status: number; cause?: Error }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      causes.push(error.cause?.message ?? '');
      res.status(error.status).end();
    });
    expect((await get(app, await bearerFor(emulator(), 'alice', { issuer: 'https://other.example/oidc' }))).status).toBe(401);
    expect((await get(app, await bearerFor(emulator(), 'alice', { audience: 'another-app' }))).status).toBe(401);
    expect(causes).toEqual([expect.stringMatching(/claim "iss"$/), expect.stringMatching(/claim "aud"$/)]);
    expect(causes.join()).not.toMatch(/other\.example|another-app/);
  });

  it('once a token has verified, a foreign token is a 401 and nothing is logged; ready() resolves', async () => {
    const { app, guard, lines } = appWith(() => ({}));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(200);
    expect((await get(app, await bearerFor(emulator(), 'alice', { audience: 'another-app' }))).status).toBe(401);
    expect((await get(app, await bearerFor(emulator(), 'alice', { issuer: 'https://elsewhere.example/oidc' }))).status).toBe(401);
    expect(lines).toEqual([]);
    await guard.ready();
  });
});

describe('a namespace GenAuth does not have', () => {
  it('a mistyped genauth.namespace (body 404 on the grants query): 503, one line naming genauth.namespace', async () => {
    const { app, lines } = appWith((base) => ({ genauth: { ...base.genauth, namespace: 'reprots' } }));
    const auth = await bearerFor(emulator(), 'alice');
    expect((await get(app, auth)).status).toBe(503);
    expect((await get(app, auth)).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/statusCode 404.*"genauth\.namespace"/)]);
    // Our words only: nothing of GenAuth's message.
    expect(lines[0]).not.toMatch(/权限组/);
  });
});

describe('an answer past genauth.maxResponseBytes', () => {
  it('a user whose grants answer (HTTP 200) is cut off: 503, one line naming genauth.maxResponseBytes; ready() names it too', async () => {
    const grants = Array.from({ length: 200 }, (_, i) => ({ resourceCode: `res:${i}`, actions: ['res:Read'] }));
    emulator().setGrants('alice', [...grants, { resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { app, lines } = appWith((base) => ({ genauth: { ...base.genauth, maxResponseBytes: 4096 } }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/genauth\.maxResponseBytes.*"genauth\.maxResponseBytes"/)]);
    const warmed = appWith((base) => ({ genauth: { ...base.genauth, maxResponseBytes: 4096 }, warm: { users: ['alice'] } }));
    expect(await readyReasons(warmed.guard)).toEqual([expect.objectContaining({ kind: 'too_large', option: 'genauth.maxResponseBytes' })]);
  });

  it('a 503 with a long page is passing trouble: 503, nothing logged', async () => {
    emulator().fault({ kind: 'respond', status: 503, body: 'x'.repeat(8192), path: RESOURCES });
    const { app, lines } = appWith((base) => ({ genauth: { ...base.genauth, maxResponseBytes: 4096, retries: 0 } }));
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([]);
  });
});

describe('expected refusals are never logged', () => {
  it('no token, an expired token, a forged one, an unknown user and a denial: 401s and 403s, no line', async () => {
    const { app, lines } = appWith(() => ({}));
    expect((await get(app)).status).toBe(401);
    expect((await get(app, await bearerFor(emulator(), 'alice', { expiresIn: -60 }))).status).toBe(401);
    const token = await emulator().mintToken('alice');
    expect((await get(app, `Bearer ${token.slice(0, -4)}AAAA`)).status).toBe(401);
    expect((await get(app, await bearerFor(emulator(), 'ghost'))).status).toBe(403);
    expect((await get(app, await bearerFor(emulator(), 'bob'))).status).toBe(403);
    expect(lines).toEqual([]);
  });
});

describe('passing trouble is not a set-up problem', () => {
  it('GenAuth too slow: requests are 503 and nothing is logged; ready() names genauth.host and the timeout', async () => {
    const { app, guard, lines } = appWith((base) => ({ genauth: { ...base.genauth, timeout: 200, retries: 0 } }));
    emulator().fault({ kind: 'hang', path: '/api/v3/get-management-token' });
    expect((await get(app, await bearerFor(emulator(), 'alice'))).status).toBe(503);
    expect(lines).toEqual([]);
    emulator().fault({ kind: 'hang', path: '/api/v3/get-management-token' });
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'genauth.host', kind: 'timeout' })]);
  });
});

describe('Redis', () => {
  it('a client that is not connected: ready() names cache.redis', async () => {
    const { createClient } = await import('redis');
    const port = await closedPort();
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    const { guard, lines } = appWith(() => ({ cache: { redis: client } }));
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ option: 'cache.redis', kind: 'redis' })]);
    expect(lines.some((line) => /Redis client is not connected.*"cache\.redis"/.test(line))).toBe(true);
  });
});

// A configured key that jose refuses on a request is refused at construction (test/token/public-key-fit),
// so no real key reaches this line over HTTP today; what it names is checked on the functions themselves.
describe('the option a key-source problem names', () => {
  it('is the key source the user set, and a local key is never called a discovery document', () => {
    expect(keySourceOption({ secret: 'x' })).toBe('jwt.secret');
    expect(keySourceOption({ publicKey: 'x' })).toBe('jwt.publicKey');
    expect(keySourceOption({ jwksUri: 'x' })).toBe('jwt.jwksUri');
    expect(keySourceOption({})).toBe('jwt.issuer');
    expect(keySourceOption(undefined)).toBe('jwt.issuer');
    for (const option of ['jwt.publicKey', 'jwt.secret']) {
      const problem = keySourceProblem(new TypeError('refused'), option);
      expect(problem).toMatchObject({ kind: 'key_source_invalid', option });
      expect(problem.cause).toContain(`(${option}) could not be used (TypeError)`);
      expect(problem.cause).not.toMatch(/discovery|jwt\.issuer|refused/);
    }
    expect(keySourceProblem(new TypeError('refused'), 'jwt.issuer').cause).toMatch(/discovery document/);
  });
});
