/**
 * What a minted token may be signed with, and the options of `mint()`: read by tokens.ts, which mints,
 * and by options.ts, which checks `mintToken`'s options and `startEmulator.jwksAlgorithms`. Its own
 * file so that neither of those imports the other.
 */
import type { KeyObject, webcrypto } from 'node:crypto';

// The project's lib has no DOM, so the WebCrypto key type comes from node:crypto.
type CryptoKey = webcrypto.CryptoKey;

/** Algorithms the emulator can sign user tokens with. */
export type MintAlgorithm = 'RS256' | 'HS256' | 'ES256' | 'PS256' | 'EdDSA';

/** Asymmetric algorithms that get a key pair published in the emulator's JWKS. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;

/** Asymmetric algorithm with a JWKS-published key. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Options of a minted user access token. `null` omits a claim so tests can provoke each check. */
export interface MintOptions {
  /** RS256 (default) and the other asymmetric algs use the JWKS keys; HS256 uses `hs256Secret`. */
  alg?: MintAlgorithm;
  /** Lifetime in seconds from `iat`. `null` = no `exp` claim. @default 3600 */
  expiresIn?: number | null;
  /** `iss`; `null` omits it. @default the emulator's issuer */
  issuer?: string | null;
  /** `aud`; `null` omits it. @default the emulator's audience */
  audience?: string | string[] | null;
  /** Extra claims, applied last so they can override anything (e.g. `{ sub: 42 }`, `{ iat: 0 }`). */
  claims?: Record<string, unknown>;
  /** Header `kid`. @default the emulator key's kid for `alg` (also with a foreign `key`, so the
   *  verifier finds a key and the test exercises the signature check, not the key lookup). */
  kid?: string;
  /** Sign with a foreign key (wrong-key tests). Without `alg`, the alg is inferred from the key. */
  key?: CryptoKey | KeyObject | Uint8Array;
  /** `nbf` as seconds since the epoch. */
  notBefore?: number;
  /** `jti`; `null` omits it. @default a random UUID per token (RS256 and the other asymmetric algs;
   *  none on HS256, GenAuth's id_token algorithm, whose id tokens carry none) */
  jti?: string | null;
  /** `scope`, space-separated; `null` omits it. @default 'openid profile email phone' (asymmetric
   *  algs; none on HS256, as GenAuth's id tokens carry none) */
  scope?: string | null;
}
