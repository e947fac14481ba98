import type { ApiModeOptions } from '../core/enforce/api.js';
import type { ResourceSource } from '../core/enforce/route.js';
import type { Explainer } from '../core/explain.js';
import type { CacheStats, CheckInput, Guard, RouteOptions } from '../core/types.js';
import type { Decision, Requirement } from '../policy/decide.js';

/** What every adapter's guard offers beside its middleware (the Nest service too). Methods work when taken off the object. */
export interface GuardControls {
  /** A decision outside HTTP, with the same semantics as the middleware. */
  check(input: CheckInput): Promise<Decision>;
  /** The decision and every grant behind it (see `Guard.explain`). */
  readonly explain: Explainer;
  /** Forgets one user's cached grants; with `cache.redis`, on every instance (a promise: see {@link Guard.invalidateUser}). */
  invalidateUser(userId: string): void | Promise<void>;
  /** Forgets every cached grant; with `cache.redis`, on every instance. */
  invalidateAll(): void | Promise<void>;
  /**
   * Revokes a user's tokens issued until now (401 `revoked`) and forgets their cached grants; see
   * {@link Guard.revokeUser}.
   */
  revokeUser(userId: string): void | Promise<void>;
  /** Cached users and their estimated bytes (and the shared tier's counters). */
  cacheStats(): CacheStats;
  /** Closes connections to GenAuth. */
  close(): Promise<void>;
  /** The framework-neutral guard. */
  readonly core: Guard;
}

/**
 * The guard of a middleware framework: `M` is its middleware (or hook) type, `R` what a resource
 * function receives. Each adapter's public guard type extends it.
 */
export interface AdapterGuard<M, R> extends GuardControls {
  /**
   * Middleware that authenticates the caller and requires `requirement` on `resource`.
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission(resource: ResourceSource<R>, requirement: Requirement, route?: RouteOptions): M;
  /** Middleware that only authenticates (attaches the identity). */
  authenticate(): M;
  /**
   * API mode: middleware that authorizes every request by its method and full path against the user's
   * API grants (`apiIdentifier`). Public paths pass without a token.
   * @throws TypeError naming the option when `options` is malformed.
   */
  api(options?: ApiModeOptions): M;
}

/** The {@link GuardControls} of a core guard. */
export function guardControls(core: Guard): GuardControls {
  return {
    check: (input) => core.check(input),
    explain: core.explain,
    invalidateUser: (userId) => core.invalidateUser(userId),
    invalidateAll: () => core.invalidateAll(),
    revokeUser: (userId) => core.revokeUser(userId),
    cacheStats: () => core.cacheStats(),
    close: () => core.close(),
    core,
  };
}
