import { KeyObject, randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import type { Jwk } from '../token/jwt-types.js';
import { fail } from '../options/checks.js';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, type MintAlgorithm, type MintOptions } from './mint-types.js';
import { checkMintOptions } from './options.js';

// The project's lib has no DOM, so the WebCrypto key type comes from node:crypto.
type CryptoKey = webcrypto.CryptoKey;

/** The `scope` of a minted access token: GenAuth's documented example of a login's scopes. */
const DEFAULT_SCOPE = 'openid profile email phone';

/** One emulator signing key pair. */
export interface SigningKey {
  readonly alg: AsymmetricAlgorithm;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** Public JWK with `kid`, `alg` and `use: 'sig'`, as served by the JWKS endpoint. */
  readonly publicJwk: Jwk;
}

/** Keys and defaults used to mint tokens; shared by the emulator and standalone tests. */
export interface TokenMinter {
  readonly issuer: string;
  readonly audience: string;
  /** Secret for HS256 tokens (the GenAuth "application secret"). */
  readonly hs256Secret: string;
  /** The key pair of an asymmetric algorithm. */
  key(alg: AsymmetricAlgorithm): SigningKey;
  /** The public JWK set `{ keys }` of all asymmetric keys. */
  jwks(): { keys: Jwk[] };
  /** Sign a user access token; defaults: `sub=userId`, `iat=now`, `exp=now+3600`, `iss`, `aud`, and
   *  (asymmetric algs) a fresh `jti` and `scope`. */
  mint(userId: string, options?: MintOptions): Promise<string>;
}

/** Generate one extractable key pair for `alg`, with its public JWK (`kid`, `alg`, `use`). */
export async function generateSigningKey(alg: AsymmetricAlgorithm, kid = `emulator-${alg.toLowerCase()}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: Jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

/** Infer the JWS alg of a foreign key, so `mint(..., { key })` works without also naming `alg`. */
function inferAlg(key: CryptoKey | KeyObject | Uint8Array): MintAlgorithm {
  if (key instanceof Uint8Array) return 'HS256';
  if (key instanceof KeyObject) {
    if (key.type === 'secret') return 'HS256';
    const byType: Record<string, MintAlgorithm> = { rsa: 'RS256', 'rsa-pss': 'PS256', ec: 'ES256', ed25519: 'EdDSA' };
    return byType[key.asymmetricKeyType ?? ''] ?? 'RS256';
  }
  const byName: Record<string, MintAlgorithm> = {
    HMAC: 'HS256', 'RSASSA-PKCS1-v1_5': 'RS256', 'RSA-PSS': 'PS256', ECDSA: 'ES256', Ed25519: 'EdDSA',
  };
  return byName[key.algorithm.name] ?? 'RS256';
}

/**
 * Create a token minter with fresh key pairs for `algorithms` (default: every asymmetric alg; the
 * emulator passes its `jwksAlgorithms`, RS256 alone by default, as GenAuth's JWKS).
 * Keys are generated once here because RSA generation is slow (~50 ms) and tests mint many tokens.
 */
export async function createTokenMinter(config: {
  issuer: string;
  audience: string;
  hs256Secret?: string;
  algorithms?: readonly AsymmetricAlgorithm[];
}): Promise<TokenMinter> {
  const keys = new Map<AsymmetricAlgorithm, SigningKey>();
  for (const key of await Promise.all((config.algorithms ?? ASYMMETRIC_ALGORITHMS).map((alg) => generateSigningKey(alg)))) {
    keys.set(key.alg, key);
  }
  const hs256Secret = config.hs256Secret ?? randomBytes(32).toString('hex');
  const secretBytes = new TextEncoder().encode(hs256Secret);
  const key = (alg: AsymmetricAlgorithm): SigningKey => {
    const found = keys.get(alg);
    if (!found) throw new Error(`genauth emulator: no key for ${alg}`);
    return found;
  };

  const mint = async (userId: string, options: MintOptions = {}): Promise<string> => {
    checkMintOptions(options);
    const alg = options.alg ?? (options.key ? inferAlg(options.key) : 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { sub: userId, iat: now };
    const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
    if (expiresIn !== null) payload.exp = now + expiresIn;
    const issuer = options.issuer === undefined ? config.issuer : options.issuer;
    if (issuer !== null) payload.iss = issuer;
    const audience = options.audience === undefined ? config.audience : options.audience;
    if (audience !== null) payload.aud = audience;
    if (options.notBefore !== undefined) payload.nbf = options.notBefore;
    // GenAuth's access tokens (RS256) carry jti and scope; its HS256 tokens are id tokens, which do not.
    const accessToken = alg !== 'HS256';
    const jti = options.jti === undefined ? (accessToken ? randomUUID() : null) : options.jti;
    if (jti !== null) payload.jti = jti;
    const scope = options.scope === undefined ? (accessToken ? DEFAULT_SCOPE : null) : options.scope;
    if (scope !== null) payload.scope = scope;
    Object.assign(payload, options.claims);

    // Signing with a key the JWKS does not publish would make a token no verifier of it can check: refused
    // loudly (a foreign `key` is the way to sign with an unpublished key).
    const own = alg === 'HS256' ? undefined : keys.get(alg);
    if (options.key === undefined && alg !== 'HS256' && own === undefined) {
      fail('mintToken.alg', `"${alg}" has no key to sign with; list it in startEmulator's jwksAlgorithms (createTokenMinter's algorithms)`);
    }
    const signingKey = options.key ?? (own === undefined ? secretBytes : own.privateKey);
    const kid = options.kid ?? own?.kid;
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader(kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid })
      .sign(signingKey);
  };

  return {
    issuer: config.issuer,
    audience: config.audience,
    hs256Secret,
    key,
    jwks: () => ({ keys: [...keys.values()].map((k) => ({ ...k.publicJwk })) }),
    mint,
  };
}
