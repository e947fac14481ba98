/** Low-cardinality names for failures: an error code or a failure kind, never an error's message. */
import { isGuardError } from '../errors.js';

/** The semantic conventions' fallback for an error with no known type. */
export const OTHER = '_OTHER';

/** A failed decision's reason: the GuardError's code (`ERR_PERMISSIONS_UNAVAILABLE`, ...), else `_OTHER`. */
export function reasonOfFailure(error: unknown): string {
  return isGuardError(error) ? error.code : OTHER;
}

/**
 * A failed load's `error.type`: the GenAuthApiError's kind (`http_status`, `timeout`, ...), else
 * `_OTHER`. Read by name, not `instanceof`: the guard may be the other (ESM or CJS) copy of the package.
 */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return OTHER;
  const { name, kind } = error as { name?: unknown; kind?: unknown };
  return name === 'GenAuthApiError' && typeof kind === 'string' ? kind : OTHER;
}
