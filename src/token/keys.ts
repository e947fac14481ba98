import { KeyObject, createPublicKey, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import type { ExportedJWKSCache, JWK, JWTHeaderParameters } from 'jose';
import { createRemoteJWKSet, customFetch, jwksCache } from 'jose/jwks/remote';
import { importJWK } from 'jose/key/import';
import type { JwtOptions } from '../options.js';
import type { Clock } from '../options/types.js';
import { optionError } from '../options/checks.js';
import { MIN_RSA_BITS, cryptoKeyTakes, curveOf } from './asymmetric.js';
import { DEFAULT_MAX_RESPONSE_BYTES, discardBody, KeySourceTooLargeError, readBoundedText } from './bounded-body.js';
import { KeySourceError } from './key-source-error.js';
import { createKeySetFetch } from './key-set-fetch.js';
import { fetchRefusesPort, keySetTransportAllowed } from './key-set-url.js';

/** What jose accepts as a key or key getter. */
export type VerifyKey = CryptoKey | KeyObject | JWK | Uint8Array;
export type KeyResolver = ((header: JWTHeaderParameters) => Promise<VerifyKey>) & {
  /** Remote key sources: fetches the discovery document and the key set now (for `guard.ready()`). */
  load?: () => Promise<void>;
  /**
   * Which key set the resolver answers from now, as an object that changes whenever the set does,
   * or undefined when its next call may fetch (no set yet, or a stale one): a key it returned is
   * its answer for the same `alg` and `kid` for as long as this stays the same object (asymmetric.ts).
   */
  readonly keySet?: () => object | undefined;
  /** True when the answer ignores the header's `kid` (one configured public key). */
  readonly ignoresKid?: boolean;
};

export { KeySourceError, type KeySourceFailure } from './key-source-error.js';

const ASYMMETRIC_TYPES: Record<string, readonly string[]> = {
  RS: ['rsa'],
  PS: ['rsa', 'rsa-pss'],
  ES: ['ec'],
  // jose verifies EdDSA and Ed25519 with Ed25519 keys only.
  Ed: ['ed25519'],
};

/** The node:crypto name (`asymmetricKeyDetails.namedCurve`) of the one curve jose takes for each ES algorithm (`curveOf`). */
const EC_NODE_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/**
 * Whether jose would verify `alg` with this CryptoKey (its `checkCryptoKey`, as the synchronous check
 * reads it for RS*, PS* and ES*; EdDSA takes a public Ed25519 verification key). A key that does not
 * fit makes jose throw a TypeError for every token naming `alg`, which is no outage: it is refused at
 * construction instead.
 */
function cryptoKeyFits(key: CryptoKey, alg: string): boolean {
  if (!alg.startsWith('Ed')) return cryptoKeyTakes(key, alg);
  return key.type === 'public' && key.usages.includes('verify') && (key.algorithm as { name?: unknown }).name === 'Ed25519';
}

function isCryptoKey(key: unknown): key is CryptoKey {
  const CryptoKeyClass = (globalThis as unknown as { CryptoKey?: abstract new () => CryptoKey }).CryptoKey;
  return CryptoKeyClass !== undefined && key instanceof CryptoKeyClass;
}

function hmacHash(alg: string): string {
  return `SHA-${alg.slice(2)}`;
}

/** Imports each key once per algorithm and hands jose a ready `CryptoKey` (the fast path). */
function perAlgorithm(importer: (alg: string) => Promise<VerifyKey>): KeyResolver {
  const imported = new Map<string, Promise<VerifyKey>>();
  return (header) => {
    const alg = header.alg as string;
    let key = imported.get(alg);
    if (key === undefined) {
      key = importer(alg);
      imported.set(alg, key);
    }
    return key;
  };
}

function secretResolver(secret: string | Uint8Array): KeyResolver {
  // Copied now: jose imports the key on the first token of each algorithm, after the caller may have
  // wiped or reused its buffer, and the synchronous check (hmac.ts) keeps the bytes it was built with.
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret);
  return perAlgorithm((alg) =>
    webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: hmacHash(alg) }, false, ['verify']),
  );
}

/** A PEM block of a private key: PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`). */
const PRIVATE_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** The JWK members only a private (or secret) key has (RFC 7518 sections 6.2.2, 6.3.2, 6.4; RFC 8037). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** A node:crypto KeyObject (a secret one has no own `asymmetricKeyType`: not told by that). */
function isKeyObject(key: unknown): key is KeyObject {
  return key instanceof KeyObject || (typeof key === 'object' && key !== null && typeof (key as KeyObject).export === 'function' && typeof (key as KeyObject).type === 'string');
}

/**
 * A private key given as `jwt.publicKey` is refused, not quietly reduced to its public half: a verifier
 * never needs it, and a signing key in a service's configuration can forge every token it would accept.
 */
function refusePrivate(): never {
  throw optionError('jwt.publicKey', 'is a private key: a verifier needs only the public key (export the public half, e.g. createPublicKey(privateKey)) and the private key must stay with the issuer');
}

function refuseSmallRsa(bits: number | undefined): void {
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw optionError('jwt.publicKey', `is a ${bits}-bit RSA key: jose verifies RS* and PS* only with keys of ${MIN_RSA_BITS} bits or more`);
  }
}

/**
 * What jose's `jwtVerify` requires of a JWK it is given to verify `alg` (its `prepareKey`): `use`, when
 * present, `sig`; `key_ops`, when present, a list of distinct strings holding `verify`; `alg`, when
 * present, the token's; `ext`, when present, a boolean. The guard imports the key through a KeyObject,
 * which drops these members, so without this check it verified tokens jose refuses with the same JWK
 * (a key published for RS256 only took PS256 tokens, an encryption key took any). A JWK jose would
 * refuse for one configured algorithm is refused here, at construction, as a key of the wrong type is.
 */
function checkJwkUse(jwk: JWK, algorithms: readonly string[]): void {
  const { use, key_ops: keyOps, alg, ext } = jwk as Record<string, unknown>;
  if (ext !== undefined && typeof ext !== 'boolean') throw optionError('jwt.publicKey', 'is a JWK whose "ext" is not a boolean, which jose refuses');
  if (use !== undefined && use !== 'sig') throw optionError('jwt.publicKey', 'is a JWK whose "use" is not "sig": it is not a key for verifying signatures, and jose refuses it');
  if (keyOps !== undefined) {
    const distinct = Array.isArray(keyOps) && keyOps.every((op, i) => typeof op === 'string' && keyOps.indexOf(op) === i);
    if (!distinct) throw optionError('jwt.publicKey', 'is a JWK whose "key_ops" is not a list of distinct strings, which jose refuses');
    if (!keyOps.includes('verify')) throw optionError('jwt.publicKey', 'is a JWK whose "key_ops" does not hold "verify": it is not a key for verifying signatures, and jose refuses it');
  }
  if (alg !== undefined) {
    const other = algorithms.find((configured) => configured !== alg);
    if (other !== undefined) throw optionError('jwt.publicKey', `is a JWK whose "alg" is not ${other}: jose refuses to verify ${other} with it (list only the key's own algorithm in jwt.algorithms)`);
  }
}

function publicKeyResolver(key: string | JWK | KeyObject | CryptoKey, algorithms: readonly string[]): KeyResolver {
  if (isCryptoKey(key)) {
    if (key.type !== 'public') refusePrivate();
    for (const alg of algorithms) {
      if (!cryptoKeyFits(key, alg)) throw optionError('jwt.publicKey', `is a CryptoKey (${(key.algorithm as { name?: string }).name ?? 'unknown'}) that cannot verify ${alg}`);
    }
    refuseSmallRsa((key.algorithm as { modulusLength?: number }).modulusLength);
    return withKeySet(async () => key, () => ONE_KEY, true);
  }
  // Parse synchronously so a bad key is a construction-time TypeError, not a per-request failure.
  if (typeof key === 'string' && PRIVATE_PEM.test(key)) refusePrivate();
  if (isKeyObject(key) && key.type !== 'public') {
    if (key.type === 'private') refusePrivate();
    throw optionError('jwt.publicKey', 'is a secret KeyObject: use jwt.secret for HS* algorithms');
  }
  if (typeof key === 'object' && key !== null && !isKeyObject(key) && PRIVATE_JWK_MEMBERS.some((member) => member in key)) {
    if ('k' in key) throw optionError('jwt.publicKey', 'is a symmetric JWK: use jwt.secret for HS* algorithms');
    refusePrivate();
  }
  if (typeof key === 'object' && key !== null && !isKeyObject(key)) checkJwkUse(key as JWK, algorithms);
  let keyObject: KeyObject;
  try {
    keyObject =
      typeof key === 'string'
        ? createPublicKey(key)
        : isKeyObject(key)
          ? key
          : createPublicKey({ key: key as JWK as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw optionError('jwt.publicKey', 'is not a valid public key (PEM, JWK or KeyObject)', { cause });
  }
  const type = keyObject.asymmetricKeyType ?? '';
  if (type === 'rsa-pss') {
    // Neither JWK export nor WebCrypto's SPKI import takes an id-RSASSA-PSS key: jose would refuse it on every token.
    throw optionError('jwt.publicKey', 'is an RSA-PSS (id-RSASSA-PSS) key, which jose cannot import: give the same key as a plain RSA (rsaEncryption) key, which PS* algorithms take');
  }
  for (const alg of algorithms) {
    const allowed = ASYMMETRIC_TYPES[alg.slice(0, 2)] ?? [];
    if (!allowed.includes(type)) {
      throw optionError('jwt.publicKey', `is a ${type} key, which cannot verify ${alg}`);
    }
    const curve = EC_NODE_CURVES[alg];
    if (curve !== undefined && keyObject.asymmetricKeyDetails?.namedCurve !== curve) {
      throw optionError('jwt.publicKey', `is an EC key on ${keyObject.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}, which cannot verify ${alg} (${curveOf(alg)} only)`);
    }
  }
  if (type === 'rsa') refuseSmallRsa(keyObject.asymmetricKeyDetails?.modulusLength);
  // Every form (SPKI, PKCS#1 "RSA PUBLIC KEY" and X.509 PEM, JWK, KeyObject) is imported through the JWK
  // of the key parsed above: jose's importSPKI would refuse a PKCS#1 PEM on every token.
  const jwk = keyObject.export({ format: 'jwk' }) as JWK;
  const resolve = perAlgorithm((alg) => importJWK(jwk, alg) as Promise<VerifyKey>);
  return withKeySet(resolve, () => ONE_KEY, true);
}

/** The key set of a configured public key: it never changes. */
const ONE_KEY = Object.freeze({});

function withKeySet(resolve: (header: JWTHeaderParameters) => Promise<VerifyKey>, keySet: () => object | undefined, ignoresKid = false): KeyResolver {
  return Object.assign(resolve, { keySet, ignoresKid });
}

function jwksResolver(url: string, knobs: JwtOptions['jwks'] | undefined, clock: Clock): KeyResolver {
  const cooldownDuration = knobs?.cooldownDuration ?? 30_000;
  // jose writes each set it loads here (a fresh parsed object per load): its identity is the set's
  // version. Starting empty, it changes nothing in how jose fetches, caches or cools down.
  const loaded: Partial<ExportedJWKSCache> = {};
  // jose cools down only after a fetch that succeeded: this spaces out the fetches after a failure.
  const fetcher = createKeySetFetch(cooldownDuration, clock, knobs?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  const set = createRemoteJWKSet(new URL(url), {
    cooldownDuration,
    timeoutDuration: knobs?.timeoutDuration ?? 3_000,
    cacheMaxAge: knobs?.cacheMaxAge ?? 600_000,
    [jwksCache]: loaded as ExportedJWKSCache,
    [customFetch]: fetcher.fetch,
  });
  // A stale set is reloaded by jose's next call, so it is no version to trust.
  return Object.assign(
    withKeySet((header) => set(header) as Promise<VerifyKey>, () => (set.fresh ? loaded.jwks : undefined)),
    { load: () => fetcher.now(() => set.reload()) },
  );
}

/**
 * Where discovery may take the key set from: https, or http only when the issuer itself is http (local
 * development), as for a configured `jwt.jwksUri` but with no loopback exception (key-set-url.ts). A
 * key set fetched over plain http for an https issuer could be swapped in transit. Not on a port fetch
 * refuses (a configured URL on one is refused at construction).
 */
function discoveredJwksUrl(issuer: string, jwksUri: string): string {
  const url = URL.canParse(jwksUri) ? new URL(jwksUri) : undefined;
  if (url === undefined || !keySetTransportAllowed(url, issuer, false)) {
    throw new KeySourceError('OIDC discovery metadata names a jwks_uri that is not https', 'jwks_uri_not_https');
  }
  // fetch would reject it at once, on every request (a bare TypeError): told as what it is instead.
  if (fetchRefusesPort(url)) {
    throw new KeySourceError('OIDC discovery metadata names a jwks_uri on a port fetch refuses', 'jwks_uri_bad_port');
  }
  return jwksUri;
}

/**
 * OIDC discovery: reads `jwks_uri` from the issuer's metadata once. After a failure, requests get that
 * failure (a 503) without a new fetch until `jwks.cooldownDuration` has passed on `clock`, so an issuer
 * in an outage is not fetched once per request; `load` (`guard.ready()`) fetches at once.
 */
function discoveryResolver(issuer: string, knobs: JwtOptions['jwks'] | undefined, clock: Clock): KeyResolver {
  const cooldown = knobs?.cooldownDuration ?? 30_000;
  let pending: Promise<KeyResolver> | undefined;
  let failure: { error: unknown; at: number } | undefined;
  const discover = async (): Promise<KeyResolver> => {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let text: string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(knobs?.timeoutDuration ?? 3_000), redirect: 'error' });
      if (!response.ok) {
        discardBody(response);
        throw new KeySourceError(`OIDC discovery answered HTTP ${response.status}`, 'fetch', { status: response.status });
      }
      text = await readBoundedText(response, knobs?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'discovery');
    } catch (cause) {
      // Passed on as it is: its code tells the set-up problem which bound was passed.
      if (cause instanceof KeySourceTooLargeError || cause instanceof KeySourceError) throw cause;
      throw new KeySourceError('OIDC discovery failed', 'fetch', { cause });
    }
    let metadata: unknown;
    try {
      metadata = JSON.parse(text);
    } catch {
      // The parser's words quote the body: not kept (no cause), the failure says what it was.
      throw new KeySourceError('OIDC discovery answered what is not JSON', 'not_json');
    }
    // OpenID Connect Discovery 1.0 section 4.2: the metadata is a JSON object. `null`, a number, a
    // string, a boolean or an array is no document (and `null.issuer` would throw a bare TypeError).
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new KeySourceError('OIDC discovery answered JSON that is not an object', 'not_object');
    }
    const { issuer: named, jwks_uri: jwksUri } = metadata as { issuer?: unknown; jwks_uri?: unknown };
    if (named !== issuer || typeof jwksUri !== 'string') {
      throw new KeySourceError('OIDC discovery metadata does not match the configured issuer', 'issuer_mismatch');
    }
    return jwksResolver(discoveredJwksUrl(issuer, jwksUri), knobs, clock);
  };
  let discovered: KeyResolver | undefined;
  const discovering = (now: boolean): Promise<KeyResolver> => {
    if (pending !== undefined) return pending;
    if (!now && failure !== undefined && clock.now() - failure.at < cooldown) return Promise.reject(failure.error);
    pending = discover().then(
      (resolver) => {
        failure = undefined;
        return (discovered = resolver);
      },
      (error: unknown) => {
        pending = undefined;
        failure = { error, at: clock.now() };
        throw error;
      },
    );
    return pending;
  };
  return Object.assign(
    withKeySet(async (header) => (await discovering(false))(header), () => discovered?.keySet?.()),
    { load: async () => (await discovering(true)).load?.() },
  );
}

/** Builds the key resolver for the configured key source. */
export function createKeyResolver(jwt: JwtOptions, clock: Clock = performance): KeyResolver {
  if (jwt.secret !== undefined) return secretResolver(jwt.secret);
  if (jwt.publicKey !== undefined) return publicKeyResolver(jwt.publicKey, jwt.algorithms);
  if (jwt.jwksUri !== undefined) return jwksResolver(jwt.jwksUri, jwt.jwks, clock);
  return discoveryResolver(jwt.issuer as string, jwt.jwks, clock);
}
