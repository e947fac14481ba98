/**
 * Keys, a key set and a corpus of odd and hostile RS/PS/ES/EdDSA tokens for asymmetric.test.ts: each
 * token with whether the synchronous check takes it and jose `jwtVerify`'s verdict (ok, or the code or
 * name of what it throws), under the options in CLAIMS and ALGORITHMS.
 */
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { JWK, JWTClaimVerificationOptions } from 'jose';

export const NOW = Math.floor(Date.now() / 1000);
export const ISSUER = 'https://issuer.test/';
export const AUDIENCE = 'https://api.test';
/** Dates are read at NOW, so the edges around the clock tolerance do not move while the test runs. */
export const CLAIMS: JWTClaimVerificationOptions = { issuer: ISSUER, audience: AUDIENCE, clockTolerance: 5, currentDate: new Date(NOW * 1000) };
/** RS512 is left out (a token under it is refused as not allowed); HS256 is in, which a key set never serves. */
export const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'HS256'];

const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
export const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 600, ...extra });

type Pair = { privateKey: KeyObject; publicKey: KeyObject };
const rsaPair = (bits = 2048): Pair => generateKeyPairSync('rsa', { modulusLength: bits });
const ecPair = (namedCurve: string): Pair => generateKeyPairSync('ec', { namedCurve });

export const KEYS = {
  rs: rsaPair(),
  ps: rsaPair(),
  es: ecPair('P-256'),
  es384: ecPair('P-384'),
  ed: generateKeyPairSync('ed25519'),
  /** Published without `alg`: usable for RS256 and PS256 alike. */
  noalg: rsaPair(),
  /** 1024 bits: jose refuses to verify with it (TypeError). */
  small: rsaPair(1024),
  /** A P-384 key published as ES256: no ES256 key for jose. */
  wrongcurve: ecPair('P-384'),
  dup1: rsaPair(),
  dup2: rsaPair(),
  outsider: rsaPair(),
  outsiderEc: ecPair('P-256'),
};

const jwk = (pair: Pair, kid: string, alg?: string): JWK => ({ ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig', ...(alg === undefined ? {} : { alg }) });

/** The key set the key server publishes. */
export const JWKS: JWK[] = [
  jwk(KEYS.rs, 'rs', 'RS256'),
  jwk(KEYS.ps, 'ps', 'PS256'),
  jwk(KEYS.es, 'es', 'ES256'),
  jwk(KEYS.es384, 'es384', 'ES384'),
  jwk(KEYS.ed, 'ed', 'EdDSA'),
  jwk(KEYS.noalg, 'noalg'),
  jwk(KEYS.small, 'small', 'RS256'),
  jwk(KEYS.wrongcurve, 'wrongcurve', 'ES256'),
  jwk(KEYS.dup1, 'dup', 'RS256'),
  jwk(KEYS.dup2, 'dup', 'RS256'),
  { kty: 'RSA', kid: 'x5c', alg: 'RS256', use: 'sig', x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] } as JWK,
];

/** How to sign: node:crypto's digest and padding / encoding, whatever the header says. */
type Scheme = 'RS256' | 'RS512' | 'PS256' | 'PS256-salt0' | 'PS256-saltmax' | 'RS256-pss' | 'ES256' | 'ES256-der' | 'ES384' | 'EdDSA';

function signature(scheme: Scheme, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input, 'latin1');
  switch (scheme) {
    case 'RS256': return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'RS512': return sign('sha512', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'PS256': return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'PS256-salt0': return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
    case 'PS256-saltmax': return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN });
    case 'RS256-pss': return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256': return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES256-der': return sign('sha256', data, { key, dsaEncoding: 'der' });
    case 'ES384': return sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA': return sign(null, data, key);
  }
}

/** A compact token from raw header and payload segments. */
export function signedRaw(scheme: Scheme, key: KeyObject, header: string, payload: string): string {
  return `${header}.${payload}.${signature(scheme, key, `${header}.${payload}`).toString('base64url')}`;
}
/** A compact token; the signing scheme defaults to the header's alg. */
export function token(header: Record<string, unknown>, payload: unknown = claims(), key: KeyObject = KEYS.rs.privateKey, scheme = header.alg as Scheme): string {
  return signedRaw(scheme, key, json(header), typeof payload === 'string' ? b64(payload) : json(payload));
}

const rs = (extra: Record<string, unknown> = {}) => token({ alg: 'RS256', kid: 'rs', typ: 'JWT' }, claims(extra));
const valid = rs();
const [validHeader, validPayload, validSignature] = valid.split('.') as [string, string, string];
const es = token({ alg: 'ES256', kid: 'es' }, claims(), KEYS.es.privateKey);
const [esHeader, esPayload, esSignature] = es.split('.') as [string, string, string];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** A 256-byte signature ends in a character with 4 unused bits: another character, the same bytes. */
const nonCanonical = validSignature.slice(0, -1) + ALPHABET[ALPHABET.indexOf(validSignature.at(-1)!) ^ 1];

/** P-256's group order: (r, n - s) is the same ECDSA signature's "high-S" twin, which OpenSSL accepts too. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
function highS(compact: string): string {
  const [h, p, s] = compact.split('.') as [string, string, string];
  const bytes = Buffer.from(s, 'base64url');
  const twin = (P256_N - BigInt(`0x${bytes.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
  return `${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), Buffer.from(twin, 'hex')]).toString('base64url')}`;
}
const withSignature = (compact: string, change: (bytes: Buffer) => Buffer) => {
  const [h, p, s] = compact.split('.') as [string, string, string];
  return `${h}.${p}.${change(Buffer.from(s, 'base64url')).toString('base64url')}`;
};
const flipped = (bytes: Buffer, at: number) => {
  const copy = Buffer.from(bytes);
  copy[at < 0 ? copy.length + at : at]! ^= 1;
  return copy;
};

/**
 * What the guard answers where it is stricter than jose: `malformed`, its JWS compact form check
 * (never padded, no empty part); `invalid_request`, a header RFC 6750 does not allow (a 400).
 */
export type GuardVerdict = 'malformed' | 'invalid_request';

/** name, token, whether the synchronous check takes it, jose's verdict, the guard's verdict when stricter. */
export type CorpusRow = [name: string, token: string, fastTakes: boolean, jose: string, guard?: GuardVerdict];

const rsaPem = KEYS.rs.publicKey.export({ format: 'pem', type: 'spki' }) as string;
/** An HS256 token MACed with `secret`. */
const hs = (secret: string, header: Record<string, unknown>) => {
  const input = `${json(header)}.${json(claims())}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

export const CORPUS: CorpusRow[] = [
  ['RS256 under its kid', valid, true, 'ok'],
  ['RS256 without typ', token({ alg: 'RS256', kid: 'rs' }), true, 'ok'],
  ['PS256 under its kid', token({ alg: 'PS256', kid: 'ps' }, claims(), KEYS.ps.privateKey), true, 'ok'],
  ['ES256 under its kid', es, true, 'ok'],
  ['ES384 under its kid', token({ alg: 'ES384', kid: 'es384' }, claims(), KEYS.es384.privateKey), true, 'ok'],
  ['EdDSA: left to jose', token({ alg: 'EdDSA', kid: 'ed' }, claims(), KEYS.ed.privateKey), false, 'ok'],
  ['RS256 under a key published without alg', token({ alg: 'RS256', kid: 'noalg' }, claims(), KEYS.noalg.privateKey), true, 'ok'],
  ['PS256 under the same key published without alg', token({ alg: 'PS256', kid: 'noalg' }, claims(), KEYS.noalg.privateKey), true, 'ok'],
  ['no kid, several RSA keys published', token({ alg: 'RS256' }), false, 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'],
  // algorithms
  ['alg none, no signature', `${json({ alg: 'none' })}.${validPayload}.`, false, 'ERR_JOSE_ALG_NOT_ALLOWED', 'malformed'],
  ['alg none with the RS256 signature', `${json({ alg: 'none', kid: 'rs' })}.${validPayload}.${validSignature}`, false, 'ERR_JOSE_ALG_NOT_ALLOWED'],
  ['HS256 keyed with the RSA public key (alg confusion)', hs(rsaPem, { alg: 'HS256', kid: 'rs' }), false, 'ERR_JOSE_NOT_SUPPORTED'],
  ['RS512, not allowed', token({ alg: 'RS512', kid: 'rs' }), false, 'ERR_JOSE_ALG_NOT_ALLOWED'],
  ['lower-case alg', token({ alg: 'rs256', kid: 'rs' }, claims(), KEYS.rs.privateKey, 'RS256'), false, 'ERR_JOSE_ALG_NOT_ALLOWED'],
  ['alg missing', token({ kid: 'rs' }, claims(), KEYS.rs.privateKey, 'RS256'), false, 'ERR_JWS_INVALID'],
  ['alg not a string', token({ alg: ['RS256'], kid: 'rs' }, claims(), KEYS.rs.privateKey, 'RS256'), false, 'ERR_JWS_INVALID'],
  ['RS256 signed, header says PS256 under the RS key', token({ alg: 'PS256', kid: 'rs' }, claims(), KEYS.rs.privateKey, 'RS256'), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['PSS padding under RS256', token({ alg: 'RS256', kid: 'rs' }, claims(), KEYS.rs.privateKey, 'RS256-pss'), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['PS256 with salt length 0', token({ alg: 'PS256', kid: 'ps' }, claims(), KEYS.ps.privateKey, 'PS256-salt0'), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['PS256 with the longest salt', token({ alg: 'PS256', kid: 'ps' }, claims(), KEYS.ps.privateKey, 'PS256-saltmax'), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  // kid and key selection
  ['kid unknown', token({ alg: 'RS256', kid: 'nobody' }), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['kid a number', token({ alg: 'RS256', kid: 1 }), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['kid __proto__', token({ alg: 'RS256', kid: '__proto__' }), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['kid shared by two keys', token({ alg: 'RS256', kid: 'dup' }, claims(), KEYS.dup1.privateKey), false, 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'],
  ['a 1024-bit RSA key', token({ alg: 'RS256', kid: 'small' }, claims(), KEYS.small.privateKey), false, 'TypeError'],
  ['a key published with x5c only', token({ alg: 'RS256', kid: 'x5c' }), false, 'DataError'],
  ['a P-384 key published as ES256', token({ alg: 'ES256', kid: 'wrongcurve' }, claims(), KEYS.wrongcurve.privateKey, 'ES384'), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['ES384 under the P-256 kid', token({ alg: 'ES384', kid: 'es' }, claims(), KEYS.es.privateKey, 'ES256'), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['RS256 under the PS256 kid', token({ alg: 'RS256', kid: 'ps' }, claims(), KEYS.ps.privateKey), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['an outsider key under a published kid', token({ alg: 'RS256', kid: 'rs' }, claims(), KEYS.outsider.privateKey), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['an outsider P-256 key under the ES256 kid', token({ alg: 'ES256', kid: 'es' }, claims(), KEYS.outsiderEc.privateKey), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['the right key under another published kid', token({ alg: 'RS256', kid: 'noalg' }), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  // ECDSA signature forms
  ['ES256 signature DER-encoded', token({ alg: 'ES256', kid: 'es' }, claims(), KEYS.es.privateKey, 'ES256-der'), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 signature one byte short', withSignature(es, (s) => s.subarray(0, 63)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 signature one byte long', withSignature(es, (s) => Buffer.concat([s, Buffer.from([0])])), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 signature with a zero byte in front', withSignature(es, (s) => Buffer.concat([Buffer.from([0]), s])), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 signature all zeros', withSignature(es, () => Buffer.alloc(64)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 high-S twin (accepted by WebCrypto too)', highS(es), true, 'ok'],
  ['ES256 signature bit flipped', withSignature(es, (s) => flipped(s, 10)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['ES256 header changed after signing', `${json({ alg: 'ES256', kid: 'es', typ: 'JWT' })}.${esPayload}.${esSignature}`, false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  // RSA signature forms and bit flips
  ['RS256 signature bit flipped (last byte)', withSignature(valid, (s) => flipped(s, -1)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['RS256 signature bit flipped (first byte)', withSignature(valid, (s) => flipped(s, 0)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['RS256 signature truncated by one byte', withSignature(valid, (s) => s.subarray(0, 255)), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['RS256 signature with a zero byte in front', withSignature(valid, (s) => Buffer.concat([Buffer.from([0]), s])), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['payload changed after signing', `${validHeader}.${json(claims({ sub: 'mallory' }))}.${validSignature}`, false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['header changed after signing', `${json({ alg: 'RS256', kid: 'rs' })}.${validPayload}.${validSignature}`, false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['signature empty', `${validHeader}.${validPayload}.`, false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'malformed'],
  ['signature with padding', `${valid}=`, false, 'ERR_JWS_INVALID'],
  ['signature non-canonical, same bytes (jose decodes it loosely)', `${validHeader}.${validPayload}.${nonCanonical}`, false, 'ok'],
  ['a fourth segment', `${valid}.${validSignature}`, false, 'ERR_JWS_INVALID', 'malformed'],
  ['whitespace in the payload', `${validHeader}.${validPayload.slice(0, 5)} ${validPayload.slice(5)}.${validSignature}`, false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'invalid_request'],
  // headers
  ['crit b64 true', token({ alg: 'RS256', kid: 'rs', crit: ['b64'], b64: true }), false, 'ok'],
  ['crit naming an unknown extension', token({ alg: 'RS256', kid: 'rs', crit: ['exp'], exp: 1 }), false, 'ERR_JOSE_NOT_SUPPORTED'],
  ['crit null', token({ alg: 'RS256', kid: 'rs', crit: null }), false, 'ERR_JWS_INVALID'],
  ['b64 false without crit (ignored by JWS)', token({ alg: 'RS256', kid: 'rs', b64: false }), false, 'ok'],
  ['crit b64 false', token({ alg: 'RS256', kid: 'rs', crit: ['b64'], b64: false }), false, 'ERR_JWT_INVALID'],
  ['header not JSON', signedRaw('RS256', KEYS.rs.privateKey, b64('{alg:RS256}'), validPayload), false, 'ERR_JWS_INVALID'],
  ['header a JSON array', signedRaw('RS256', KEYS.rs.privateKey, json(['RS256']), validPayload), false, 'ERR_JWS_INVALID'],
  ['header with invalid UTF-8', signedRaw('RS256', KEYS.rs.privateKey, b64(Buffer.concat([Buffer.from('{"alg":"RS256","kid":"rs","x":"'), Buffer.from([0xff]), Buffer.from('"}')])), validPayload), false, 'ERR_JWS_INVALID'],
  ['a duplicated alg (JSON keeps the last)', signedRaw('RS256', KEYS.rs.privateKey, b64('{"alg":"none","alg":"RS256","kid":"rs"}'), validPayload), true, 'ok'],
  ['a duplicated kid (JSON keeps the last)', signedRaw('RS256', KEYS.rs.privateKey, b64('{"alg":"RS256","kid":"nobody","kid":"rs"}'), validPayload), true, 'ok'],
  ['a __proto__ member in the header', signedRaw('RS256', KEYS.rs.privateKey, b64('{"alg":"RS256","kid":"rs","__proto__":{"crit":["zip"]}}'), validPayload), true, 'ok'],
  ['a jku the guard must not follow', token({ alg: 'RS256', kid: 'rs', jku: 'http://127.0.0.1:9/jwks.json' }), true, 'ok'],
  // Headers that name keys or transforms jose never acts on (RFC 8725 sections 3.1, 3.10): never followed nor applied.
  ['an attacker key embedded as jwk (CVE-2018-0114)', token({ alg: 'RS256', kid: 'rs', jwk: KEYS.outsider.publicKey.export({ format: 'jwk' }) }, claims(), KEYS.outsider.privateKey), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['an x5u and x5c of the attacker', token({ alg: 'RS256', kid: 'rs', x5u: 'http://127.0.0.1:9/cert.pem', x5c: ['MIIB'] }, claims(), KEYS.outsider.privateKey), false, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['a jku with no kid, attacker-signed', token({ alg: 'RS256', jku: 'http://127.0.0.1:9/jwks.json' }, claims(), KEYS.outsider.privateKey), false, 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'],
  ['zip DEF over a plain payload (JWS has no zip: ignored)', token({ alg: 'RS256', kid: 'rs', zip: 'DEF' }), true, 'ok'],
  ['zip DEF over a deflated payload (never inflated)', signedRaw('RS256', KEYS.rs.privateKey, json({ alg: 'RS256', kid: 'rs', zip: 'DEF' }), b64(deflateRawSync(JSON.stringify(claims())))), false, 'ERR_JWT_INVALID'],
  ['a nested JWT (cty JWT): the payload is a token, not claims', token({ alg: 'RS256', kid: 'rs', cty: 'JWT' }, token({ alg: 'RS256', kid: 'rs' })), false, 'ERR_JWT_INVALID'],
  ['a kid with path traversal', token({ alg: 'RS256', kid: '../../../../dev/null' }), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  ['a kid with SQL', token({ alg: 'RS256', kid: "rs' OR '1'='1" }), false, 'ERR_JWKS_NO_MATCHING_KEY'],
  // payloads and claims
  ['payload with invalid UTF-8', signedRaw('RS256', KEYS.rs.privateKey, validHeader, b64(Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3]), Buffer.from('"}')]))), false, 'ERR_JWT_INVALID'],
  ['payload a JSON array', token({ alg: 'RS256', kid: 'rs' }, [1, 2]), false, 'ERR_JWT_INVALID'],
  ['payload not JSON', token({ alg: 'RS256', kid: 'rs' }, 'sub=alice'), false, 'ERR_JWT_INVALID'],
  ['expired', rs({ exp: NOW - 60 }), false, 'ERR_JWT_EXPIRED'],
  ['expired just past the clock tolerance', rs({ exp: NOW - 5 }), false, 'ERR_JWT_EXPIRED'],
  ['expired within the clock tolerance', rs({ exp: NOW - 4 }), true, 'ok'],
  ['nbf in the future', rs({ nbf: NOW + 60 }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['nbf just past the clock tolerance', rs({ nbf: NOW + 6 }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['nbf within the clock tolerance', rs({ nbf: NOW + 5 }), true, 'ok'],
  ['exp not a number', rs({ exp: String(NOW + 600) }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['iat not a number', rs({ iat: 'now' }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['another issuer', rs({ iss: 'https://evil.test/' }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['issuer with another case', rs({ iss: ISSUER.toUpperCase() }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['issuer missing', token({ alg: 'RS256', kid: 'rs' }, { sub: 'alice', aud: AUDIENCE, iat: NOW, exp: NOW + 600 }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['another audience', rs({ aud: 'https://other.test' }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  ['audience in a list', rs({ aud: ['https://other.test', AUDIENCE] }), true, 'ok'],
  ['audience an empty list', rs({ aud: [] }), false, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
];
