// `jwt.jwksUri` over plain http while `jwt.issuer` is https. OIDC discovery already refuses to fetch a
// key set over http for an https issuer (whoever can change the key set in transit can sign tokens the
// guard accepts), but a configured jwksUri was taken as it was: an https issuer's key set fetched over
// plain http from any host. Now that is a TypeError at construction naming jwt.jwksUri. Plain http
// stays accepted on a loopback host (127.0.0.0/8, [::1], localhost: nothing crosses a network; a
// sidecar, the emulator, tests), and when the issuer is http itself (local development, as discovery
// allows). With no issuer (or one that is not an http URL) plain http off loopback was taken too; it is
// now the same TypeError. Over HTTP: a key server reached by a host name that is not
// loopback (resolved to 127.0.0.1 by the test's dispatcher, as a network's DNS would), and the emulator.
import { randomUUID } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
type Jwt = NonNullable<ExpressGuardOptions['jwt']>;

const HTTPS_ISSUER = 'https://issuer.example/oidc';
const JWKS = '/oidc/.well-known/jwks.json';

/** The emulator's jwt options with `jwt` over them; a key given as undefined (`issuer: undefined`) is left out (no issuer). */
function guardWith(jwt: Partial<Jwt>): ExpressGuard {
  const base = emulator().guardOptions().jwt as Jwt;
  const merged: Record<string, unknown> = { ...base, ...jwt };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return track(createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: merged as unknown as Jwt }));
}
const build = (jwt: Partial<Jwt>) => () => guardWith(jwt);

describe('an https jwt.issuer with an http jwt.jwksUri', () => {
  it.each([
    'http://keys.example/oidc/.well-known/jwks.json',
    'HTTP://Keys.Example:8080/jwks',
    'http://10.0.0.5/jwks',
    'http://192.168.1.10:8080/realms/x/protocol/openid-connect/certs',
    'http://[::ffff:10.0.0.1]/jwks',
    'http://localhost.example.com/jwks',
    'http://127.0.0.1.nip.io/jwks',
  ])('%s: a TypeError at construction naming jwt.jwksUri, the URL not echoed', (jwksUri) => {
    // Before the fix: built, and the key set fetched over plain http.
    expect(build({ issuer: HTTPS_ISSUER, jwksUri })).toThrow(TypeError);
    expect(build({ issuer: HTTPS_ISSUER, jwksUri })).toThrow(/^genauth-guard: option "jwt\.jwksUri" .*https/);
    expect(build({ issuer: HTTPS_ISSUER, jwksUri })).not.toThrow(new RegExp(new URL(jwksUri).hostname.replace(/[.[\]]/g, '\\$&'), 'i'));
  });

  it.each([
    ['https', 'https://keys.example/jwks'],
    ['http on 127.0.0.1', 'http://127.0.0.1:9999/jwks'],
    ['http on another 127/8 address', 'http://127.5.6.7:9999/jwks'],
    ['http on [::1]', 'http://[::1]:9999/jwks'],
    ['http on localhost', 'http://LOCALHOST:9999/jwks'],
  ])('%s: accepted', (_what, jwksUri) => {
    expect(build({ issuer: HTTPS_ISSUER, jwksUri })).not.toThrow();
  });
});

describe('no jwt.issuer, or one that is not a URL, with an http jwt.jwksUri', () => {
  // Before: built, the key set fetched over plain http from any host, so whoever could change it in
  // transit could sign tokens the guard accepted (RFC 8414 and OIDC Discovery: the jwks_uri is https).
  it.each([
    [undefined, 'http://keys.example/oidc/.well-known/jwks.json'],
    [undefined, 'http://10.0.0.5/jwks'],
    [undefined, 'http://localhost.example.com/jwks'],
    ['issuer-without-scheme', 'http://keys.example/jwks'],
    ['urn:example:issuer', 'http://keys.example/jwks'],
  ])('issuer %s, %s: a TypeError at construction naming jwt.jwksUri, the URL not echoed', (issuer, jwksUri) => {
    expect(build({ issuer, jwksUri })).toThrow(TypeError);
    expect(build({ issuer, jwksUri })).toThrow(/^genauth-guard: option "jwt\.jwksUri" .*https/);
    expect(build({ issuer, jwksUri })).not.toThrow(new RegExp(new URL(jwksUri).hostname.replace(/[.[\]]/g, '\\$&'), 'i'));
  });

  it.each([
    ['https', 'https://keys.example/jwks'],
    ['http on 127.0.0.1', 'http://127.0.0.1:9999/jwks'],
    ['http on [::1]', 'http://[::1]:9999/jwks'],
    ['http on localhost', 'http://localhost:9999/jwks'],
  ])('%s: accepted', (_what, jwksUri) => {
    expect(build({ issuer: undefined, jwksUri })).not.toThrow();
  });
});

describe('an http issuer: plain http as before', () => {
  it('an http issuer (local development, as discovery allows)', () => {
    expect(build({ issuer: 'http://issuer.example/oidc', jwksUri: 'http://keys.example/jwks' })).not.toThrow();
  });

  it('the emulator (an http issuer on loopback) verifies its tokens', async () => {
    const guard = guardWith({});
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    const token = await emulator().mintToken('alice');
    expect((await request(app).get('/me').set('authorization', `Bearer ${token}`)).status).toBe(200);
  });
});

describe('over HTTP', () => {
  const previous = getGlobalDispatcher();
  afterEach(() => setGlobalDispatcher(previous));

  /** Every host name resolves to 127.0.0.1, as a network's DNS would send keys.example to some server. */
  const toLoopback: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };

  it('a key set on a host that is not loopback is never fetched over http for an https issuer', async () => {
    setGlobalDispatcher(new Agent({ connect: { lookup: toLoopback } }));
    const port = new URL(emulator().url).port;
    const jwksUri = `http://keys.example:${port}/oidc/.well-known/jwks.json`;
    emulator().resetCalls();
    let guard: ExpressGuard | undefined;
    let refused: unknown;
    try {
      guard = guardWith({ issuer: HTTPS_ISSUER, jwksUri });
    } catch (error) {
      refused = error;
    }
    if (guard !== undefined) {
      // Before the fix: built; a token of the https issuer is then verified with keys fetched over plain http.
      const app = express();
      app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
      const token = await emulator().mintToken('alice', { issuer: HTTPS_ISSUER, claims: { jti: randomUUID() } });
      const status = (await request(app).get('/me').set('authorization', `Bearer ${token}`)).status;
      expect.fail(`built; a token of the https issuer answered ${status} after ${emulator().callCount(JWKS)} key set fetch(es) over plain http`);
    }
    expect(refused).toBeInstanceOf(TypeError);
    expect(emulator().callCount(JWKS)).toBe(0);
  });
});
