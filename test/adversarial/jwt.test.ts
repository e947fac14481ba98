/**
 * JWT verification under attack (RFC 8725, RFC 7515/7519): `alg: none` in any spelling, algorithm
 * confusion (HS256 keyed with the RSA public key), algorithms outside the pinned list, unknown `crit`,
 * JWE and other shapes, `kid`/`jku`/`x5u`/`jwk` games, huge tokens and hostile claim types. Every one is
 * a 401 `invalid_token` that never reaches GenAuth or the handler. The guard trusts RS256 and ES256
 * keys of a JWKS it fetches over HTTP (./key-server.ts), so tokens can carry any header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSPKI, importJWK } from 'jose';
import { createTokenMinter, type TokenMinter } from '../../src/testing/index.js';
import { seedStandardTenant } from '../fixtures.js';
import { assemble, claimsFor, encrypted, hmacSigned, outsiderKey, signRaw } from './crafted-tokens.js';
import {
  ANSWER_MODES,
  bearer,
  capture,
  expectAllowed,
  expectRefused,
  forbiddenStrings,
  optionsFor,
  prototypeKeys,
  ROWS,
  send,
  startProbe,
  useAdversarialEnv,
  type Probe,
} from './harness.js';
import { startKeyServer, type KeyServer } from './key-server.js';

const emulator = useAdversarialEnv();
let minter: TokenMinter;
let keyServer: KeyServer;
let outsider: Awaited<ReturnType<typeof outsiderKey>>;
let rsaPem = '';

beforeAll(async () => {
  seedStandardTenant(emulator());
  minter = await createTokenMinter({ issuer: emulator().issuer, audience: emulator().audience });
  keyServer = await startKeyServer(minter.jwks().keys);
  outsider = await outsiderKey('RS256');
  rsaPem = await exportSPKI((await importJWK(minter.key('RS256').publicJwk, 'RS256')) as never);
});
afterAll(async () => {
  await keyServer.close();
});

const RS = () => minter.key('RS256');
const ES = () => minter.key('ES256');
const claims = (sub: unknown = 'alice', extra?: Record<string, unknown>) => claimsFor(minter.issuer, minter.audience, sub, extra);
const rsHeader = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: RS().kid, ...extra });
/** Signed by the trusted RS256 key, with any header and payload. */
const trusted = (payload: unknown = claims(), header: Record<string, unknown> = rsHeader()) => signRaw('RS256', RS().privateKey, header, payload);
/** Signed by an outsider's RSA key. */
const forged = (header: Record<string, unknown>, payload: unknown = claims()) => signRaw('RS256', outsider.privateKey, header, payload);
const now = () => Math.floor(Date.now() / 1000);

/** Builds a token once (on first use) and hands the same one to every row. */
function once(make: () => Promise<string>): () => Promise<string> {
  let made: Promise<string> | undefined;
  return () => (made ??= make());
}

/** [label, token]: each must be refused with 401 invalid_token, before any GenAuth call. */
const INVALID: Array<[string, () => Promise<string>]> = ([
  // alg: none (RFC 8725 section 2.1)
  ['alg none, empty signature', async () => assemble({ alg: 'none', typ: 'JWT' }, claims())],
  ['alg "None"', async () => assemble({ alg: 'None', typ: 'JWT' }, claims())],
  ['alg "NONE" with the trusted kid', async () => assemble({ alg: 'NONE', kid: RS().kid }, claims())],
  ['alg "nOnE"', async () => assemble({ alg: 'nOnE' }, claims())],
  ['alg none carrying a valid RS256 signature', async () => {
    const valid = await trusted();
    return assemble({ alg: 'none', typ: 'JWT' }, claims(), valid.split('.')[2]);
  }],
  ['no alg at all, validly signed', () => trusted(claims(), { typ: 'JWT', kid: RS().kid })],
  ['alg in lower case, validly signed', () => trusted(claims(), rsHeader({ alg: 'rs256' }))],
  ['alg as an array, validly signed', () => trusted(claims(), rsHeader({ alg: ['RS256'] }))],
  // algorithm confusion (RFC 8725 section 2.1, 3.1)
  ['HS256 keyed with the RSA public key (PEM)', () => hmacSigned(rsaPem, { alg: 'HS256', typ: 'JWT', kid: RS().kid }, claims())],
  ['HS256 keyed with the RSA public JWK text', () => hmacSigned(JSON.stringify(RS().publicJwk), { alg: 'HS256', typ: 'JWT' }, claims())],
  ['HS256 keyed with the RSA modulus', () => hmacSigned(String(RS().publicJwk.n), { alg: 'HS256', kid: RS().kid }, claims())],
  ['HS256 keyed with the application secret', () => hmacSigned(emulator().hs256Secret, { alg: 'HS256', typ: 'JWT' }, claims())],
  ['PS256 by a published key, alg not pinned', () => signRaw('PS256', minter.key('PS256').privateKey, { alg: 'PS256', kid: minter.key('PS256').kid }, claims())],
  ['EdDSA by a published key, alg not pinned', () => signRaw('EdDSA', minter.key('EdDSA').privateKey, { alg: 'EdDSA', kid: minter.key('EdDSA').kid }, claims())],
  ['an ES256 signature under an RS256 header', () => signRaw('ES256', ES().privateKey, rsHeader(), claims())],
  ['ES256 with r = s = 0 (CVE-2022-21449)', async () => assemble({ alg: 'ES256', kid: ES().kid }, claims(), Buffer.alloc(64).toString('base64url'))],
  // signatures
  ['signed by an outsider under the trusted kid', () => forged(rsHeader())],
  ['the signature stripped', async () => `${(await trusted()).split('.').slice(0, 2).join('.')}.`],
  ['two parts only', async () => (await trusted()).split('.').slice(0, 2).join('.')],
  ['the claims of bob under the signature of alice', async () => {
    const [header, , signature] = (await trusted()).split('.');
    return `${header}.${assemble({}, claims('bob')).split('.')[1]}.${signature}`;
  }],
  // crit (RFC 7515 section 4.1.11)
  ['an unknown crit extension, validly signed', () => trusted(claims(), rsHeader({ crit: ['x-acme'], 'x-acme': 1 }))],
  ['crit naming an absent parameter, validly signed', () => trusted(claims(), rsHeader({ crit: ['exp'] }))],
  ['crit empty, validly signed', () => trusted(claims(), rsHeader({ crit: [] }))],
  ['crit as a string, validly signed', () => trusted(claims(), rsHeader({ crit: 'x-acme', 'x-acme': 1 }))],
  ['b64: false (unencoded payload), validly signed', () => trusted(JSON.stringify(claims()), rsHeader({ crit: ['b64'], b64: false }))],
  // other shapes
  ['a real JWE (five parts)', () => encrypted(claims(), RS().kid)],
  ['five parts of junk', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
  ['a compressed JWE header (zip: DEF, CVE-2024-28176)', async () => `${Buffer.from('{"alg":"dir","enc":"A256GCM","zip":"DEF"}').toString('base64url')}..AAAAAAAAAAAAAAAA.${'A'.repeat(4000)}.AAAAAAAAAAAAAAAAAAAAAA`],
  ['a payload that is a JSON array, validly signed', () => trusted([claims()])],
  ['a payload that is not JSON, validly signed', () => trusted('alice')],
  ['a header that is a JSON array, validly signed', () => signRaw('RS256', RS().privateKey, [rsHeader()], claims())],
  // kid, jku, x5u, jwk (RFC 8725 section 3.10)
  ['kid of the trusted ES256 key on an RS256 token signed by the RS256 key', () => trusted(claims(), rsHeader({ kid: ES().kid }))],
  ['kid with a path', () => forged(rsHeader({ kid: '../../../../../dev/null' }))],
  ['kid with SQL', () => forged(rsHeader({ kid: "x' UNION SELECT 'secret' --" }))],
  ['kid with a NUL byte', () => forged(rsHeader({ kid: `${RS().kid}\u0000` }))],
  ['kid of 4 KB', () => forged(rsHeader({ kid: 'k'.repeat(4096) }))],
  ['kid empty', () => forged(rsHeader({ kid: '' }))],
  ['kid a number', () => forged(rsHeader({ kid: 1 }))],
  ['kid an object', () => forged(rsHeader({ kid: { $ne: null } }))],
  ['kid null', () => forged(rsHeader({ kid: null }))],
  ['the outsider key embedded as jwk', () => forged({ alg: 'RS256', typ: 'JWT', jwk: outsider.jwk })],
  ['jku pointing at the outsider key set', () => forged({ alg: 'RS256', kid: 'outsider', jku: `${keyServer.url}/outsider-jku.json` })],
  ['x5u pointing at the outsider certificate', () => forged({ alg: 'RS256', kid: 'outsider', x5u: `${keyServer.url}/outsider-x5u.pem` })],
  // huge tokens
  ['a 14 KB token with a forged signature', () => forged(rsHeader(), claims('alice', { pad: 'x'.repeat(10_000) }))],
  ['a 14 KB validly signed token for another audience', () => trusted(claims('alice', { aud: 'other-app', pad: 'x'.repeat(10_000) }))],
  // claim types (RFC 7519 section 4.1)
  ['sub a number', () => trusted(claims(42))],
  ['sub an array', () => trusted(claims(['alice']))],
  ['sub an object', () => trusted(claims({ id: 'alice' }))],
  ['sub empty', () => trusted(claims(''))],
  ['sub null', () => trusted(claims(null))],
  ['sub missing', () => trusted(claims('alice', { sub: undefined }))],
  ['sub of 1025 characters', () => trusted(claims('a'.repeat(1025)))],
  ['aud an empty array', () => trusted(claims('alice', { aud: [] }))],
  ['aud an array without ours', () => trusted(claims('alice', { aud: ['other-app', 'third-app'] }))],
  ['aud ours nested in an array', () => trusted(claims('alice', { aud: [[minter.audience]] }))],
  ['aud a number', () => trusted(claims('alice', { aud: 42 }))],
  ['aud an object keyed by ours', () => trusted(claims('alice', { aud: { [minter.audience]: true } }))],
  ['aud missing', () => trusted(claims('alice', { aud: undefined }))],
  ['iss of another issuer', () => trusted(claims('alice', { iss: 'https://evil.example/oidc' }))],
  ['iss ours in an array', () => trusted(claims('alice', { iss: [minter.issuer] }))],
  ['iss missing', () => trusted(claims('alice', { iss: undefined }))],
  ['exp a numeric string', () => trusted(claims('alice', { exp: String(now() + 600) }))],
  ['exp missing', () => trusted(claims('alice', { exp: undefined }))],
  ['exp null', () => trusted(claims('alice', { exp: null }))],
  ['exp in the past', () => trusted(claims('alice', { exp: now() - 60 }))],
  ['nbf a numeric string', () => trusted(claims('alice', { nbf: String(now() - 60) }))],
  ['nbf an hour ahead', () => trusted(claims('alice', { nbf: now() + 3600 }))],
  ['iat a numeric string', () => trusted(claims('alice', { iat: String(now()) }))],
  ['iat an hour in the future', () => trusted(claims('alice', { iat: now() + 3600 }))],
] as Array<[string, () => Promise<string>]>).map(([label, make]) => [label, once(make)]);

/** [label, token]: accepted (the app runs with cache: false, so one GenAuth call per request). */
const VALID: Array<[string, () => Promise<string>]> = [
  ['RS256 by the published key', () => trusted()],
  ['ES256 by the published key', () => signRaw('ES256', ES().privateKey, { alg: 'ES256', typ: 'JWT', kid: ES().kid }, claims())],
  ['a token minted with the defaults', () => minter.mint('alice')],
  ['aud an array holding ours (RFC 7519 section 4.1.3)', () => trusted(claims('alice', { aud: ['other-app', minter.audience] }))],
  ['iat two seconds ahead, within the clock tolerance', () => trusted(claims('alice', { iat: now() + 2 }))],
];

const INVALID_TOKEN = /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/;

describe.each(ANSWER_MODES)('$mode', ({ passErrors }) => {
  describe.each(ROWS)('$name', (row) => {
    let probe: Probe;
    beforeAll(async () => {
      const options = optionsFor(emulator(), { cache: false, jwt: { jwksUri: keyServer.jwksUri, algorithms: ['RS256', 'ES256'] } });
      probe = await startProbe(row, { options, passErrors });
    });
    afterAll(async () => {
      await probe.close();
    });

    it.each(INVALID)('refuses %s', async (_label, make) => {
      const token = await make();
      keyServer.resetCalls();
      const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(token) });
      expectRefused(emulator(), probe, answer, {
        status: 401,
        code: 'ERR_INVALID_TOKEN',
        challenge: INVALID_TOKEN,
        forbidden: forbiddenStrings(emulator(), token),
      });
      // A token's own key references are never followed.
      expect(keyServer.calls('/outsider-jku.json') + keyServer.calls('/outsider-x5u.pem')).toBe(0);
    });

    it('a user id of 1024 characters is still looked up (denied as unknown, not refused)', async () => {
      const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(await trusted(claims('b'.repeat(1024)))) });
      expectRefused(emulator(), probe, answer, {
        status: 403,
        code: 'ERR_PERMISSION_DENIED',
        challenge: 'Bearer realm="api", error="insufficient_scope"',
        upstream: 1,
        forbidden: forbiddenStrings(emulator()),
      });
    });

    it.each(VALID)('accepts %s', async (_label, make) => {
      const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(await make()) });
      expectAllowed(emulator(), answer, 1);
      expect(JSON.parse(answer.body)).toMatchObject({ ok: true, user: 'alice' });
    });

    it('accepts claims with __proto__ and constructor keys without polluting Object.prototype', async () => {
      const before = prototypeKeys();
      const payload = `{"sub":"alice","iss":${JSON.stringify(minter.issuer)},"aud":${JSON.stringify(minter.audience)},"exp":${now() + 600},"__proto__":{"polluted":"yes","sub":"bob"},"constructor":{"prototype":{"polluted":"yes"}}}`;
      const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(await trusted(payload)) });
      expectAllowed(emulator(), answer, 1);
      expect(JSON.parse(answer.body)).toMatchObject({ user: 'alice' });
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(prototypeKeys()).toEqual(before);
    });

    it('refuses a token beyond the server header limit before any guard runs', async () => {
      const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(await trusted(claims('alice', { pad: 'x'.repeat(40_000) }))) }).catch(
        () => ({ status: 0, headers: {}, body: '' }),
      );
      expect([0, 431]).toContain(answer.status);
      expect(capture.handled).toBe(0);
      expect(emulator().callCount()).toBe(0);
    });
  });
});

/** RFC 8725 section 3.11: a configured `jwt.typ` is required (here `at+jwt`, RFC 9068). */
describe.each(ROWS)('$name with jwt.typ', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    const options = optionsFor(emulator(), { cache: false, jwt: { jwksUri: keyServer.jwksUri, algorithms: ['RS256'], typ: 'at+jwt' } });
    probe = await startProbe(row, { options });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
    ['typ of an ID token', { typ: 'id_token+jwt' }],
  ])('refuses %s', async (_label, header) => {
    const token = await trusted(claims(), { alg: 'RS256', kid: RS().kid, ...header });
    const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(token) });
    expectRefused(emulator(), probe, answer, { status: 401, code: 'ERR_INVALID_TOKEN', challenge: INVALID_TOKEN, forbidden: forbiddenStrings(emulator(), token) });
  });

  it('accepts typ at+jwt', async () => {
    const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(await trusted(claims(), rsHeader({ typ: 'at+jwt' }))) });
    expectAllowed(emulator(), answer, 1);
  });
});
