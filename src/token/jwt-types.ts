/**
 * The JWT shapes our public types mention, declared here rather than imported from jose: jose is
 * ESM-only, and a CommonJS project compiled with `node16` resolution cannot import its types from our
 * `.d.cts` declarations (TS1479). Both are structurally jose's own (`JWTPayload`, `JWK`). Nor from
 * `node:crypto`: @types/node 25 moved its `JsonWebKey` into `webcrypto`, so our declarations would
 * not compile against one @types/node or the other.
 */

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

/** A JSON Web Key (RFC 7517, 7518 section 6, 8037), the members typed, any other `unknown`. */
export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  ext?: boolean;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  k?: string;
  x5c?: string[];
  x5t?: string;
  'x5t#S256'?: string;
  x5u?: string;
  [member: string]: unknown;
}
