/**
 * The options after resolveOptions: defaults filled, checked, frozen. Each subsystem is handed its
 * own slice (the client `genauth`, the token verifier `jwt` and `identity`, the cache `cache`) and
 * the few shared settings it needs, never the whole.
 */
import type { RedisTierClient } from '../cache/redis/client.js';
import type {
  CacheOptions,
  Clock,
  ConditionOptions,
  DecisionRecord,
  GenAuthOptions,
  IdentityOptions,
  JwtOptions,
  RetryBudgetOptions,
  RevocationOptions,
  TokenCacheOptions,
} from './types.js';

/** `genauth` resolved: every default filled; `resourceType`, `tenantId` and `dispatcher` stay optional. */
export type ResolvedGenAuthOptions = Required<Omit<GenAuthOptions, 'resourceType' | 'tenantId' | 'dispatcher' | 'retryBudget'>> &
  Pick<GenAuthOptions, 'resourceType' | 'tenantId' | 'dispatcher'> & { retryBudget: Required<RetryBudgetOptions> };

/** `jwt` resolved: the key source as given, `clockTolerance` and `tokenCache` filled. */
export type ResolvedJwtOptions = JwtOptions & { clockTolerance: number; tokenCache: Required<TokenCacheOptions> };

/** `identity` resolved; `resolve` stays optional. */
export type ResolvedIdentityOptions = Required<Omit<IdentityOptions, 'resolve'>> & { resolve: ((request: unknown) => unknown) | undefined };

/** `cache` resolved (when it is not `false`); `redis` stays optional. */
export type ResolvedCacheOptions = Required<Omit<CacheOptions, 'redis'>> & { redis: RedisTierClient | undefined };

/** `conditions` resolved. */
export interface ResolvedConditionOptions {
  trustProxy: number;
  /** `+hh:mm`, `-hh:mm` or `Z`, when set. */
  timeZoneOffset: string | undefined;
  context: ConditionOptions['context'];
  /** Longest wait for a promise `context` returns, in ms. */
  timeoutDuration: number;
  /** How several conditions of one grant combine. */
  combine: NonNullable<ConditionOptions['combine']>;
}

/** `revocation` resolved: `ttl` in ms. */
export type ResolvedRevocationOptions = Required<RevocationOptions>;

/** `warm` resolved: the users' ids, without repeats (none by default). */
export interface ResolvedWarmOptions {
  users: readonly string[];
}

/** Every option resolved. Holds the secrets: keep it in a closure (see redactOptions). */
export interface ResolvedOptions {
  genauth: ResolvedGenAuthOptions;
  /** Undefined when `identity.resolve` authorizes another layer's identity (no token is read). */
  jwt: ResolvedJwtOptions | undefined;
  identity: ResolvedIdentityOptions;
  /** The user's token reader, when given (else the `Authorization` header). */
  getToken: ((request: unknown) => unknown) | undefined;
  /** `false`: no permission cache (every request asks GenAuth). */
  cache: ResolvedCacheOptions | false;
  conditions: ResolvedConditionOptions;
  revocation: ResolvedRevocationOptions;
  warm: ResolvedWarmOptions;
  realm: string;
  retryAfter: number;
  logger: { warn(message: string): void } | false;
  /** The user's decision callback, when given. */
  onDecision: ((record: DecisionRecord) => void) | undefined;
  /** The monotonic clock of every duration. */
  clock: Clock;
  /** Wall-clock ms since the epoch, for dates. */
  now: () => number;
}
