/** The public option types of {@link createGuard} and every adapter (documented here, checked by resolveOptions). */
import type { KeyObject, webcrypto } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { RedisTierClient } from '../cache/redis/client.js';
import type { ResourceType, UserIdType } from '../genauth/types.js';
import type { RequestLike } from '../request.js';
import type { Jwk } from '../token/jwt-types.js';

/** JWS algorithms the guard verifies. Pin the ones your tokens use. */
export type JwtAlgorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519';

/** Connection to the GenAuth management API. */
export interface GenAuthOptions {
  /**
   * API origin. https: plain http is a `TypeError` unless the host is loopback (`127.0.0.0/8`, `[::1]`,
   * `localhost`: the emulator) or `jwt.issuer` is an http URL (local development), as for
   * `jwt.jwksUri`, since the access key secret and the management token travel on it. Credentials in it
   * (`https://user:password@host`) are a `TypeError` (the credential is not echoed).
   * @default 'https://api.genauth.ai'
   */
  host?: string;
  /** User pool id, sent as the user-pool header. */
  userPoolId: string;
  /** Access key id (user pool id or a collaborator key). @default userPoolId */
  accessKeyId?: string;
  /** Access key secret. Never logged. */
  accessKeySecret: string;
  /** Permission space code. @default 'default' */
  namespace?: string;
  /**
   * Fetch only this resource type; by default all types are fetched and routes pick by code. Left out,
   * grants of every type count; present with the value `undefined` (an unset environment variable) it
   * is a `TypeError`, so an unset variable never widens the grants without a word.
   */
  resourceType?: ResourceType;
  /** How the identity claim identifies the user. @default 'user_id' */
  userIdType?: UserIdType;
  /** Header prefix of the management API (`x-authing-` or `x-genauth-`). @default 'x-authing-' */
  headerPrefix?: string;
  /** Tenant id, sent in `tenantHeader` when set. */
  tenantId?: string;
  /** Header carrying `tenantId`. @default `${headerPrefix}tenant-id` */
  tenantHeader?: string;
  /** Overall deadline of one call, connection to last body byte, in ms. @default 3000 */
  timeout?: number;
  /** Largest upstream body accepted, in bytes. @default 8 MiB */
  maxResponseBytes?: number;
  /**
   * How calls are authenticated: `token` (the documented management token, `POST get-management-token`)
   * or `signature` (the AK/SK HMAC-SHA1 scheme of the official Node SDKs). @default 'token'
   */
  authScheme?: 'token' | 'signature';
  /** Scheme word of the signature's `authorization`. @default 'authing' (or 'GenAuth' with the `x-genauth-` prefix) */
  signatureScheme?: string;
  /** Retries of a 5xx, 429 or connection error, inside `timeout` and the `retryBudget`. @default 2 */
  retries?: number;
  /** When retries are made at all, across users: see {@link RetryBudgetOptions}. */
  retryBudget?: RetryBudgetOptions;
  /**
   * The longest `Retry-After` believed, in seconds (rounded up, at least 1). A longer one (a proxy or WAF
   * answering 429 with `Retry-After: 86400`, say) is cut to it: the whole client backs off after a 429 for
   * at most this long, then asks GenAuth again, and a 503 never tells the guard's own clients to wait
   * longer. @default 60
   */
  maxRetryAfter?: number;
  /** Concurrent connections to GenAuth. @default 16 */
  connections?: number;
  /**
   * Use a grant list shorter than its `totalCount` as sent. By default such a partial list is a 503
   * (with an operator warning at most once a minute): the grants left out may hold a DENY. @default false
   */
  acceptPartialLists?: boolean;
  /** An undici dispatcher to use instead of the guard's own pool (tests, proxies). */
  dispatcher?: Dispatcher;
}

/**
 * The client's retry budget (gRPC-style retry throttling with a time refill), so an outage does not
 * multiply upstream calls: a failed call (5xx, 429, connection error, timeout) spends one of 10
 * tokens, a call GenAuth answers earns `ratio`, `minPerSecond` come back each second, and a retry is
 * made only while more than 5 remain. A burst of N failing loads makes at most N + 5 calls, plus
 * `minPerSecond` a second.
 */
export interface RetryBudgetOptions {
  /** Tokens an answered call earns: retries keep up while at most 1 call in `1 + 1/ratio` fails. In (0, 1]. @default 0.2 */
  ratio?: number;
  /** Tokens that come back each second (on the guard's `clock`), whatever the calls do. @default 1 */
  minPerSecond?: number;
}

/** JWKS fetching knobs, passed to jose's `createRemoteJWKSet` (and used for OIDC discovery). */
export interface JwksOptions {
  /**
   * Minimum ms between two refetches on an unknown `kid`. Also the longest wait after a failed key-set
   * fetch (1 s, doubling with each failure in a row; requests meanwhile get the 503 without a fetch).
   * With `discovery`, also how long after a failed discovery requests get the 503 without a new fetch.
   * Both waits are on the guard's `clock`; 0: none. @default 30000
   */
  cooldownDuration?: number;
  /**
   * JWKS request timeout in ms, from the request to the last byte of the body (a body that trickles in
   * times out too). With `discovery`, also the discovery document's. @default 3000
   */
  timeoutDuration?: number;
  /** How long a fetched key set is used before it is refetched, in ms. @default 600000 */
  cacheMaxAge?: number;
  /**
   * Most bytes of a key set answer read (after decoding gzip, deflate or br), and with `discovery` of
   * the discovery document: past it the read is cut off and the fetch fails like any other (503, a
   * set-up problem `key_source_too_large`). A key set is a few KiB (one RSA key with an `x5c` chain
   * about 5 KiB); raise it only for an issuer that really publishes more. An integer from 1 to
   * 67108864 (64 MiB). @default 1048576 (1 MiB)
   */
  maxResponseBytes?: number;
}

interface JwtCommon {
  /**
   * Accepted algorithms. Required: there is no default, to rule out algorithm confusion. GenAuth's user
   * access tokens: `['RS256']` with `jwksUri` or `discovery`; its HS256 ID tokens: `['HS256']` with
   * `secret` (the application secret). HS* and the other families never mix.
   */
  algorithms: readonly JwtAlgorithm[];
  /**
   * Expected `iss` (`https://<app-domain>/oidc` for GenAuth). Required when `discovery` is on; otherwise
   * optional: leave the key out to check no issuer. Present with the value `undefined` (`issuer:
   * process.env.GENAUTH_ISSUER` with the variable unset) it is a `TypeError`, never a check silently
   * off. @default unchecked
   */
  issuer?: string;
  /**
   * Expected `aud` (one of): the application's App ID. Recommended: without it a token minted for
   * another application is accepted. Optional: leave the key out to check no audience. Present with the
   * value `undefined` (`audience: process.env.GENAUTH_AUDIENCE` with the variable unset) it is a
   * `TypeError`, never a check silently off. @default unchecked
   */
  audience?: string | readonly string[];
  /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds, at most 300. An `iat` further in the future is refused. @default 5 */
  clockTolerance?: number;
  /**
   * Expected `typ` header (RFC 8725 section 3.11 explicit typing), e.g. `'at+jwt'` for RFC 9068 access
   * tokens. Compared as jose does: case-insensitively, with the `application/` prefix optional. A token
   * without that `typ` is refused. Leave the key out to check no `typ`; present with the value
   * `undefined` it is a `TypeError`. @default unchecked
   */
  typ?: string;
  /** Claims that must be present besides `exp`. Present with the value `undefined`: a `TypeError` (leave the key out for none). */
  requiredClaims?: readonly string[];
  /** JWKS fetching knobs, with `jwksUri` or `discovery`. */
  jwks?: JwksOptions;
  /** Cache of verified tokens, so a repeated token skips signature verification. */
  tokenCache?: TokenCacheOptions;
  /**
   * Longest token age accepted, in seconds from its `iat` (jose's `maxTokenAge`): an older token, or one
   * without `iat`, is a 401. It also bounds how long a revocation must be kept (`revocation.ttl`).
   * Leave the key out for no bound; present with the value `undefined` it is a `TypeError`.
   * @default unchecked
   */
  maxTokenAge?: number;
}

/** The verified-token cache (per guard, keyed by the exact token, never past the token's `exp`). */
export interface TokenCacheOptions {
  /** Most tokens kept, at most 1,000,000 (its slots are allocated up front); 0 disables the cache. @default 10000 */
  max?: number;
  /** Longest a verified token is trusted without re-verifying, in ms. @default 300000 */
  maxAge?: number;
}

/** How tokens are verified: exactly one of `secret`, `publicKey`, `jwksUri`, `discovery`. */
export type JwtOptions = JwtCommon &
  (
    | {
        /**
         * The HS* key. At least as long as RFC 7518 section 3.2 requires for every configured
         * algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512 (a string counts in UTF-8 bytes).
         * Never a key (PEM, base64 DER, JWK or JWK Set text): with a public key, anyone could sign tokens.
         * Bytes are copied when the guard is built.
         */
        secret: string | Uint8Array;
        publicKey?: never;
        jwksUri?: never;
        discovery?: never;
      }
    | {
        /**
         * The verification key (PEM, JWK, KeyObject or CryptoKey). It must be public (a private key is a
         * TypeError), fit every configured algorithm, and for RSA have 2048 bits or more. A JWK's `use`,
         * `key_ops`, `alg` and `ext`, when present, must allow every configured algorithm as jose
         * requires (`sig`, holding `verify`, that algorithm, a boolean), else a TypeError.
         */
        publicKey: string | Jwk | KeyObject | webcrypto.CryptoKey;
        secret?: never;
        jwksUri?: never;
        discovery?: never;
      }
    | {
        /**
         * The issuer's JSON Web Key Set URL (jose `createRemoteJWKSet`). https (RFC 8414), else a
         * TypeError: plain http only on a loopback host (127.0.0.0/8, [::1], localhost), or with an
         * http `issuer` (local development). Credentials in it (`user:password@`) are a TypeError
         * (fetch refuses such URLs), as in a discovery `issuer`.
         */
        jwksUri: string;
        secret?: never;
        publicKey?: never;
        discovery?: never;
      }
    | { discovery: true; secret?: never; publicKey?: never; jwksUri?: never }
  );

/** Which claim identifies the user. */
export interface IdentityOptions<Req = unknown> {
  /** Claim holding the user id; must be a non-empty string. Not with `resolve`. @default 'sub' */
  claim?: string;
  /**
   * Longest user id accepted, in UTF-8 bytes. A longer one is a 401 `invalid_token` and never reaches
   * GenAuth. @default 1024
   */
  maxLength?: number;
  /**
   * Authorizes the identity another layer already established (passport's `req.user`, a session)
   * instead of verifying a token: returns the user id, synchronously, from the framework's request
   * (Express `req`, Koa `ctx`, Fastify `request`, under Nest the platform's request). The guard TRUSTS
   * that layer: whatever it returns is the caller. No token is read, so `jwt` and `getToken` are
   * refused with it. `undefined`, `null` or `''` is a 401 `ERR_MISSING_TOKEN`; anything but a fit user
   * id (`maxLength`, no control characters, see docs/identity.md) a 401 `identity_claim`; a revoked
   * user (`revokeUser`) a 401 `revoked`. What it throws is a 500. @default undefined
   */
  resolve?(request: Req): string | undefined | null;
}

/** The permission cache. */
export interface CacheOptions {
  /** How long fetched grants are fresh, in ms. @default 60000 */
  ttl?: number;
  /**
   * Most users kept. By default no count: `maxBytes` alone bounds the cache (users sharing a grant set
   * cost a few hundred bytes each, so a count would bind long before the bytes do; docs/memory.md).
   * @default unbounded (`maxBytes` bounds it)
   */
  max?: number;
  /** Byte budget of the whole cache (estimated). @default 64 MiB */
  maxBytes?: number;
  /** Byte budget of one user's grants; a larger set is used for its request but not cached. @default 4 MiB */
  maxEntryBytes?: number;
  /** How long past `ttl` cached grants may be served while GenAuth fails, in ms. 0 disables. @default 300000 */
  maxStale?: number;
  /** After `ttl`, serve the cached grants while refreshing them in the background (within `maxStale`). @default true */
  staleWhileRevalidate?: boolean;
  /** How long a failed load is remembered so an outage burst makes one upstream call, in ms. 0 disables. @default 1000 */
  errorTtl?: number;
  /**
   * A Redis shared by every instance, as a second tier behind the in-process cache: a node-redis v6
   * client (`createClient()` or `createCluster()`) that you configure, connect and give an `error`
   * listener. A local miss reads Redis before GenAuth, GenAuth's answers are written to it, and
   * `invalidateUser`/`invalidateAll` reach every instance (they then return a promise). The hot path
   * (grants cached in-process) never touches Redis. See docs/many-instances.md.
   */
  redis?: RedisTierClient;
  /** Prefix of the Redis keys and the Pub/Sub channel (the scope follows it). @default 'genauth-guard:' */
  redisPrefix?: string;
  /** Deadline of each Redis call, in ms: past it the request goes on without Redis. @default 100 */
  redisTimeout?: number;
  /**
   * With `redis`: how long, in ms, this instance keeps deciding on what it knows while its invalidation
   * subscription is down (or not yet up), where revocations and invalidations made on other instances
   * cannot reach it. Within it, a request whose user's revocation record Redis does not give is decided
   * on this instance's own copy. Past it, still down: the instance drops its cached grants and verified
   * tokens (as when the subscription comes back), and again every `redisMaxUnsubscribed` while it stays
   * down (so a revocation made meanwhile is read within the bound), and a request whose user's record Redis does not give
   * is a `503 ERR_PERMISSIONS_UNAVAILABLE`, never allowed; a record Redis gives is honoured. `false`:
   * no bound (such requests are decided on the local copy for as long as the outage lasts).
   * See docs/many-instances.md.
   * @default `ttl`
   */
  redisMaxUnsubscribed?: number | false;
  /**
   * With `redis`: how often, in ms, this instance publishes a heartbeat to itself on the invalidation
   * channel while subscribed. One not heard back through the subscription before the next is due means
   * the subscription is down, even with no client event (a connection that died silently: a NAT,
   * firewall or load balancer that dropped the flow): as for any loss, `redisMaxUnsubscribed` starts,
   * the operator is warned once, and the subscription is set up again on a fresh connection, after
   * which the instance drops its cached grants and verified tokens (resync). So a silent loss is
   * noticed within two intervals. Must be longer than `redisTimeout`. Each instance publishes one
   * small message per interval, heard by every instance of the scope (other instances ignore it).
   * `false`: no heartbeat (a silent loss goes unnoticed until each grant's `ttl`).
   * See docs/many-instances.md.
   * @default 5000 (or twice `redisTimeout`, when longer)
   */
  redisHeartbeat?: number | false;
}

/** Policy conditions (`condition` entries of a grant). */
export interface ConditionOptions {
  /**
   * Proxy hops to trust in `X-Forwarded-For` for `SourceIp`. 0 takes the socket's peer address and
   * ignores the header. @default 0
   */
  trustProxy?: number;
  /**
   * The UTC offset (`'+08:00'`, `'-05:30'`, `'Z'`) in which a date-time written without a zone
   * (`'2026-12-31 23:59:59'`, the form GenAuth's console uses) is read by `Date*` conditions. Unset,
   * such a value cannot be evaluated: an ALLOW carrying it grants nothing, a DENY applies (read in the
   * host's time zone, one policy held 8 hours longer on a UTC server than on a UTC+8 one).
   * @default undefined
   */
  timeZoneOffset?: string;
  /**
   * Extra context keys (e.g. `Device`, `Country`) for a request; merged over the guard's own
   * (`CurrentTime`, `EpochTime`, `SourceIp`, `UserId`, `UserPoolId`, `Namespace`, `UserAgent`, `Referer`).
   * Called only when the user's grants carry conditions.
   */
  context?: (input: { request?: RequestLike; userId: string; claims?: Readonly<Record<string, unknown>> }) =>
    | Record<string, unknown>
    | Promise<Record<string, unknown>>;
  /**
   * Longest wait, in ms, for a promise `context` returns (real time, like `genauth.timeout`). Past it
   * the request is the `500 ERR_INTERNAL` a rejected `context` gets, and a late answer is ignored. A
   * `context` that returns a plain object is not timed. At most 2147483647. @default 5000
   */
  timeoutDuration?: number;
  /**
   * How several conditions of one grant combine. GenAuth does not document whether they are ANDed or
   * ORed, so by default both readings are taken and a grant's conditions decide only where the two
   * agree: an ALLOW grants only when every condition is surely true, a DENY lapses only when every one
   * is surely false (a DENY of `[UserId = alice, Country = KP]` refuses alice anywhere, and anyone in
   * KP). `'all'`: AND (a DENY lapses when any condition is false); `'any'`: OR (an ALLOW grants when
   * any is true). Set one only when you know how your GenAuth deployment combines them.
   * @default 'unknown'
   */
  combine?: 'unknown' | 'all' | 'any';
}

/**
 * Revoked users (`revokeUser`, the `user:blocked`/`deleted`/`archived` webhooks): a token of theirs
 * issued at or before the revocation is a 401 `revoked`. Kept in process memory; a shared store
 * (Redis) keeps them for every instance.
 */
export interface RevocationOptions {
  /**
   * How long a revocation is kept, in ms: a token older than this must be refused on other grounds
   * (its `exp`, `jwt.maxTokenAge`), or it is accepted again once the record is gone.
   * @default jwt.maxTokenAge when set, else 14 days (GenAuth's longest token lifetime), plus
   * jwt.clockTolerance and one second (how long past that age jose still accepts a token)
   */
  ttl?: number;
  /**
   * Most revocations kept. Past it the oldest record is folded into one watermark for every user
   * (tokens issued before it are refused for everyone): fail closed, never forgotten early.
   * @default 100000
   */
  max?: number;
}

/** What `onDecision` gets: one permission decision. Never a token, a secret or upstream text. */
export interface DecisionRecord {
  userId: string;
  /** The resource code; in API mode, the canonical path (as `path`). */
  resource: string;
  /** API mode: the method, upper-cased. */
  method?: string;
  /** API mode: the canonical path matched (no query). */
  path?: string;
  /** The actions asked for (API mode: the method's action, or none). */
  actions: readonly string[];
  allowed: boolean;
  /**
   * `allowed`, `denied` (a DENY matched), `no_grant`, in API mode `unmapped_method`; `revoked` (not
   * allowed) when the user was revoked while the decision waited: the answer is then the 401 `revoked`.
   */
  reason: string;
  /** The grant that decided (the ALLOW that matched, or the overriding DENY); undefined for `no_grant` and `revoked`. */
  grant: { code: string; type: string | null; effect: 'ALLOW' | 'DENY'; actions: readonly string[]; apiIdentifier: string | null } | undefined;
  /** How the user's grants were found: `hit` (fresh in cache), `stale` (served stale), `miss` (loaded), `none` (`cache: false`). */
  cache: 'hit' | 'stale' | 'miss' | 'none';
  /** Milliseconds on the guard's clock from the start of the check (token included) to the decision. */
  durationMs: number;
}

/** Options of {@link createGuard} and every adapter. */
export interface GuardOptions<Req = unknown> {
  genauth: GenAuthOptions;
  /** How tokens are verified. Required, unless `identity.resolve` authorizes another layer's identity. */
  jwt?: JwtOptions;
  identity?: IdentityOptions<Req>;
  /**
   * Reads the token from somewhere else than the `Authorization` header (a cookie, a custom header):
   * returns it, synchronously, from the framework's request (as `identity.resolve`). It is then the
   * one source: the `Authorization` header is not read, even when it returns `undefined` (a 401
   * `ERR_MISSING_TOKEN`). The token goes through every check a header's does (exact JWS compact
   * form, signature, claims, revocation). What it throws is a 500. @default undefined
   */
  getToken?(request: Req): string | undefined | null;
  /**
   * The permission cache, or `false` to ask GenAuth on every request (requests for one user that
   * arrive while its load runs still share it). `false` also drops stale serving and the error memo.
   */
  cache?: CacheOptions | false;
  conditions?: ConditionOptions;
  /** Revoked users: how long and how many are kept. */
  revocation?: RevocationOptions;
  /**
   * Users whose grants are loaded at start, so their first requests do not wait on GenAuth;
   * `guard.ready()` waits for them and rejects (naming `genauth.host` or the credentials) when a load
   * fails. At most 1000 ids, each at most `identity.maxLength` characters.
   * @default undefined (no warm-up)
   */
  warm?: WarmOptions;
  /** `realm` of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string;
  /** Seconds sent in `Retry-After` on a 503. @default 5 */
  retryAfter?: number;
  /**
   * Where the operator's warnings go (refused credentials). `false` silences them; what `warn` throws,
   * or an async `warn`'s rejection, is dropped. @default console
   */
  logger?: { warn(message: string): void } | false;
  /**
   * Called synchronously after every permission decision (route, API mode and `check()`), allowed or
   * denied, with a {@link DecisionRecord}. A denial is an expected answer, not an error. What it throws
   * (or, for an async function, what its promise rejects with; the request does not wait for it) is
   * caught and reported once through `logger`; it never changes the answer. Not called when no
   * decision was made (401, 400, 503). @default undefined
   */
  onDecision?: (record: DecisionRecord) => void;
  /**
   * The clock every duration is measured on: the caches' `ttl`, `maxStale` and `errorTtl` (it is
   * lru-cache's `perf`), the verified-token cache, the management token's refresh, the back-off after
   * a 429, the retry budget's refill, warning throttles and the retry-or-give-up check against a call's
   * deadline. Tests pass one they move by hand instead of waiting. The timers that end a slow call
   * stay on real time. @default performance
   */
  clock?: Clock;
  /**
   * Wall-clock time in ms since the epoch, for what is a date rather than a duration: a token's
   * `exp`, `nbf` and `iat`, the `CurrentTime`/`EpochTime` condition keys, the `date` of a signed call
   * and a Retry-After given as a date. @default Date.now; with a `clock` and no `now`, the time at
   * creation moved on by that clock (so one test clock moves both)
   */
  now?: () => number;
}

/** The `warm` option: whose grants to load at start. */
export interface WarmOptions {
  /** User ids (of `genauth.userIdType`) to load. @default [] */
  users: readonly string[];
}

/**
 * A monotonic clock in milliseconds, in lru-cache's `perf` shape (`performance` is one). Readings are
 * above 0 and never go back: lru-cache takes an entry stored at 0 for one that never expires.
 */
export interface Clock {
  now(): number;
}
