// `genauth.host` over plain http off loopback was taken: the access key secret (token scheme: in the
// body of get-management-token; then the management token on every call) crossed the network in clear
// text, while a plain-http `jwt.jwksUri` off loopback was already a TypeError. genauth.host now follows
// jwt.jwksUri's rule (src/token/key-set-url.ts): https always; plain http on a loopback host
// (127.0.0.0/8, [::1], localhost: the emulator, a sidecar) or with an http jwt.issuer (local
// development); otherwise a TypeError at construction naming genauth.host, the URL not echoed. Over
// HTTP: GenAuth (the emulator) reached by a host name that is not loopback, resolved to 127.0.0.1 by the
// guard's own dispatcher as a network's DNS would.
import type { LookupFunction } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { createGuard, type GuardOptions } from '../../src/index.js';
import { closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const TOKEN = '/api/v3/get-management-token';
const HTTPS_ISSUER = 'https://issuer.example/oidc';
const genauth = { userPoolId: 'pool', accessKeySecret: 'sk' };
const httpsJwt = { issuer: HTTPS_ISSUER, jwksUri: `${HTTPS_ISSUER}/.well-known/jwks.json`, algorithms: ['RS256'] };

function built(options: Record<string, unknown>): () => void {
  return () => void createGuard(options as unknown as GuardOptions).close();
}

const OFF_LOOPBACK = [
  'http://api.example.com',
  'HTTP://Api.Example.com:8080/',
  'http://10.0.0.5',
  'http://192.168.1.10:3000',
  'http://[::ffff:10.0.0.1]',
  'http://[::2]',
  'http://localhost.example.com',
  'http://127.0.0.1.nip.io',
];

describe('genauth.host over plain http off loopback: a TypeError naming genauth.host, the URL not echoed', () => {
  it.each(OFF_LOOPBACK)('%s, with an https jwt.issuer', (host) => {
    const build = built({ genauth: { ...genauth, host }, jwt: httpsJwt });
    expect(build).toThrow(TypeError);
    expect(build).toThrow(/^genauth-guard: option "genauth\.host" .*https/);
    expect(build).not.toThrow(new RegExp(new URL(host).hostname.replace(/[.[\]]/g, '\\$&'), 'i'));
  });

  it.each(OFF_LOOPBACK)('%s, with no jwt.issuer', (host) => {
    const { issuer: _none, ...noIssuer } = httpsJwt;
    expect(built({ genauth: { ...genauth, host }, jwt: noIssuer })).toThrow(/^genauth-guard: option "genauth\.host" /);
  });

  it('with identity.resolve (no jwt at all)', () => {
    expect(built({ genauth: { ...genauth, host: 'http://api.example.com' }, identity: { resolve: () => 'alice' } })).toThrow(/^genauth-guard: option "genauth\.host" /);
  });
});

describe('accepted', () => {
  it.each([
    ['https', 'https://api.example.com'],
    ['the default', undefined],
    ['http on 127.0.0.1', 'http://127.0.0.1:9'],
    ['http elsewhere in 127.0.0.0/8', 'http://127.1.2.3:9'],
    ['http on [::1]', 'http://[::1]:9'],
    ['http on localhost', 'http://localhost:9'],
  ])('%s', (_what, host) => {
    expect(built({ genauth: { ...genauth, ...(host === undefined ? {} : { host }) }, jwt: httpsJwt })).not.toThrow();
  });

  it('plain http off loopback with an http jwt.issuer (local development), as jwt.jwksUri takes', () => {
    const jwt = { issuer: 'http://issuer.example/oidc', jwksUri: 'http://issuer.example/oidc/.well-known/jwks.json', algorithms: ['RS256'] };
    expect(built({ genauth: { ...genauth, host: 'http://genauth.example:3000' }, jwt })).not.toThrow();
  });

  it('the emulator (http on loopback) answers as before', async () => {
    resetToAliceReading(emulator());
    const guard = track(createExpressGuard(emulator().guardOptions()));
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    const token = await emulator().mintToken('alice');
    expect((await request(app).get('/reports').set('authorization', `Bearer ${token}`)).status).toBe(200);
  });
});

describe('over HTTP', () => {
  /** Every host name resolves to 127.0.0.1, as a network's DNS would send genauth.example to some server. */
  const toLoopback: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };

  it('the access key secret is never sent over plain http to a host that is not loopback', async () => {
    resetToAliceReading(emulator());
    emulator().resetCalls();
    const dispatcher = new Agent({ connect: { lookup: toLoopback } });
    const base = emulator().guardOptions();
    const options = {
      genauth: { ...base.genauth, host: `http://genauth.example:${new URL(emulator().url).port}`, dispatcher },
      jwt: { ...base.jwt, issuer: HTTPS_ISSUER },
    } as ExpressGuardOptions;
    let guard: ExpressGuard | undefined;
    let refused: unknown;
    try {
      guard = track(createExpressGuard(options));
    } catch (error) {
      refused = error;
    }
    try {
      if (guard !== undefined) {
        // Before the fix: built; the first request fetched a management token with the secret in clear.
        const app = express();
        app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
        const token = await emulator().mintToken('alice', { issuer: HTTPS_ISSUER });
        const status = (await request(app).get('/reports').set('authorization', `Bearer ${token}`)).status;
        expect.fail(`built; a request answered ${status} after ${emulator().callCount(TOKEN)} management token call(s) over plain http`);
      }
      expect(refused).toBeInstanceOf(TypeError);
      expect((refused as Error).message).toMatch(/^genauth-guard: option "genauth\.host" /);
      expect(emulator().callCount(TOKEN)).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });
});
