import type { KeyObject, webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { Dispatcher } from 'undici';
import type { ResourceType, UserIdType } from './genauth/types.js';
import type { RequestLike } from './request.js';
import {
  fail,
  httpUrl,
  nonEmptyString,
  oneOf,
  optionalBoolean,
  optionalString,
  optionObject,
  positiveInteger,
  positiveNumber,
  refuseUnknownKeys,
  strictObject,
} from './options/checks.js';

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
  /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds. An `iat` further in the future is refused. @default 5 */
  clockTolerance?: number;
  /**
   * Expected `typ` header (RFC 8725 section 3.11 explicit typing), e.g. `'at+jwt'` for RFC 9068 access
   * tokens. Compared as jose does: case-insensitively, with the `application/` prefix optional. A token
   * without that `typ` is refused. @default unchecked
   */
  typ?: string;
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
    | {
        /**
         * The HS* key. At least as long as RFC 7518 section 3.2 requires for every configured
         * algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512 (a string counts in UTF-8 bytes).
         */
        secret: string | Uint8Array;
        publicKey?: never;
        jwksUri?: never;
        discovery?: never;
      }
    | { publicKey: string | JWK | KeyObject | webcrypto.CryptoKey; secret?: never; jwksUri?: never; discovery?: never }
    | { jwksUri: string; secret?: never; publicKey?: never; discovery?: never }
    | { discovery: true; secret?: never; publicKey?: never; jwksUri?: never }
  );

/** Which claim identifies the user. */
export interface IdentityOptions {
  /** Claim holding the user id; must be a non-empty string. @default 'sub' */
  claim?: string;
  /**
   * Longest user id accepted, in UTF-8 bytes. A longer one is a 401 `invalid_token` and never reaches
   * GenAuth. @default 1024
   */
  maxLength?: number;
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
/** GenAuth's resource types (`genauth.resourceType`, a route's `resourceType`). */
export const RESOURCE_TYPES: readonly ResourceType[] = ['DATA', 'API', 'MENU', 'BUTTON', 'UI'];
const USER_ID_TYPES: readonly UserIdType[] = [
  'user_id', 'external_id', 'phone', 'email', 'username', 'identity', 'sync_relation', 'custom_field',
];
/** RFC 7518 section 3.2: an HS* key is at least as long as the hash output. */
const HMAC_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** The keys of each options object of the guard; anything else is refused (see refuseUnknownKeys). */
export const OPTION_KEYS = Object.freeze({
  guard: ['genauth', 'jwt', 'identity', 'cache', 'conditions', 'realm', 'retryAfter', 'logger', 'now'],
  genauth: [
    'host', 'userPoolId', 'accessKeyId', 'accessKeySecret', 'namespace', 'resourceType', 'userIdType',
    'headerPrefix', 'tenantId', 'tenantHeader', 'timeout', 'maxResponseBytes', 'authScheme',
    'signatureScheme', 'retries', 'retryBudget', 'connections', 'dispatcher', 'acceptPartialLists',
  ],
  retryBudget: ['ratio', 'minPerSecond'],
  jwt: [
    'algorithms', 'secret', 'publicKey', 'jwksUri', 'discovery', 'issuer', 'audience', 'typ',
    'clockTolerance', 'requiredClaims', 'jwks', 'tokenCache',
  ],
  jwks: ['cooldownDuration', 'timeoutDuration', 'cacheMaxAge'],
  tokenCache: ['max', 'maxAge'],
  identity: ['claim', 'maxLength'],
  cache: ['ttl', 'max', 'maxBytes', 'maxEntryBytes', 'maxStale', 'staleWhileRevalidate', 'errorTtl'],
  conditions: ['trustProxy', 'context'],
} as const satisfies Record<string, readonly string[]>);

/** The groups' keys, so a group key given at the top level is pointed to its group. */
const GROUP_KEYS: Readonly<Record<string, readonly string[]>> = {
  genauth: OPTION_KEYS.genauth,
  jwt: OPTION_KEYS.jwt,
  identity: OPTION_KEYS.identity,
  cache: OPTION_KEYS.cache,
  conditions: OPTION_KEYS.conditions,
};

function resolveGenAuth(value: unknown): ResolvedOptions['genauth'] {
  if (value === undefined) fail('genauth', 'is required');
  const input = strictObject(value, OPTION_KEYS.genauth, 'genauth') as Partial<Record<keyof GenAuthOptions, unknown>>;
  const userPoolId = nonEmptyString(input.userPoolId, 'genauth.userPoolId');
  const host = httpUrl(input.host ?? 'https://api.genauth.ai', 'genauth.host').replace(/\/+$/, '');
  const headerPrefix = optionalString(input.headerPrefix, 'genauth.headerPrefix', 'x-authing-');
  if (!/^x-[a-z0-9-]+-$/.test(headerPrefix)) fail('genauth.headerPrefix', 'must look like "x-authing-"');
  const tenantHeader = optionalString(input.tenantHeader, 'genauth.tenantHeader', `${headerPrefix}tenant-id`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(tenantHeader)) fail('genauth.tenantHeader', 'must be an HTTP header name');
  const tenantId = optionalString(input.tenantId, 'genauth.tenantId');
  if (tenantId !== undefined && !/^[\x20-\x7e]+$/.test(tenantId)) fail('genauth.tenantId', 'must be printable ASCII (it is sent in a header)');
  if (input.dispatcher !== undefined && (typeof input.dispatcher !== 'object' || input.dispatcher === null)) {
    fail('genauth.dispatcher', 'must be an undici Dispatcher');
  }
  return {
    host,
    userPoolId,
    accessKeyId: optionalString(input.accessKeyId, 'genauth.accessKeyId', userPoolId),
    accessKeySecret: nonEmptyString(input.accessKeySecret, 'genauth.accessKeySecret'),
    namespace: optionalString(input.namespace, 'genauth.namespace', 'default'),
    resourceType: oneOf(input.resourceType, RESOURCE_TYPES, 'genauth.resourceType'),
    userIdType: oneOf(input.userIdType, USER_ID_TYPES, 'genauth.userIdType', 'user_id'),
    headerPrefix,
    tenantId,
    tenantHeader,
    timeout: positiveNumber(input.timeout, 'genauth.timeout', 3000),
    maxResponseBytes: positiveNumber(input.maxResponseBytes, 'genauth.maxResponseBytes', 8 * 1024 * 1024),
    connections: positiveNumber(input.connections, 'genauth.connections', 16),
    authScheme: oneOf(input.authScheme, ['token', 'signature'] as const, 'genauth.authScheme', 'token'),
    signatureScheme: optionalString(input.signatureScheme, 'genauth.signatureScheme', headerPrefix === 'x-genauth-' ? 'GenAuth' : 'authing'),
    retries: Math.floor(positiveNumber(input.retries, 'genauth.retries', 2, true)),
    dispatcher: input.dispatcher as Dispatcher | undefined,
    acceptPartialLists: optionalBoolean(input.acceptPartialLists, 'genauth.acceptPartialLists', false),
    retryBudget: resolveRetryBudget(input.retryBudget),
  };
}

function resolveRetryBudget(value: unknown): Required<RetryBudgetOptions> {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.retryBudget, 'genauth.retryBudget');
  const ratio = positiveNumber(input.ratio, 'genauth.retryBudget.ratio', 0.2);
  if (ratio > 1) fail('genauth.retryBudget.ratio', 'must be a number in (0, 1]');
  return Object.freeze({ ratio, minPerSecond: positiveNumber(input.minPerSecond, 'genauth.retryBudget.minPerSecond', 1, true) });
}

/** A secret long enough for every HS algorithm it serves (RFC 7518 section 3.2). */
function checkSecret(secret: unknown, algorithms: readonly string[]): void {
  let bytes: number;
  if (typeof secret === 'string') bytes = Buffer.byteLength(secret);
  else if (secret instanceof Uint8Array) bytes = secret.byteLength;
  else fail('jwt.secret', 'must be a string or a Uint8Array');
  if (bytes === 0) fail('jwt.secret', 'must not be empty');
  // The strongest algorithm sets the bound; the secret's own length is not echoed (a hint about it).
  const strongest = [...algorithms].sort((a, b) => (HMAC_KEY_BYTES[b] ?? 0) - (HMAC_KEY_BYTES[a] ?? 0))[0] ?? '';
  const needed = HMAC_KEY_BYTES[strongest] ?? 0;
  if (bytes < needed) fail('jwt.secret', `must be at least ${needed} bytes to be used with ${strongest} (RFC 7518 section 3.2)`);
}

function resolveJwks(value: unknown): JwksOptions | undefined {
  if (value === undefined) return undefined;
  const input = strictObject(value, OPTION_KEYS.jwks, 'jwt.jwks');
  return Object.freeze({
    cooldownDuration: positiveNumber(input.cooldownDuration, 'jwt.jwks.cooldownDuration', 30_000, true),
    timeoutDuration: positiveNumber(input.timeoutDuration, 'jwt.jwks.timeoutDuration', 3_000),
    cacheMaxAge: positiveNumber(input.cacheMaxAge, 'jwt.jwks.cacheMaxAge', 600_000),
  });
}

function resolveJwt(value: unknown): ResolvedOptions['jwt'] {
  if (value === undefined) fail('jwt', 'is required');
  const input = strictObject(value, OPTION_KEYS.jwt, 'jwt') as unknown as JwtOptions;
  if (!Array.isArray(input.algorithms) || input.algorithms.length === 0) {
    fail('jwt.algorithms', 'must be a non-empty array of JWS algorithms (there is no default)');
  }
  for (const alg of input.algorithms) if (!ALGORITHMS.has(alg)) fail('jwt.algorithms', `has an unsupported algorithm "${String(alg)}"`);
  const sources = (['secret', 'publicKey', 'jwksUri', 'discovery'] as const).filter((k) => input[k] !== undefined);
  if (sources.length !== 1) fail('jwt', 'needs exactly one of secret, publicKey, jwksUri, discovery');
  const symmetric = input.algorithms.filter((a) => a.startsWith('HS'));
  if (input.secret !== undefined) {
    if (symmetric.length !== input.algorithms.length) fail('jwt.algorithms', 'must only hold HS* algorithms with a secret');
    checkSecret(input.secret, input.algorithms);
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
  if (input.typ !== undefined) nonEmptyString(input.typ, 'jwt.typ');
  if (input.requiredClaims !== undefined) {
    if (!Array.isArray(input.requiredClaims)) fail('jwt.requiredClaims', 'must be an array of claim names');
    input.requiredClaims.forEach((c, i) => nonEmptyString(c, `jwt.requiredClaims[${i}]`));
  }
  const tokenCache = input.tokenCache === undefined ? {} : strictObject(input.tokenCache, OPTION_KEYS.tokenCache, 'jwt.tokenCache');
  const jwks = resolveJwks(input.jwks);
  return {
    ...input,
    ...(jwks === undefined ? {} : { jwks }),
    clockTolerance: positiveNumber(input.clockTolerance, 'jwt.clockTolerance', 5, true),
    tokenCache: Object.freeze({
      max: Math.floor(positiveNumber(tokenCache.max, 'jwt.tokenCache.max', 10_000, true)),
      maxAge: positiveNumber(tokenCache.maxAge, 'jwt.tokenCache.maxAge', 300_000),
    }),
  };
}

function resolveIdentity(value: unknown): ResolvedOptions['identity'] {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.identity, 'identity');
  return Object.freeze({
    claim: optionalString(input.claim, 'identity.claim', 'sub'),
    maxLength: positiveInteger(input.maxLength, 'identity.maxLength', 1024),
  });
}

function resolveCache(value: unknown): Required<CacheOptions> | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) fail('cache', 'must be an object or false');
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.cache, 'cache');
  const maxBytes = Math.floor(positiveNumber(input.maxBytes, 'cache.maxBytes', 64 * 1024 * 1024));
  const maxEntryBytes = Math.floor(positiveNumber(input.maxEntryBytes, 'cache.maxEntryBytes', Math.min(4 * 1024 * 1024, maxBytes)));
  if (maxEntryBytes > maxBytes) fail('cache.maxEntryBytes', 'must not exceed cache.maxBytes');
  return {
    ttl: positiveNumber(input.ttl, 'cache.ttl', 60_000),
    max: Math.floor(positiveNumber(input.max, 'cache.max', 10_000)),
    maxBytes,
    maxEntryBytes,
    maxStale: positiveNumber(input.maxStale, 'cache.maxStale', 300_000, true),
    staleWhileRevalidate: optionalBoolean(input.staleWhileRevalidate, 'cache.staleWhileRevalidate', true),
    errorTtl: positiveNumber(input.errorTtl, 'cache.errorTtl', 1_000, true),
  };
}

function resolveConditions(value: unknown): ResolvedOptions['conditions'] {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.conditions, 'conditions');
  if (input.context !== undefined && typeof input.context !== 'function') fail('conditions.context', 'must be a function');
  return Object.freeze({
    trustProxy: Math.floor(positiveNumber(input.trustProxy, 'conditions.trustProxy', 0, true)),
    context: input.context as ConditionOptions['context'],
  });
}

function resolveLogger(value: unknown): ResolvedOptions['logger'] {
  if (value === undefined) return console;
  if (value === false) return false;
  if (typeof value !== 'object' || value === null || typeof (value as { warn?: unknown }).warn !== 'function') {
    fail('logger', 'must be false or an object with a warn(message) method');
  }
  return value as { warn(message: string): void };
}

/**
 * Checks an adapter's options: the guard's keys plus `adapterKeys`, nothing else. Returns the guard's
 * part (for {@link resolveOptions}) and the adapter's own part, unchecked beyond its keys.
 * @throws TypeError naming the option, as every option check.
 */
export function splitAdapterOptions<K extends string>(
  value: unknown,
  adapterKeys: readonly K[],
): { guard: GuardOptions; own: Partial<Record<K, unknown>> } {
  const input = optionObject(value, 'options');
  refuseUnknownKeys(input, [...OPTION_KEYS.guard, ...adapterKeys], '', GROUP_KEYS);
  const guard: Record<string, unknown> = {};
  const own: Partial<Record<K, unknown>> = {};
  for (const [key, entry] of Object.entries(input)) {
    if ((adapterKeys as readonly string[]).includes(key)) own[key as K] = entry;
    else guard[key] = entry;
  }
  return { guard: guard as unknown as GuardOptions, own };
}

/**
 * Fills defaults and validates once; throws a `TypeError` naming the option on any mistake, an unknown
 * key included (with the closest valid one: `did you mean "jwt.audience"?`). The result holds the
 * secrets: keep it in a closure, and show {@link redactOptions}' view instead.
 */
export function resolveOptions(value: GuardOptions): ResolvedOptions {
  const input = optionObject(value, 'options') as Partial<Record<keyof GuardOptions, unknown>>;
  refuseUnknownKeys(input, OPTION_KEYS.guard, '', GROUP_KEYS);
  if (input.now !== undefined && typeof input.now !== 'function') fail('now', 'must be a function');
  const realm = optionalString(input.realm, 'realm', 'api');
  // The realm is quoted into WWW-Authenticate: printable ASCII only, so no header can break.
  if (!/^[\x20-\x7e]+$/.test(realm)) fail('realm', 'must be printable ASCII');
  return Object.freeze({
    genauth: Object.freeze(resolveGenAuth(input.genauth)),
    jwt: Object.freeze(resolveJwt(input.jwt)),
    identity: resolveIdentity(input.identity),
    cache: Object.freeze(resolveCache(input.cache)), // freezing `false` returns it unchanged
    conditions: resolveConditions(input.conditions),
    realm,
    retryAfter: Math.ceil(positiveNumber(input.retryAfter, 'retryAfter', 5)),
    logger: resolveLogger(input.logger),
    now: (input.now as (() => number) | undefined) ?? Date.now,
  });
}

/** What {@link redactOptions} puts in place of a secret. */
export const REDACTED = '[redacted]';

/** {@link ResolvedOptions} without its secrets: what `guard.options` shows. */
export type RedactedOptions = Omit<ResolvedOptions, 'genauth' | 'jwt'> & {
  readonly genauth: Readonly<Omit<ResolvedOptions['genauth'], 'accessKeySecret'> & { accessKeySecret: typeof REDACTED }>;
  readonly jwt: Readonly<Omit<ResolvedOptions['jwt'], 'secret'> & { secret?: typeof REDACTED }>;
};

/**
 * The options as anyone may see them (log, inspect, serialize): every secret replaced by
 * {@link REDACTED}. Code that needs a secret gets it from the resolved options, held in a closure.
 */
export function redactOptions(options: ResolvedOptions): RedactedOptions {
  const { secret, ...jwt } = options.jwt;
  return Object.freeze({
    ...options,
    genauth: Object.freeze({ ...options.genauth, accessKeySecret: REDACTED }),
    jwt: Object.freeze(secret === undefined ? jwt : { ...jwt, secret: REDACTED }),
  }) as RedactedOptions;
}
