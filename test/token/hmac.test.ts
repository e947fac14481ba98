import { createHmac } from 'node:crypto';
import { jwtVerify, type JWTClaimVerificationOptions } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createGuard, InvalidTokenError, MissingTokenError } from '../../src/index.js';
import { createHmacVerifier } from '../../src/token/hmac.js';
import { useEmulator } from '../fixtures.js';

const SECRET = 'hmac-test-secret-0123456789abcdef0123456789abcdef';
const LONG_SECRET = 'x'.repeat(200); // longer than SHA-256's block: HMAC hashes it first
const NOW = Math.floor(Date.now() / 1000);
const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'https://api.test';
const CLAIMS: JWTClaimVerificationOptions = { issuer: ISSUER, audience: AUDIENCE, clockTolerance: 5 };
const ALGORITHMS = ['HS256', 'HS512'];

const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
const HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** A compact token from raw header and payload segments, MACed like a real issuer would. */
function signed(header: string, payload: string, { hash = 'sha256', secret = SECRET } = {}): string {
  const mac = createHmac(hash, secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${mac}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 600, ...extra });
const token = (header: Record<string, unknown>, payload: Record<string, unknown> = claims(), secret = SECRET) =>
  signed(json(header), json(payload), { hash: HASH[header.alg as string] ?? 'sha256', secret });

const valid = token({ alg: 'HS256', typ: 'JWT' });
const [validHeader, validPayload, validMac] = valid.split('.') as [string, string, string];
// The last character of a 32-byte MAC carries 2 unused bits: a different character decoding to the same bytes.
const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(validMac.at(-1)!);
const nonCanonicalMac = validMac.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1];

/** name, token, whether the fast path takes it, whether jose's jwtVerify accepts it. */
const corpus: Array<[string, string, boolean, boolean]> = [
  ['a plain HS256 token', valid, true, true],
  ['no typ', token({ alg: 'HS256' }), true, true],
  ['HS512, also allowed', token({ alg: 'HS512' }), true, true],
  ['a secret longer than the hash block', token({ alg: 'HS256' }, claims(), LONG_SECRET), false, false],
  ['HS384, not allowed', token({ alg: 'HS384' }), false, false],
  ['alg none, no signature', `${json({ alg: 'none' })}.${validPayload}.`, false, false],
  ['alg none, with a MAC', token({ alg: 'none' }), false, false],
  ['lower-case alg', token({ alg: 'hs256' }), false, false],
  ['alg missing', token({ typ: 'JWT' }), false, false],
  ['alg not a string', token({ alg: ['HS256'] }), false, false],
  ['payload changed after signing', `${validHeader}.${json(claims({ sub: 'mallory' }))}.${validMac}`, false, false],
  ['header changed after signing', `${json({ alg: 'HS256', kid: 'x' })}.${validPayload}.${validMac}`, false, false],
  ['MAC from another secret', token({ alg: 'HS256' }, claims(), 'another-secret-another-secret-another-secret'), false, false],
  ['MAC truncated', valid.slice(0, -2), false, false],
  ['MAC with padding (jose decodes it loosely)', `${valid}=`, false, true],
  ['MAC non-canonical, same bytes (jose decodes it loosely)', `${validHeader}.${validPayload}.${nonCanonicalMac}`, false, true],
  ['a fourth segment', `${valid}.${validMac}`, false, false],
  ['whitespace in a segment', `${validHeader}.${validPayload.slice(0, 5)} ${validPayload.slice(5)}.${validMac}`, false, false],
  ['standard base64 characters', signed(Buffer.from('{"alg":"HS256","x":"??>"}').toString('base64').replace(/=+$/, ''), validPayload), false, false],
  ['crit b64 true', token({ alg: 'HS256', crit: ['b64'], b64: true }), false, true],
  ['crit naming an unknown extension', token({ alg: 'HS256', crit: ['exp'], exp: 1 }), false, false],
  ['crit null', token({ alg: 'HS256', crit: null }), false, false],
  ['b64 false without crit (ignored by JWS)', token({ alg: 'HS256', b64: false }), false, true],
  ['crit b64 false', token({ alg: 'HS256', crit: ['b64'], b64: false }), false, false],
  ['header not JSON', signed(b64('{alg:HS256}'), validPayload), false, false],
  ['header a JSON array', signed(json(['HS256']), validPayload), false, false],
  ['header with invalid UTF-8', signed(b64(Buffer.concat([Buffer.from('{"alg":"HS256","x":"'), Buffer.from([0xff]), Buffer.from('"}')])), validPayload), false, false],
  ['a duplicated alg (JSON keeps the last)', signed(b64('{"alg":"none","alg":"HS256"}'), validPayload), true, true],
  ['a __proto__ member in the header', signed(b64('{"alg":"HS256","__proto__":{"crit":["zip"]}}'), validPayload), true, true],
  ['payload with invalid UTF-8', signed(validHeader, b64(Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3]), Buffer.from('"}')]))), false, false],
  ['payload a JSON array', signed(validHeader, json([1, 2])), false, false],
  ['payload not JSON', signed(validHeader, b64('sub=alice')), false, false],
  ['expired', token({ alg: 'HS256' }, claims({ exp: NOW - 60 })), false, false],
  ['expired within the clock tolerance', token({ alg: 'HS256' }, claims({ exp: NOW - 2 })), true, true],
  ['nbf in the future', token({ alg: 'HS256' }, claims({ nbf: NOW + 60 })), false, false],
  ['iat not a number', token({ alg: 'HS256' }, claims({ iat: 'now' })), false, false],
  ['another issuer', token({ alg: 'HS256' }, claims({ iss: 'https://evil.test/' })), false, false],
  ['issuer missing', token({ alg: 'HS256' }, { sub: 'alice', aud: AUDIENCE, exp: NOW + 600 }), false, false],
  ['another audience', token({ alg: 'HS256' }, claims({ aud: 'https://other.test' })), false, false],
  ['audience in a list', token({ alg: 'HS256' }, claims({ aud: ['https://other.test', AUDIENCE] })), true, true],
  ['no exp (the verifier requires it afterwards)', token({ alg: 'HS256' }, { sub: 'alice', iss: ISSUER, aud: AUDIENCE }), true, true],
];

describe('synchronous HS* verification against jose jwtVerify', () => {
  const fast = createHmacVerifier(SECRET, ALGORITHMS);
  const key = new TextEncoder().encode(SECRET);

  it.each(corpus)('%s', async (_name, compact, fastTakes, joseAccepts) => {
    const fromFast = fast(compact, CLAIMS);
    const fromJose = await jwtVerify(compact, key, { ...CLAIMS, algorithms: ALGORITHMS }).then(
      (result) => result.payload,
      () => undefined,
    );
    expect(fromJose !== undefined).toBe(joseAccepts);
    expect(fromFast !== undefined).toBe(fastTakes);
    // What it takes, jose takes too, with the same claims.
    if (fromFast !== undefined) expect(fromFast).toEqual(fromJose);
  });

  /** name, header typ (undefined: none), whether both take it under `typ: 'at+jwt'`. */
  const typed: Array<[string, unknown, boolean]> = [
    ['typ at+jwt', 'at+jwt', true],
    ['typ in capitals', 'AT+JWT', true],
    ['typ with the application/ prefix', 'application/at+jwt', true],
    ['typ with a capitalised prefix', 'Application/At+Jwt', true],
    ['typ JWT', 'JWT', false],
    ['typ application/jwt', 'application/jwt', false],
    ['typ empty', '', false],
    ['typ not a string', 1, false],
    ['typ missing', undefined, false],
  ];

  it.each(typed)('jwt.typ at+jwt, %s: the check and jwtVerify agree', async (_name, typ, accepted) => {
    const compact = token(typ === undefined ? { alg: 'HS256' } : { alg: 'HS256', typ });
    const options = { ...CLAIMS, typ: 'at+jwt' };
    const fromFast = fast(compact, options);
    const fromJose = await jwtVerify(compact, key, { ...options, algorithms: ALGORITHMS }).then(
      (result) => result.payload,
      () => undefined,
    );
    expect(fromJose !== undefined).toBe(accepted);
    // The check takes exactly what jose takes here: a plain header, so no reason to defer.
    expect(fromFast !== undefined).toBe(accepted);
    if (fromFast !== undefined) expect(fromFast).toEqual(fromJose);
  });

  it('takes a string or a byte secret alike, and the long secret when it is the configured one', () => {
    const long = token({ alg: 'HS256' }, claims(), LONG_SECRET);
    expect(createHmacVerifier(LONG_SECRET, ['HS256'])(long, CLAIMS)?.sub).toBe('alice');
    expect(createHmacVerifier(new TextEncoder().encode(SECRET), ['HS256'])(valid, CLAIMS)?.sub).toBe('alice');
  });

  it('applies the claim options it is given: currentDate and requiredClaims', () => {
    expect(fast(valid, { ...CLAIMS, currentDate: new Date((NOW + 3600) * 1000) })).toBeUndefined();
    expect(fast(valid, { ...CLAIMS, requiredClaims: ['jti'] })).toBeUndefined();
    expect(fast(token({ alg: 'HS256' }, claims({ jti: '1' })), { ...CLAIMS, requiredClaims: ['jti'] })?.jti).toBe('1');
  });
});

describe('the guard with a secret', () => {
  const emulator = useEmulator();

  const request = (compact: string) => ({ method: 'GET', url: '/', headers: { authorization: `Bearer ${compact}` } });

  it('verifies a plain HS256 token without WebCrypto, and leaves the others and every rejection to jose', async () => {
    const guard = createGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, tokenCache: { max: 0 } },
    });
    const subtleVerify = vi.spyOn(globalThis.crypto.subtle, 'verify');
    try {
      expect((await guard.authenticate(request(valid))).userId).toBe('alice');
      expect(subtleVerify).not.toHaveBeenCalled();

      const expired = await guard.authenticate(request(token({ alg: 'HS256' }, claims({ exp: NOW - 60 })))).catch((error: unknown) => error);
      expect(expired).toBeInstanceOf(InvalidTokenError);
      expect((expired as InvalidTokenError).reason).toBe('expired');
      expect(subtleVerify).toHaveBeenCalledTimes(1);

      const forged = await guard.authenticate(request(`${validHeader}.${json(claims({ sub: 'mallory' }))}.${validMac}`)).catch((error: unknown) => error);
      expect((forged as InvalidTokenError).reason).toBe('bad_signature');
      expect(subtleVerify).toHaveBeenCalledTimes(2);

      // crit b64 true is valid JWS that the fast path does not take: jose accepts it.
      expect((await guard.authenticate(request(token({ alg: 'HS256', crit: ['b64'], b64: true })))).userId).toBe('alice');
      expect(subtleVerify).toHaveBeenCalledTimes(3);
    } finally {
      subtleVerify.mockRestore();
      await guard.close();
    }
  });

  it('enforce() without a spec (authentication) answers a new plain HS256 token without a promise, and hands the rest to jose', async () => {
    const guard = createGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE },
    });
    try {
      const now = guard.enforce(request(valid));
      expect(now).not.toBeInstanceOf(Promise);
      expect(now).toMatchObject({ identity: { userId: 'alice' } });
      // Accepted by the check but refused by the guard's own rules (no exp): thrown at once.
      expect(() => guard.enforce(request(token({ alg: 'HS256' }, { sub: 'alice', iss: ISSUER, aud: AUDIENCE })))).toThrow(InvalidTokenError);
      // Not taken by the check: jose decides, asynchronously, and refuses.
      const forged = guard.enforce(request(`${validHeader}.${json(claims({ sub: 'mallory' }))}.${validMac}`));
      expect(forged).toBeInstanceOf(Promise);
      await expect(forged).rejects.toMatchObject({ reason: 'bad_signature' });
    } finally {
      await guard.close();
    }
  });

  it('enforce() without a spec (the authenticate() middleware): no promise when it can', async () => {
    const hs = createGuard({ genauth: emulator().guardOptions().genauth, jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE } });
    const rs = createGuard(emulator().guardOptions());
    try {
      const now = hs.enforce(request(valid));
      expect(now).not.toBeInstanceOf(Promise);
      expect(now).toMatchObject({ identity: { userId: 'alice' } });
      expect(() => hs.enforce({ method: 'GET', url: '/', headers: {} })).toThrow(MissingTokenError);
      const later = rs.enforce(request(await emulator().mintToken('bob')));
      expect(later).toBeInstanceOf(Promise);
      await expect(later).resolves.toMatchObject({ identity: { userId: 'bob' } });
    } finally {
      await hs.close();
      await rs.close();
    }
  });

  it('enforce() with a key source other than a secret always goes through jose for a new token', async () => {
    const guard = createGuard(emulator().guardOptions());
    try {
      const first = guard.enforce(request(await emulator().mintToken('alice')));
      expect(first).toBeInstanceOf(Promise);
      expect((await first).identity.userId).toBe('alice');
    } finally {
      await guard.close();
    }
  });
});
