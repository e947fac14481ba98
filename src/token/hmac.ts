import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { JWTClaimVerificationOptions, JWTPayload } from 'jose';
import { COMPACT, createClaimsCheck, plainHeader } from './compact-claims.js';

const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

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
  const checkClaims = createClaimsCheck();
  return (token, claims) => {
    if (!COMPACT.test(token)) return undefined;
    const headerEnd = token.indexOf('.');
    const signatureStart = token.lastIndexOf('.') + 1;
    const header = plainHeader(token.slice(0, headerEnd));
    if (header === undefined) return undefined;
    const hash = typeof header.alg === 'string' && allowed.has(header.alg) ? HASHES[header.alg] : undefined;
    if (hash === undefined) return undefined;
    const mac = createHmac(hash, key).update(token.slice(0, signatureStart - 1)).digest('base64url');
    const signature = token.slice(signatureStart);
    if (mac.length !== signature.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(signature))) return undefined;
    return checkClaims(token, headerEnd, signatureStart, header, claims);
  };
}
