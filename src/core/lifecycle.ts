/**
 * Whether the guard was closed, and what a closed guard answers. After `close()` it decides nothing:
 * its GenAuth connections are closed and, with `cache.redis`, it no longer hears other instances'
 * invalidations, so a grant it still caches may have been revoked since. Every request it is asked
 * about is a 503 (never a 200 from those grants, never a 401 or 403: the request was not judged).
 */
import { GenAuthApiError, PermissionsUnavailableError } from '../errors.js';

/** Read by every request before anything else (one property read). */
export interface Lifecycle {
  closed: boolean;
}

/** Each guard's lifecycle, for the parts built on a guard that must know whether it was closed (the webhook receiver). */
const lifecycles = new WeakMap<object, Lifecycle>();

/** Records `guard`'s lifecycle; returns the guard. */
export function withLifecycle<G extends object>(guard: G, lifecycle: Lifecycle): G {
  lifecycles.set(guard, lifecycle);
  return guard;
}

/** True when `value` is a guard `createGuard()` made (itself, not a copy, a wrapper or an object inheriting from it). */
export function hasLifecycle(value: object): boolean {
  return lifecycles.has(value);
}

/** True once `guard` (one `createGuard()` made) was closed; false for any other object. */
export function isClosed(guard: object): boolean {
  return lifecycles.get(guard)?.closed === true;
}

/** The refusal of a closed guard: a 503 with `Retry-After` (another instance may answer), caused by `closed`. */
export function closedError(retryAfter: number): PermissionsUnavailableError {
  return new PermissionsUnavailableError(retryAfter, { cause: new GenAuthApiError('closed') });
}

/**
 * The step after a wait (jose, a revocation read, GenAuth, `conditions.context`): passes the value on,
 * or throws the closed guard's 503 when the guard closed meanwhile (a closed guard gives nothing it
 * decided). Made once per guard, so a `.then(stillOpen)` allocates nothing per request.
 */
export function stillOpenStep(lifecycle: Lifecycle, retryAfter: number): <T>(value: T) => T {
  return <T>(value: T): T => {
    if (lifecycle.closed) throw closedError(retryAfter);
    return value;
  };
}
