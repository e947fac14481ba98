import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { UnsecuredJWT, base64url, type JWTClaimVerificationOptions, type JWTPayload } from 'jose';

const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
/** Three non-empty base64url segments, nothing else: no padding, no whitespace, no fourth part. */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UNSECURED_HEADER = base64url.encode('{"alg":"none"}');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Verifies an HS* token synchronously, or returns undefined so that jose's `jwtVerify` decides. */
export type HmacVerifier = (token: string, claims: JWTClaimVerificationOptions) => JWTPayload | undefined;

/**
 * A synchronous check of HS256/384/512 tokens under the configured secret: jose's `jwtVerify` goes
 * through WebCrypto, whose async job is most of the price of a token seen for the first time (docs/bench.md).
 *
 * It can only accept. A token it accepts has a plain header naming an allowed HS algorithm, with no
 * `crit` or `b64` (and the expected `typ` when the options name one, compared as jose compares it); a MAC equal, in constant time, to the canonical encoding of HMAC(secret, header.payload);
 * and claims that jose's own validator (`UnsecuredJWT.decode`, the code `jwtVerify` runs, fed the
 * verified payload) accepts with the same options. Anything else returns undefined and `jwtVerify`
 * decides, so every rejection, and its reason, comes from jose. test/token/hmac.test.ts checks both
 * against `jwtVerify` on a corpus of odd and hostile tokens.
 */
export function createHmacVerifier(secret: string | Uint8Array, algorithms: readonly string[]): HmacVerifier {
  const key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  const allowed = new Set(algorithms.filter((alg) => HASHES[alg] !== undefined));
  // The claim options without `typ` (checked here against the real header), remembered for the last
  // options object seen: the verifier passes the same one on every call with the real clock.
  let lastClaims: JWTClaimVerificationOptions | undefined;
  let lastUntyped: JWTClaimVerificationOptions = {};
  return (token, claims) => {
    if (!COMPACT.test(token)) return undefined;
    const headerEnd = token.indexOf('.');
    const signatureStart = token.lastIndexOf('.') + 1;
    const header = plainHeader(token.slice(0, headerEnd));
    if (header === undefined) return undefined;
    const hash = typeof header.alg === 'string' && allowed.has(header.alg) ? HASHES[header.alg] : undefined;
    if (hash === undefined) return undefined;
    // jose's `typ` check reads the header, which the unsecured re-encoding below does not carry.
    if (claims.typ !== undefined && !sameTyp(header.typ, claims.typ)) return undefined;
    const mac = createHmac(hash, key).update(token.slice(0, signatureStart - 1)).digest('base64url');
    const signature = token.slice(signatureStart);
    if (mac.length !== signature.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(signature))) return undefined;
    try {
      return UnsecuredJWT.decode(`${UNSECURED_HEADER}.${token.slice(headerEnd + 1, signatureStart - 1)}.`, untyped(claims)).payload;
    } catch {
      return undefined;
    }
  };

  function untyped(claims: JWTClaimVerificationOptions): JWTClaimVerificationOptions {
    if (claims.typ === undefined) return claims;
    if (claims !== lastClaims) {
      const { typ: _checked, ...rest } = claims;
      lastClaims = claims;
      lastUntyped = rest;
    }
    return lastUntyped;
  }
}

/** The header's members when it is a plain JSON object without `crit` or `b64`; undefined otherwise. */
function plainHeader(segment: string): { alg?: unknown; typ?: unknown } | undefined {
  let header: unknown;
  try {
    header = JSON.parse(strictUtf8.decode(base64url.decode(segment)));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) return undefined;
  return header as { alg?: unknown; typ?: unknown };
}

/**
 * jose's `typ` comparison (RFC 8725 section 3.11): case-insensitive, a value without a `/` taken as
 * `application/<value>`, so `at+jwt`, `AT+JWT` and `application/at+jwt` are one type.
 */
function sameTyp(actual: unknown, expected: string): boolean {
  return typeof actual === 'string' && mediaType(actual) === mediaType(expected);
}

function mediaType(value: string): string {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
}
