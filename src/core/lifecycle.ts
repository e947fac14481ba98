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

/** The refusal of a closed guard: a 503 with `Retry-After` (another instance may answer), caused by `closed`. */
export function closedError(retryAfter: number): PermissionsUnavailableError {
  return new PermissionsUnavailableError(retryAfter, { cause: new GenAuthApiError('closed') });
}
