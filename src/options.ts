import type { KeyObject, webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { Dispatcher } from 'undici';
import type { ResourceType, UserIdType } from './genauth/types.js';
import type { RequestLike } from './request.js';

/** JWS algorithms the guard verifies. Pin the ones your tokens use. */
export type JwtAlgorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519';

/** Connection to the GenAuth management API. */
export interface GenAuthOptions {
  /** API origin. @default 'https://api.genauth.ai' */
  host?: string;
  /** User pool id, sent as the user-pool header. */
  userPoolId: string;
  /** Access key id (user pool id or a collaborator key). @default userPoolId */
  accessKeyId?: string;
  /** Access key secret. Never logged. */
  accessKeySecret: string;
  /** Permission space code. @default 'default' */
  namespace?: string;
  /** Fetch only this resource type; by default all types are fetched and routes pick by code. */
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
  /** Tokens that come back each second (on the guard's `now` clock), whatever the calls do. @default 1 */
  minPerSecond?: number;
}

/** JWKS fetching knobs, passed to jose's `createRemoteJWKSet`. */
export interface JwksOptions {
  /** Minimum ms between two refetches on an unknown `kid`. @default 30000 */
  cooldownDuration?: number;
  /** JWKS request timeout in ms. @default 3000 */
  timeoutDuration?: number;
  /** How long a fetched key set is used before it is refetched, in ms. @default 600000 */
  cacheMaxAge?: number;
}

interface JwtCommon {
  /** Accepted algorithms. Required: there is no default, to rule out algorithm confusion. */
  algorithms: readonly JwtAlgorithm[];
  /** Expected `iss`. Required when `discovery` is on. */
  issuer?: string;
  /** Expected `aud` (one of). Recommended: without it a token minted for another app is accepted. */
  audience?: string | readonly string[];
  /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds. @default 5 */
  clockTolerance?: number;
  /** Claims that must be present besides `exp`. */
  requiredClaims?: readonly string[];
  /** JWKS fetching knobs, with `jwksUri` or `discovery`. */
  jwks?: JwksOptions;
  /** Cache of verified tokens, so a repeated token skips signature verification. */
  tokenCache?: TokenCacheOptions;
}

/** The verified-token cache (per guard, keyed by the exact token, never past the token's `exp`). */
export interface TokenCacheOptions {
  /** Most tokens kept; 0 disables the cache. @default 10000 */
  max?: number;
  /** Longest a verified token is trusted without re-verifying, in ms. @default 300000 */
  maxAge?: number;
}

/** How tokens are verified: exactly one of `secret`, `publicKey`, `jwksUri`, `discovery`. */
export type JwtOptions = JwtCommon &
  (
    | { secret: string | Uint8Array; publicKey?: never; jwksUri?: never; discovery?: never }
    | { publicKey: string | JWK | KeyObject | webcrypto.CryptoKey; secret?: never; jwksUri?: never; discovery?: never }
    | { jwksUri: string; secret?: never; publicKey?: never; discovery?: never }
    | { discovery: true; secret?: never; publicKey?: never; jwksUri?: never }
  );

/** Which claim identifies the user. */
export interface IdentityOptions {
  /** Claim holding the user id; must be a non-empty string. @default 'sub' */
  claim?: string;
}

/** The permission cache. */
export interface CacheOptions {
  /** How long fetched grants are fresh, in ms. @default 60000 */
  ttl?: number;
  /** Most users kept. @default 10000 */
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
}

/** Policy conditions (`condition` entries of a grant). */
export interface ConditionOptions {
  /**
   * Proxy hops to trust in `X-Forwarded-For` for `SourceIp`. 0 takes the socket's peer address and
   * ignores the header. @default 0
   */
  trustProxy?: number;
  /**
   * Extra context keys (e.g. `Device`, `Country`) for a request; merged over the guard's own
   * (`CurrentTime`, `EpochTime`, `SourceIp`, `UserId`, `UserPoolId`, `Namespace`, `UserAgent`, `Referer`).
   * Called only when the user's grants carry conditions.
   */
  context?: (input: { request?: RequestLike; userId: string; claims?: Readonly<Record<string, unknown>> }) =>
    | Record<string, unknown>
    | Promise<Record<string, unknown>>;
}

/** Options of {@link createGuard} and every adapter. */
export interface GuardOptions {
  genauth: GenAuthOptions;
  jwt: JwtOptions;
  identity?: IdentityOptions;
  /**
   * The permission cache, or `false` to ask GenAuth on every request (requests for one user that
   * arrive while its load runs still share it). `false` also drops stale serving and the error memo.
   */
  cache?: CacheOptions | false;
  conditions?: ConditionOptions;
  /** `realm` of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string;
  /** Seconds sent in `Retry-After` on a 503. @default 5 */
  retryAfter?: number;
  /** Where the operator's warnings go (refused credentials). `false` silences them. @default console */
  logger?: { warn(message: string): void } | false;
  /** Clock in ms since the epoch (tests). @default Date.now */
  now?: () => number;
}

export interface ResolvedOptions {
  genauth: Required<Omit<GenAuthOptions, 'resourceType' | 'tenantId' | 'dispatcher' | 'retryBudget'>> &
    Pick<GenAuthOptions, 'resourceType' | 'tenantId' | 'dispatcher'> & { retryBudget: Required<RetryBudgetOptions> };
  jwt: JwtOptions & { clockTolerance: number; tokenCache: Required<TokenCacheOptions> };
  identity: Required<IdentityOptions>;
  /** `false`: no permission cache (every request asks GenAuth). */
  cache: Required<CacheOptions> | false;
  conditions: { trustProxy: number; context: ConditionOptions['context'] };
  realm: string;
  retryAfter: number;
  logger: { warn(message: string): void } | false;
  now: () => number;
}

const ALGORITHMS = new Set<string>([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);
const RESOURCE_TYPES = new Set(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);

function fail(path: string, expected: string): never {
  throw new TypeError(`genauth-guard: option "${path}" ${expected}`);
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, 'must be a non-empty string');
  return value;
}

function positiveNumber(value: unknown, path: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(path, allowZero ? 'must be a finite number >= 0' : 'must be a finite number > 0');
  }
  return value;
}

function optionalBoolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'must be a boolean');
  return value;
}

function httpUrl(value: unknown, path: string): string {
  const text = nonEmptyString(value, path);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(path, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(path, 'must be an http(s) URL');
  return text;
}

function resolveGenAuth(input: GenAuthOptions | undefined): ResolvedOptions['genauth'] {
  if (typeof input !== 'object' || input === null) fail('genauth', 'is required');
  const userPoolId = nonEmptyString(input.userPoolId, 'genauth.userPoolId');
  const host = httpUrl(input.host ?? 'https://api.genauth.ai', 'genauth.host').replace(/\/+$/, '');
  if (input.resourceType !== undefined && !RESOURCE_TYPES.has(input.resourceType)) {
    fail('genauth.resourceType', 'must be one of DATA, API, MENU, BUTTON, UI');
  }
  const headerPrefix = input.headerPrefix ?? 'x-authing-';
  if (!/^x-[a-z0-9-]+-$/.test(headerPrefix)) fail('genauth.headerPrefix', 'must look like "x-authing-"');
  return {
    host,
    userPoolId,
    accessKeyId: input.accessKeyId === undefined ? userPoolId : nonEmptyString(input.accessKeyId, 'genauth.accessKeyId'),
    accessKeySecret: nonEmptyString(input.accessKeySecret, 'genauth.accessKeySecret'),
    namespace: input.namespace === undefined ? 'default' : nonEmptyString(input.namespace, 'genauth.namespace'),
    resourceType: input.resourceType,
    userIdType: input.userIdType ?? 'user_id',
    headerPrefix,
    tenantId: input.tenantId,
    tenantHeader: input.tenantHeader ?? `${headerPrefix}tenant-id`,
    timeout: positiveNumber(input.timeout, 'genauth.timeout', 3000),
    maxResponseBytes: positiveNumber(input.maxResponseBytes, 'genauth.maxResponseBytes', 8 * 1024 * 1024),
    connections: positiveNumber(input.connections, 'genauth.connections', 16),
    authScheme:
      input.authScheme === undefined || input.authScheme === 'token' || input.authScheme === 'signature'
        ? (input.authScheme ?? 'token')
        : fail('genauth.authScheme', 'must be "token" or "signature"'),
    signatureScheme:
      input.signatureScheme === undefined
        ? headerPrefix === 'x-genauth-' ? 'GenAuth' : 'authing'
        : nonEmptyString(input.signatureScheme, 'genauth.signatureScheme'),
    retries: Math.floor(positiveNumber(input.retries, 'genauth.retries', 2, true)),
    acceptPartialLists: optionalBoolean(input.acceptPartialLists, 'genauth.acceptPartialLists', false),
    retryBudget: resolveRetryBudget(input.retryBudget),
    dispatcher: input.dispatcher,
  };
}

function resolveRetryBudget(input: RetryBudgetOptions | undefined): Required<RetryBudgetOptions> {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) fail('genauth.retryBudget', 'must be an object');
  const ratio = positiveNumber(input?.ratio, 'genauth.retryBudget.ratio', 0.2);
  if (ratio > 1) fail('genauth.retryBudget.ratio', 'must be a number in (0, 1]');
  return Object.freeze({ ratio, minPerSecond: positiveNumber(input?.minPerSecond, 'genauth.retryBudget.minPerSecond', 1, true) });
}

function resolveJwt(input: JwtOptions | undefined): ResolvedOptions['jwt'] {
  if (typeof input !== 'object' || input === null) fail('jwt', 'is required');
  if (!Array.isArray(input.algorithms) || input.algorithms.length === 0) {
    fail('jwt.algorithms', 'must be a non-empty array of JWS algorithms (there is no default)');
  }
  for (const alg of input.algorithms) if (!ALGORITHMS.has(alg)) fail('jwt.algorithms', `has an unsupported algorithm "${String(alg)}"`);
  const sources = (['secret', 'publicKey', 'jwksUri', 'discovery'] as const).filter((k) => input[k] !== undefined);
  if (sources.length !== 1) fail('jwt', 'needs exactly one of secret, publicKey, jwksUri, discovery');
  const symmetric = input.algorithms.filter((a) => a.startsWith('HS'));
  if (input.secret !== undefined) {
    if (symmetric.length !== input.algorithms.length) fail('jwt.algorithms', 'must only hold HS* algorithms with a secret');
    const bytes = typeof input.secret === 'string' ? Buffer.byteLength(input.secret) : input.secret.byteLength;
    if (bytes === 0) fail('jwt.secret', 'must not be empty');
  } else if (symmetric.length > 0) {
    fail('jwt.algorithms', 'must not hold HS* algorithms unless a secret is configured');
  }
  if (input.jwksUri !== undefined) httpUrl(input.jwksUri, 'jwt.jwksUri');
  if (input.discovery !== undefined) {
    if (input.discovery !== true) fail('jwt.discovery', 'must be true');
    httpUrl(input.issuer, 'jwt.issuer');
  }
  if (input.issuer !== undefined) nonEmptyString(input.issuer, 'jwt.issuer');
  if (input.audience !== undefined) {
    const list = typeof input.audience === 'string' ? [input.audience] : input.audience;
    if (!Array.isArray(list) || list.length === 0) fail('jwt.audience', 'must be a string or a non-empty array of strings');
    list.forEach((a, i) => nonEmptyString(a, `jwt.audience[${i}]`));
  }
  return {
    ...input,
    clockTolerance: positiveNumber(input.clockTolerance, 'jwt.clockTolerance', 5, true),
    tokenCache: Object.freeze({
      max: Math.floor(positiveNumber(input.tokenCache?.max, 'jwt.tokenCache.max', 10_000, true)),
      maxAge: positiveNumber(input.tokenCache?.maxAge, 'jwt.tokenCache.maxAge', 300_000),
    }),
  };
}

function resolveCache(input: CacheOptions | false | undefined): Required<CacheOptions> | false {
  if (input === false) return false;
  if (input !== undefined && (typeof input !== 'object' || input === null)) fail('cache', 'must be an object or false');
  const maxBytes = Math.floor(positiveNumber(input?.maxBytes, 'cache.maxBytes', 64 * 1024 * 1024));
  const maxEntryBytes = Math.floor(positiveNumber(input?.maxEntryBytes, 'cache.maxEntryBytes', Math.min(4 * 1024 * 1024, maxBytes)));
  if (maxEntryBytes > maxBytes) fail('cache.maxEntryBytes', 'must not exceed cache.maxBytes');
  if (input?.staleWhileRevalidate !== undefined && typeof input.staleWhileRevalidate !== 'boolean') {
    fail('cache.staleWhileRevalidate', 'must be a boolean');
  }
  return {
    ttl: positiveNumber(input?.ttl, 'cache.ttl', 60_000),
    max: Math.floor(positiveNumber(input?.max, 'cache.max', 10_000)),
    maxBytes,
    maxEntryBytes,
    maxStale: positiveNumber(input?.maxStale, 'cache.maxStale', 300_000, true),
    staleWhileRevalidate: input?.staleWhileRevalidate ?? true,
    errorTtl: positiveNumber(input?.errorTtl, 'cache.errorTtl', 1_000, true),
  };
}

/** Fills defaults and validates once; throws a `TypeError` naming the option on any mistake. */
export function resolveOptions(input: GuardOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) fail('options', 'must be an object');
  const claim = input.identity?.claim ?? 'sub';
  nonEmptyString(claim, 'identity.claim');
  if (input.now !== undefined && typeof input.now !== 'function') fail('now', 'must be a function');
  return Object.freeze({
    genauth: Object.freeze(resolveGenAuth(input.genauth)),
    jwt: Object.freeze(resolveJwt(input.jwt)),
    identity: Object.freeze({ claim }),
    cache: Object.freeze(resolveCache(input.cache)), // freezing `false` returns it unchanged
    conditions: Object.freeze({
      trustProxy: Math.floor(positiveNumber(input.conditions?.trustProxy, 'conditions.trustProxy', 0, true)),
      context: typeof input.conditions?.context === 'function' || input.conditions?.context === undefined
        ? input.conditions?.context
        : fail('conditions.context', 'must be a function'),
    }),
    realm: input.realm === undefined ? 'api' : nonEmptyString(input.realm, 'realm'),
    retryAfter: Math.ceil(positiveNumber(input.retryAfter, 'retryAfter', 5)),
    logger: input.logger === undefined ? console : input.logger,
    now: input.now ?? Date.now,
  });
}
