// Explicit typing (RFC 8725 section 3.11; RFC 9068 `at+jwt`) when `jwt.typ` is set, and `iat` in the
// future beyond the clock tolerance, on both verification paths: the synchronous HS* check (a secret)
// and jose's jwtVerify (a public key). Over real HTTP, an Express app with the emulator upstream.
import express from 'express';
import { generateKeyPair, SignJWT, type JWTHeaderParameters } from 'jose';
import request from 'supertest';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type GuardOptions, type JwtOptions } from '../../src/adapters/express.js';
import { createGuard } from '../../src/index.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const SECRET = new TextEncoder().encode('typ-iat-test-secret-0123456789abcdef');
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let guards: ExpressGuard[] = [];

beforeAll(async () => {
  keys = await generateKeyPair('ES256');
});
beforeEach(() => {
  emulator().clearGrants();
  emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
});
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  guards = [];
});

interface Source {
  name: string;
  jwt: () => JwtOptions;
  sign: (header: Omit<JWTHeaderParameters, 'alg'>, iat?: number) => Promise<string>;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (iat: number) => new SignJWT({ sub: 'alice' }).setIssuedAt(iat).setExpirationTime(now() + 600);

const SOURCES: Source[] = [
  {
    name: 'HS256 secret (synchronous check)',
    jwt: () => ({ secret: SECRET, algorithms: ['HS256'] }),
    sign: (header, iat = now()) => claims(iat).setProtectedHeader({ ...header, alg: 'HS256' }).sign(SECRET),
  },
  {
    name: 'ES256 public key (jose jwtVerify)',
    jwt: () => ({ publicKey: keys.publicKey, algorithms: ['ES256'] }),
    sign: (header, iat = now()) => claims(iat).setProtectedHeader({ ...header, alg: 'ES256' }).sign(keys.privateKey),
  },
];

function app(jwt: Partial<JwtOptions>, source: Source) {
  const guard = createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { ...source.jwt(), ...jwt } as JwtOptions });
  guards.push(guard);
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return server;
}

const get = (server: express.Express, token: string) => request(server).get('/r').set('authorization', `Bearer ${token}`);

describe.each(SOURCES)('$name', (source) => {
  describe('jwt.typ', () => {
    it.each([
      ['at+jwt', 200],
      ['AT+JWT', 200],
      ['application/at+jwt', 200],
      ['Application/AT+JWT', 200],
      ['JWT', 401],
      ['jwt+at', 401],
      ['application/jwt', 401],
    ] as const)('configured at+jwt, a token typed %s: %i', async (typ, status) => {
      const res = await get(app({ typ: 'at+jwt' }, source), await source.sign({ typ }));
      expect(res.status).toBe(status);
      if (status === 401) {
        expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
        expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      }
    });

    it('configured, a token without typ is a 401', async () => {
      const res = await get(app({ typ: 'at+jwt' }, source), await source.sign({}));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
    });

    it('configured as application/at+jwt, the short form matches', async () => {
      expect((await get(app({ typ: 'application/at+jwt' }, source), await source.sign({ typ: 'at+jwt' }))).status).toBe(200);
    });

    it('not configured, any typ (or none) passes', async () => {
      const server = app({}, source);
      expect((await get(server, await source.sign({ typ: 'JWT' }))).status).toBe(200);
      expect((await get(server, await source.sign({}))).status).toBe(200);
    });
  });

  describe('iat in the future', () => {
    it('beyond the clock tolerance is a 401 invalid_token', async () => {
      const res = await get(app({}, source), await source.sign({}, now() + 60));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    it('within the clock tolerance passes', async () => {
      expect((await get(app({ clockTolerance: 30 }, source), await source.sign({}, now() + 20))).status).toBe(200);
    });

    it('beyond a larger tolerance is still a 401', async () => {
      expect((await get(app({ clockTolerance: 30 }, source), await source.sign({}, now() + 90))).status).toBe(401);
    });
  });
});

describe('jwt.typ is checked as an option', () => {
  it.each([[''], [1], [['at+jwt']], [null]])('%j is a TypeError naming jwt.typ', (typ) => {
    const options = { ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, typ } } as unknown as GuardOptions;
    expect(() => createGuard(options)).toThrow(TypeError);
    expect(() => createGuard(options)).toThrow('option "jwt.typ"');
  });
});
