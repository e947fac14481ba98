import type { JWTClaimVerificationOptions, JWTPayload } from 'jose';
import * as base64url from 'jose/base64url';
import { UnsecuredJWT } from 'jose/jwt/unsecured';

/**
 * What the synchronous signature checks (hmac.ts, asymmetric.ts) share: reading a compact token's
 * header and running jose's own claim validator on a verified payload. Each helper only ever says
 * "take" or "let jwtVerify decide", never why a token is bad.
 */

/** Three non-empty base64url segments, nothing else: no padding, no whitespace, no fourth part. */
export const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UNSECURED_HEADER = base64url.encode('{"alg":"none"}');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The header members the checks read. */
export interface PlainHeader {
  alg?: unknown;
  typ?: unknown;
  kid?: unknown;
}

/** The header's members when it is a plain JSON object without `crit` or `b64`; undefined otherwise. */
export function plainHeader(segment: string): PlainHeader | undefined {
  let header: unknown;
  try {
    header = JSON.parse(strictUtf8.decode(base64url.decode(segment)));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) return undefined;
  return header as PlainHeader;
}

/**
 * jose's `typ` comparison (RFC 8725 section 3.11): case-insensitive, a value without a `/` taken as
 * `application/<value>`, so `at+jwt`, `AT+JWT` and `application/at+jwt` are one type.
 */
export function sameTyp(actual: unknown, expected: string): boolean {
  return typeof actual === 'string' && mediaType(actual) === mediaType(expected);
}

function mediaType(value: string): string {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
}

/**
 * Validates the claims of a token whose signature was checked, with jose's own validator
 * (`UnsecuredJWT.decode` runs the code `jwtVerify` runs), minus `typ` (the caller compares it with
 * `sameTyp` against the real header, which the unsecured re-encoding does not carry). Returns the
 * payload, or undefined when jose would refuse it.
 */
export function createClaimsCheck(): (token: string, headerEnd: number, signatureStart: number, header: PlainHeader, claims: JWTClaimVerificationOptions) => JWTPayload | undefined {
  // The claim options without `typ`, remembered for the last options object seen: the verifier
  // passes the same one on every call with the real clock.
  let lastClaims: JWTClaimVerificationOptions | undefined;
  let lastUntyped: JWTClaimVerificationOptions = {};
  function untyped(claims: JWTClaimVerificationOptions): JWTClaimVerificationOptions {
    if (claims.typ === undefined) return claims;
    if (claims !== lastClaims) {
      const { typ: _checked, ...rest } = claims;
      lastClaims = claims;
      lastUntyped = rest;
    }
    return lastUntyped;
  }
  return (token, headerEnd, signatureStart, header, claims) => {
    if (claims.typ !== undefined && !sameTyp(header.typ, claims.typ)) return undefined;
    try {
      return UnsecuredJWT.decode(`${UNSECURED_HEADER}.${token.slice(headerEnd + 1, signatureStart - 1)}.`, untyped(claims)).payload;
    } catch {
      return undefined;
    }
  };
}
