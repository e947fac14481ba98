import { KeyObject, constants, verify as verifySignature, webcrypto } from 'node:crypto';
import type { JWTClaimVerificationOptions, JWTHeaderParameters, JWTPayload } from 'jose';
import { COMPACT, createClaimsCheck, plainHeader } from './compact-claims.js';
import type { KeyResolver, VerifyKey } from './keys.js';

type CryptoKey = webcrypto.CryptoKey;

/** How node:crypto checks each algorithm, and what jose requires of its key (lib/jws_algorithms.js). */
interface Scheme {
  /** node:crypto's digest name. */
  readonly hash: string;
  /** The WebCrypto algorithm name jose imports the key under. */
  readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA';
  /** RSA-PSS: the salt length jose's WebCrypto call uses (the hash length). */
  readonly saltLength?: number;
  /** ECDSA: the only curve jose takes for the algorithm, and the IEEE P1363 signature's length. */
  readonly curve?: string;
  readonly signatureBytes?: number;
}

const rsa = (bits: number): Scheme => ({ hash: `sha${bits}`, name: 'RSASSA-PKCS1-v1_5' });
const pss = (bits: number): Scheme => ({ hash: `sha${bits}`, name: 'RSA-PSS', saltLength: bits / 8 });
const ecdsa = (bits: number, curve: string, signatureBytes: number): Scheme => ({ hash: `sha${bits}`, name: 'ECDSA', curve, signatureBytes });

/** A Map, so that no header `alg` (`constructor`, `__proto__`) finds an inherited member. */
const SCHEMES = new Map<string, Scheme>([
  ['RS256', rsa(256)],
  ['RS384', rsa(384)],
  ['RS512', rsa(512)],
  ['PS256', pss(256)],
  ['PS384', pss(384)],
  ['PS512', pss(512)],
  ['ES256', ecdsa(256, 'P-256', 64)],
  ['ES384', ecdsa(384, 'P-384', 96)],
  ['ES512', ecdsa(512, 'P-521', 132)],
]);

/** jose's floor for RSA keys (`checkModulusLength`): a smaller key makes it throw. */
export const MIN_RSA_BITS = 2048;

/** The one WebCrypto curve jose takes for an ES algorithm (`P-256` for ES256), else undefined. */
export function curveOf(alg: string): string | undefined {
  return SCHEMES.get(alg)?.curve;
}

/**
 * Whether jose's `checkCryptoKey` takes `key` for an RS*, PS* or ES* `alg`: a public key for
 * verification, under the algorithm's WebCrypto name, with its hash (RSA) or curve (ECDSA). The
 * modulus length (`checkModulusLength`) is not looked at here.
 */
export function cryptoKeyTakes(key: CryptoKey, alg: string): boolean {
  const scheme = SCHEMES.get(alg);
  if (scheme === undefined || key.type !== 'public' || !key.usages.includes('verify')) return false;
  const algorithm = key.algorithm as { name?: unknown; hash?: { name?: unknown }; namedCurve?: unknown };
  if (algorithm.name !== scheme.name) return false;
  return scheme.name === 'ECDSA' ? algorithm.namedCurve === scheme.curve : algorithm.hash?.name === `SHA-${alg.slice(2)}`;
}
/** More remembered keys than a key set plausibly holds: past it, jose resolves each token (the kid space is the caller's). */
const MAX_REMEMBERED = 64;

/** A key jose resolved, ready for node:crypto, with what the signature must look like. */
interface RememberedKey {
  readonly key: KeyObject;
  /** The signature's exact length in bytes: the modulus length (RSA) or twice the coordinate size (ECDSA). */
  readonly signatureBytes: number;
  readonly scheme: Scheme;
}

/** The synchronous RS/PS/ES check, and the key resolver that teaches it keys. */
export interface AsymmetricVerifier {
  /** Verifies a token synchronously, or returns undefined so that jose's `jwtVerify` decides. */
  verify(token: string, claims: JWTClaimVerificationOptions): JWTPayload | undefined;
  /** The resolver to hand `jwtVerify`: the configured one, remembering each key it returns. */
  readonly resolveKey: KeyResolver;
}

/**
 * A synchronous check of RS*, PS* and ES* tokens whose key jose already resolved: jose's `jwtVerify`
 * verifies through WebCrypto, whose async job is much of the price of a token seen for the first time
 * (bench/tokens.mjs).
 *
 * Keys come from jose's own resolution. Every key the configured resolver (jose's remote JWKS, or the
 * configured public key) returns to `jwtVerify` is remembered by `alg` and `kid`, as a `KeyObject`,
 * with the version of the key set it came from (keys.ts `keySet`); it is used only while that set is
 * still jose's current, fresh set. So fetching, caching, cooldown and rotation stay jose's: a token
 * whose key is not remembered for the current set, or any set change, sends the token to jose, whose
 * resolution then teaches the key again.
 *
 * It can only accept. A token it accepts has a plain header naming an allowed RS/PS/ES algorithm, with
 * no `crit` or `b64`, a `kid` absent or a string, and the expected `typ` when the options name one; a
 * signature in its canonical base64url form, of the exact length the key gives, that node:crypto
 * verifies as WebCrypto would (RSA PKCS#1 v1.5; RSA-PSS with the hash length as salt; ECDSA in IEEE
 * P1363 form on the algorithm's curve); under a key jose would take for that algorithm (public, for
 * verification, the algorithm's WebCrypto name and hash or curve, RSA of 2048 bits or more); and
 * claims jose's own validator accepts with the same options. Anything else returns undefined and
 * `jwtVerify` decides, so every rejection, and its reason, comes from jose.
 * test/token/asymmetric.test.ts checks both against `jwtVerify` on a corpus of odd and hostile tokens.
 *
 * Undefined when the resolver cannot tell its key set's version or no such algorithm is allowed.
 */
export function createAsymmetricVerifier(resolveKey: KeyResolver, algorithms: readonly string[]): AsymmetricVerifier | undefined {
  const { keySet, ignoresKid = false } = resolveKey;
  const allowed = new Set(algorithms.filter((alg) => SCHEMES.has(alg)));
  if (keySet === undefined || allowed.size === 0) return undefined;
  const checkClaims = createClaimsCheck();
  // Keys of one key set only: a new set forgets them all.
  let rememberedSet: object | undefined;
  let remembered = new Map<string, RememberedKey>();

  const slot = (alg: string, kid: string | undefined) => (ignoresKid || kid === undefined ? alg : `${alg}.${kid}`);

  function remember(header: JWTHeaderParameters, key: VerifyKey, set: object): void {
    const scheme = SCHEMES.get(header.alg);
    const kid = header.kid;
    if (scheme === undefined || (kid !== undefined && typeof kid !== 'string')) return;
    const usable = usableKey(key, header.alg, scheme);
    if (usable === undefined) return;
    if (set !== rememberedSet) {
      rememberedSet = set;
      remembered = new Map();
    }
    if (remembered.size < MAX_REMEMBERED) remembered.set(slot(header.alg, kid), usable);
  }

  const learning = Object.assign(
    async (header: JWTHeaderParameters): Promise<VerifyKey> => {
      const before = keySet();
      const key = await resolveKey(header);
      // Only a key from a set that stayed current for the whole call is that set's answer.
      if (before !== undefined && keySet() === before) remember(header, key, before);
      return key;
    },
    { keySet, ignoresKid },
  );

  function verify(token: string, claims: JWTClaimVerificationOptions): JWTPayload | undefined {
    if (remembered.size === 0 || !COMPACT.test(token)) return undefined;
    const headerEnd = token.indexOf('.');
    const signatureStart = token.lastIndexOf('.') + 1;
    const header = plainHeader(token.slice(0, headerEnd));
    if (header === undefined || typeof header.alg !== 'string' || !allowed.has(header.alg)) return undefined;
    if (header.kid !== undefined && typeof header.kid !== 'string') return undefined;
    const known = remembered.get(slot(header.alg, header.kid));
    if (known === undefined || keySet?.() !== rememberedSet) return undefined;
    const encoded = token.slice(signatureStart);
    const signature = Buffer.from(encoded, 'base64url');
    // jose decodes leniently (a non-canonical last character): only the exact canonical form is taken here.
    if (signature.length !== known.signatureBytes || signature.toString('base64url') !== encoded) return undefined;
    const { scheme, key } = known;
    const input = Buffer.from(token.slice(0, signatureStart - 1), 'latin1');
    let valid: boolean;
    try {
      valid = verifySignature(scheme.hash, input, signatureOptions(key, scheme), signature);
    } catch {
      return undefined;
    }
    if (!valid) return undefined;
    return checkClaims(token, headerEnd, signatureStart, header, claims);
  }

  return { verify, resolveKey: learning };
}

function signatureOptions(key: KeyObject, scheme: Scheme) {
  if (scheme.name === 'ECDSA') return { key, dsaEncoding: 'ieee-p1363' as const };
  if (scheme.name === 'RSA-PSS') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

/**
 * The key as a KeyObject when jose would verify `alg` with it (its `prepareKey`, `checkCryptoKey` and
 * `checkModulusLength`); undefined otherwise (jose then decides every token, as before).
 */
function usableKey(key: VerifyKey, alg: string, scheme: Scheme): RememberedKey | undefined {
  if (!isCryptoKey(key) || !cryptoKeyTakes(key, alg)) return undefined;
  let signatureBytes: number;
  if (scheme.name === 'ECDSA') {
    if (scheme.signatureBytes === undefined) return undefined;
    signatureBytes = scheme.signatureBytes;
  } else {
    const { modulusLength } = key.algorithm as { modulusLength?: unknown };
    if (typeof modulusLength !== 'number' || modulusLength < MIN_RSA_BITS) return undefined;
    signatureBytes = Math.ceil(modulusLength / 8);
  }
  let keyObject: KeyObject;
  try {
    keyObject = KeyObject.from(key);
  } catch {
    return undefined;
  }
  return { key: keyObject, signatureBytes, scheme };
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return (key as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] === 'CryptoKey';
}
