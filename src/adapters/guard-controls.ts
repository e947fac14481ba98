import type { ApiModeOptions } from '../core/enforce/api.js';
import type { ResourceSource } from '../core/enforce/route.js';
import type { Guard, RouteOptions } from '../core/types.js';
import type { Requirement } from '../policy/decide.js';

/**
 * What every adapter's guard offers beside its middleware (the Nest service too): the core's own
 * members, so their signatures and docs cannot drift apart. Methods work when taken off the object.
 */
export interface GuardControls extends Pick<Guard, 'check' | 'explain' | 'invalidateUser' | 'invalidateAll' | 'revokeUser' | 'cacheStats' | 'close' | 'ready'> {
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
    ready: () => core.ready(),
    close: () => core.close(),
    core,
  };
}
