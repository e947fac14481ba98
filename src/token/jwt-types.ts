/**
 * The JWT shapes our public types mention, declared here rather than imported from jose: jose is
 * ESM-only, and a CommonJS project compiled with `node16` resolution cannot import its types from our
 * `.d.cts` declarations (TS1479). Both are structurally jose's own (`JWTPayload`, `JWK`).
 */
import type { JsonWebKey } from 'node:crypto';

/** A verified token's claims (RFC 7519 section 4): the registered claims typed, any other `unknown`. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

/** A JSON Web Key (RFC 7517), as `node:crypto` types it. */
export type Jwk = JsonWebKey;
