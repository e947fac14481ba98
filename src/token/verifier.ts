import type { JWTPayload } from 'jose';
import * as joseErrors from 'jose/errors';
import { jwtVerify } from 'jose/jwt/verify';
import { GuardError, InvalidTokenError, KeysUnavailableError, type InvalidTokenReason } from '../errors.js';
import { moreChannels } from '../events.js';
import { LRUCache } from 'lru-cache';
import type { ResolvedIdentityOptions, ResolvedJwtOptions, ResolvedOptions } from '../options/resolved.js';
import { createAsymmetricVerifier } from './asymmetric.js';
import { createHmacVerifier } from './hmac.js';
import { isFitUserId } from './identity.js';
import { createDoorkeeper } from './doorkeeper.js';
import { createKeyResolver } from './keys.js';
import { publishTokenRefusal } from './refusal-events.js';
import { isRevoked, type RevocationStore } from './revocations.js';
import type { JwtClaims } from './jwt-types.js';

/** Who the verified token says the caller is. */
export interface Identity {
  /** The user id, from the identity claim. */
  userId: string;
  /** All verified claims. */
  claims: Readonly<JwtClaims>;
}

const REASONS: Record<string, InvalidTokenReason> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg_not_allowed',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
  ERR_JOSE_NOT_SUPPORTED: 'malformed',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
};

/**
 * What a refusal may carry as its cause: the failure's name and code, never its message. jose's
 * messages can quote the key server's body (a JSON SyntaxError of a bad key set), and an error passed
 * on to a framework is logged, so upstream text must not ride along.
 */
function opaqueCause(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const code = (error as { code?: unknown } | null)?.code;
  // Which registered claim failed (never its value), so a wrong issuer and a wrong audience differ.
  const claim = error instanceof joseErrors.JWTClaimValidationFailed && /^[a-z]{2,3}$/.test(error.claim) ? ` claim "${error.claim}"` : '';
  const cause = new Error(typeof code === 'string' ? `${name} ${code}${claim}` : name);
  cause.name = name;
  return cause;
}

/**
 * What the verifier needs besides its `jwt` and `identity` options: the realm and Retry-After of its
 * errors, the wall clock of token times (`exp`, `nbf`, `iat`) and the clock its cache ages on.
 */
export type VerifierSettings = Pick<ResolvedOptions, 'realm' | 'retryAfter' | 'now' | 'clock'>;

/** Where the verifier tells what may be a set-up mistake (the guard's set-up problems). */
export interface VerifierSetupHooks {
  /** The key source failed (a 503): its error, for the log line naming the option. */
  keysFailed(error: unknown): void;
  /** jose refused a token's `iss` or `aud` claim. */
  claimRefused(claim: 'iss' | 'aud'): void;
  /** A token verified (called until `anyVerified` is true). */
  verified(): void;
  readonly anyVerified: boolean;
}

/** Turns a verification failure into a 401 (the token's fault) or a 503 (the key source's fault). */
function toGuardError(error: unknown, options: VerifierSettings, setup: VerifierSetupHooks | undefined): GuardError {
  const cause = opaqueCause(error);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (setup !== undefined && (error.claim === 'iss' || error.claim === 'aud')) setup.claimRefused(error.claim);
    return new InvalidTokenError(error.claim === 'nbf' ? 'not_yet_valid' : 'claim_invalid', options.realm, { cause });
  }
  if (error instanceof joseErrors.JOSEError) {
    const reason = REASONS[error.code];
    if (reason !== undefined) return new InvalidTokenError(reason, options.realm, { cause });
  }
  // JWKS timeouts, unparsable key sets, non-200 key servers, discovery failures and network failures
  // under jose's fetch are outages, not bad tokens: fail closed with 503.
  setup?.keysFailed(error);
  return new KeysUnavailableError(options.retryAfter, { cause });
}

/** JWS compact serialization (RFC 7515 section 7.1): three base64url parts, never padded. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The longest token verified, in characters: Node's default header limit (16 KiB, `--max-http-header-size`),
 * so no token that fits a default header is refused, while one from `getToken` (a body, a store) or from
 * a header under a raised limit is not decoded and hashed at any size. Real tokens are 1 to 4 KiB, and
 * most proxies allow 8 to 16 KiB per header. A longer token is a 401 `malformed`.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * A cached verified token: the exact token and who it says the caller is, with a slot its user may keep
 * something in for as long as the token stays cached (the core links the user's cached grants there).
 */
export interface VerifiedToken<L = unknown> {
  readonly token: string;
  readonly identity: Identity;
  /** The user's own, undefined until set; this module never reads it. */
  link: L | undefined;
  /** The user's count of uses of `link`. */
  linkUses: number;
}

/**
 * How long a token accepted while the shared store could not be read (Redis slow or away) stays in the
 * verified-token cache: its next request after that reads the user's record again, so a revocation
 * recorded elsewhere refuses it within about this long of Redis answering, not `tokenCache.maxAge`
 * later. Meanwhile the token costs one bounded read (cache.redisTimeout) a second.
 */
export const UNCHECKED_TOKEN_MS = 1_000;

/** How many of a token's last characters key the cache: the tail of its signature. */
const KEY_CHARS = 32;

/**
 * A token's cache key: its signature's last 32 characters (192 bits), cheaper to hash than the whole
 * fresh string (docs/bench.md); a hit still compares the whole token, so two tokens sharing a tail only ever miss.
 */
function keyOf(token: string): string {
  return token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
}

/**
 * Verifies a token; repeated tokens come from a cache of tokens this verifier already verified. `L`:
 * what the caller keeps in a cached token's `link` slot.
 */
export interface TokenVerifier<L = unknown> {
  /** The identity of a token this verifier already verified and still trusts; undefined otherwise. */
  peek(token: string): Identity | undefined;
  /** `peek` with the cache's record of the token, whose `link` slot is the caller's. */
  peekRecord(token: string): VerifiedToken<L> | undefined;
  /**
   * The identity without a promise when the token is cached or passes the synchronous HS* or RS/PS/ES check,
   * else a promise of jose's verdict. Throws (a token the guard's own claim checks refuse) or rejects
   * (jose's verdict) with a GuardError (401/503).
   */
  verifyNow(token: string): Identity | Promise<Identity>;
  /** Fetches a remote key source now (discovery document, key set); resolves at once for local keys. */
  loadKeys(): Promise<void>;
  /** Drops every cached token of a user (called when the user is invalidated). */
  forgetUser(userId: string): void;
  forgetAll(): void;
  /** Drops every cached token for good (the guard was closed): a verification still under way caches nothing. */
  close(): void;
}

/**
 * Creates the verifier: jose `jwtVerify` with pinned algorithms, required `exp`, `iss`/`aud` when set.
 * With `revocations`, a token of a revoked user is a 401 `revoked`, cached or not.
 */
export function createTokenVerifier<L = unknown>(
  jwt: ResolvedJwtOptions,
  identity: ResolvedIdentityOptions,
  options: VerifierSettings,
  revocations?: RevocationStore,
  setup?: VerifierSetupHooks,
): TokenVerifier<L> {
  const configuredKeys = createKeyResolver(jwt, options.clock);
  const { claim, maxLength } = identity;
  const verifyOptions = {
    algorithms: [...jwt.algorithms],
    issuer: jwt.issuer,
    audience: jwt.audience === undefined ? undefined : typeof jwt.audience === 'string' ? jwt.audience : [...jwt.audience],
    clockTolerance: jwt.clockTolerance,
    typ: jwt.typ,
    // `exp` is required too, checked below: jose rebuilds this list into a Set on every call.
    requiredClaims: jwt.requiredClaims === undefined || jwt.requiredClaims.length === 0 ? undefined : [...jwt.requiredClaims],
    maxTokenAge: jwt.maxTokenAge,
  };
  // With the real clock, one options object serves every call; a test clock needs its date each time.
  const fixedOptions = options.now === Date.now ? verifyOptions : undefined;
  // HS* under a secret, RS/PS/ES under a key jose resolved before: checked synchronously first; what
  // the check does not accept goes to jwtVerify (with the resolver that teaches the check its keys).
  const asymmetric = jwt.secret === undefined ? createAsymmetricVerifier(configuredKeys, jwt.algorithms) : undefined;
  const resolveKey = asymmetric?.resolveKey ?? configuredKeys;
  const shortcut = jwt.secret === undefined ? asymmetric?.verify : createHmacVerifier(jwt.secret, jwt.algorithms);
  const { max, maxAge } = jwt.tokenCache;
  // Owned by this verifier, so it only ever holds tokens that passed this configuration's checks (a
  // token verified for one audience never serves another guard); a hit must be the exact token (keyOf).
  // Entries age on the guard's clock; the ttl each gets is read on the wall clock (see accept).
  // `keysOf`: the cache keys holding each user's tokens, so forgetting a user costs their own tokens,
  // never a walk over the cache (a webhook or a burst of messages may name thousands of users). Kept
  // exact by `dispose`, which lru-cache calls synchronously whenever an entry leaves (deleted, evicted,
  // expired on a read, overwritten, cleared): it holds at most as many keys as the cache.
  const keysOf = new Map<string, Set<string>>();
  const unindex = (entry: VerifiedToken<L>, key: string): void => {
    const keys = keysOf.get(entry.identity.userId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) keysOf.delete(entry.identity.userId);
  };
  const verified =
    max > 0 ? new LRUCache<string, VerifiedToken<L>>({ max, ttlAutopurge: false, ttlResolution: 0, perf: options.clock, dispose: unindex }) : undefined;
  const admission = verified === undefined ? undefined : createDoorkeeper(max);

  function claimChecks() {
    return fixedOptions ?? { ...verifyOptions, currentDate: new Date(options.now()) };
  }

  /**
   * The record of this exact token when it is cached. A revoked one is dropped, so the full path
   * refuses it (one Map lookup, and only while some user is revoked).
   */
  function peekRecord(token: string): VerifiedToken<L> | undefined {
    const hit = verified?.get(keyOf(token));
    if (hit === undefined || hit.token !== token) return undefined;
    if (revocations?.active === true && isRevoked(revocations, hit.identity)) {
      verified?.delete(keyOf(token));
      return undefined;
    }
    return hit;
  }

  function peek(token: string): Identity | undefined {
    return peekRecord(token)?.identity;
  }

  /** A cached token, or one the synchronous signature check accepts; undefined when jose must decide. */
  function fromCacheOrShortcut(token: string): Identity | Promise<Identity> | undefined {
    const hit = peek(token);
    if (hit !== undefined) return hit;
    // The bearer syntax allows trailing '=' and jose decodes a padded part leniently: a padded spelling
    // of a token is refused. (A last character whose unused bits are set is another spelling jose
    // accepts, so the guard does too, through jose: docs/token-verification.md.) The length first,
    // here where a token is first verified (a cached one was checked when it was cached).
    if (token.length > MAX_TOKEN_LENGTH || !JWS_COMPACT.test(token)) throw new InvalidTokenError('malformed', options.realm);
    if (shortcut === undefined) return undefined;
    const payload = shortcut(token, claimChecks());
    return payload === undefined ? undefined : acceptFresh(token, payload);
  }

  /**
   * A token verified now (not cached): with a shared store, its user's record is read from it first,
   * as this instance may have started after the revocation (one bounded Redis read per first
   * verification; the cached path never waits on it).
   */
  function acceptFresh(token: string, payload: JWTPayload, trustMs = Infinity): Identity | Promise<Identity> {
    const userId = payload[claim];
    if (revocations?.lookUp === undefined || !isFitUserId(userId, maxLength)) return accept(token, payload, trustMs);
    return revocations.lookUp(userId).then((answered) => accept(token, payload, Math.min(trustMs, answered ? Infinity : UNCHECKED_TOKEN_MS)));
  }

  // The key set the cached tokens were verified under (a remote source; a secret or a configured key
  // never changes). jose loads a new set only inside its own calls (verifyWithJose, loadKeys): when one
  // no longer holds a key the last one held (removed, or replaced under its kid), jwtVerify refuses the
  // tokens of that key from then on, so every cached token is forgotten and verified again. A set
  // that only adds keys forgets nothing. Nothing on the cached path reads this.
  let cachedUnder = configuredKeys.keySet?.();
  function followKeySet(): void {
    const current = configuredKeys.keySet?.();
    if (current === undefined || current === cachedUnder) return;
    const before = cachedUnder;
    cachedUnder = current;
    if (before !== undefined && dropsKey(before, current)) forgetAll();
  }

  async function verifyWithJose(token: string): Promise<Identity> {
    const setBefore = configuredKeys.keySet?.();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, claimChecks()));
    } catch (error) {
      followKeySet();
      throw toGuardError(error, options, setup);
    }
    followKeySet();
    // A token verified while jose replaced a set it had by one that dropped a key (its key may be the
    // one dropped) is accepted, as jose accepted it, but not cached. A reload of the same keys (every
    // jwks.cacheMaxAge) changes nothing.
    const setAfter = configuredKeys.keySet?.();
    const dropped = setBefore !== undefined && setAfter !== undefined && setAfter !== setBefore && dropsKey(setBefore, setAfter);
    return acceptFresh(token, payload, dropped ? 0 : Infinity);
  }

  function forgetAll(): void {
    keysOf.clear();
    verified?.clear();
  }
  // Set by close(): read when a token is verified anew, never for a cached one.
  let closed = false;

  /**
   * The guard's own checks on verified claims, then the cache (for at most `trustMs`). jose checks
   * `iat` only against a maximum age, so a token issued in the future is refused here (both paths
   * come through).
   */
  function accept(token: string, payload: JWTPayload, trustMs = Infinity): Identity {
    if (typeof payload.exp !== 'number') throw new InvalidTokenError('claim_invalid', options.realm);
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(options.now() / 1000) + jwt.clockTolerance) {
      throw new InvalidTokenError('claim_invalid', options.realm);
    }
    const userId = payload[claim];
    // Bounded and plain before it is a cache key or reaches GenAuth's query string.
    if (!isFitUserId(userId, maxLength)) throw new InvalidTokenError('identity_claim', options.realm);
    const identity = Object.freeze({ userId, claims: Object.freeze(payload) });
    if (revocations?.active === true && isRevoked(revocations, identity)) throw new InvalidTokenError('revoked', options.realm);
    if (setup !== undefined && !setup.anyVerified) setup.verified();
    if (verified !== undefined && !closed) {
      // Never outlive the token's own expiry (no clock tolerance granted here), nor maxAge, nor maxTokenAge.
      const ttl = Math.min(expLeft(payload.exp), maxAge, maxAgeLeft(payload), trustMs);
      // A full cache takes a token only on its second verification (see createDoorkeeper).
      if (ttl > 0 && (verified.size < verified.max || admission?.(token) === true)) {
        const key = keyOf(token);
        // An entry this replaces was unindexed (dispose) before set() returns; then this one is indexed.
        verified.set(key, { token, identity, link: undefined, linkUses: 0 }, { ttl });
        const keys = keysOf.get(userId);
        if (keys === undefined) keysOf.set(userId, new Set([key]));
        else keys.add(key);
      }
    }
    return identity;
  }

  /**
   * Ms the token may stay cached before its `exp`. jose refuses a token from the first millisecond of
   * the second `exp` (`exp <= now`, in whole seconds), and lru-cache still serves an entry whose age
   * equals its ttl: one millisecond less, so the cache never serves the token at `exp * 1000` itself.
   */
  function expLeft(exp: number): number {
    return exp * 1000 - options.now() - 1;
  }

  /** Ms until the token is older than `jwt.maxTokenAge` (jose checked that it has an `iat` then). */
  function maxAgeLeft(payload: JWTPayload): number {
    if (jwt.maxTokenAge === undefined || typeof payload.iat !== 'number') return Infinity;
    return (payload.iat + jwt.maxTokenAge) * 1000 - options.now();
  }

  function verifyNow(token: string): Identity | Promise<Identity> {
    if (moreChannels.token.hasSubscribers) return verifyObserved(token);
    return fromCacheOrShortcut(token) ?? verifyWithJose(token);
  }

  /** verifyNow while `genauth-guard:token` has subscribers: each refusal is told by its reason. */
  function verifyObserved(token: string): Identity | Promise<Identity> {
    let result: Identity | Promise<Identity>;
    try {
      result = fromCacheOrShortcut(token) ?? verifyWithJose(token);
    } catch (error) {
      publishTokenFailure(error);
      throw error;
    }
    return result instanceof Promise ? result.catch((error: unknown) => {
      publishTokenFailure(error);
      throw error;
    }) : result;
  }

  return {
    peek,
    peekRecord,
    verifyNow,
    async loadKeys() {
      try {
        await configuredKeys.load?.();
      } finally {
        followKeySet();
      }
    },
    forgetUser(userId) {
      const keys = keysOf.get(userId);
      if (keys === undefined || verified === undefined) return;
      // Taken out of the index first: the deletes' dispose calls then find nothing to change, and no
      // collection is modified while it is iterated.
      keysOf.delete(userId);
      for (const key of keys) verified.delete(key);
    },
    forgetAll,
    close() {
      closed = true;
      forgetAll();
    },
  };
}

/** The reason only: never the token or a key server's text. */
function publishTokenFailure(error: unknown): void {
  const reason = error instanceof InvalidTokenError ? error.reason : error instanceof KeysUnavailableError ? 'keys_unavailable' : undefined;
  if (reason !== undefined) publishTokenRefusal(reason);
}

/** The members of a JWK Set as jose loaded it (its response body), each as its JSON text. */
function jwkTexts(set: object): string[] {
  const keys = (set as { keys?: unknown }).keys;
  return Array.isArray(keys) ? keys.map((key) => JSON.stringify(key)) : [];
}

/** Whether `after` lacks a key of `before`, member for member (a key re-ordered inside counts as dropped). */
function dropsKey(before: object, after: object): boolean {
  const kept = new Set(jwkTexts(after));
  return jwkTexts(before).some((key) => !kept.has(key));
}
