/**
 * The mark our adapters leave on the middleware, hooks and route configs they create, so the
 * unguarded-route report can tell them from anyone else's: a non-enumerable symbol property.
 */
import type { ApiModeSpec } from '../../core/enforce/api.js';

/** What a marked function does: check a permission, authenticate, or API mode (with its public paths). */
export type GuardMark = { readonly kind: 'permission' } | { readonly kind: 'authenticate' } | { readonly kind: 'api'; readonly spec: ApiModeSpec };

const MARK = Symbol.for('genauth-guard.guard-mark');

/** Marks a function the adapter created; returns it. */
export function markGuard<F extends object>(fn: F, mark: GuardMark): F {
  Object.defineProperty(fn, MARK, { value: mark, enumerable: false });
  return fn;
}

/**
 * Where a route's first guard of ours stands among its own handlers (or hooks), given in the order
 * they run: first, or after another, which runs before it and may answer (the report cannot tell one
 * that passes the request on from one that does not), or nowhere.
 */
export type GuardOrder = 'guard-first' | 'handler-before-guard' | 'no-guard';

/** The {@link GuardOrder} of a route's own handlers, in the order they run. */
export function guardOrder(handlers: readonly unknown[]): GuardOrder {
  const at = handlers.findIndex((fn) => guardMarkOf(fn) !== undefined);
  return at === 0 ? 'guard-first' : at > 0 ? 'handler-before-guard' : 'no-guard';
}

/** The mark of a function, or undefined when it is not one of ours. */
export function guardMarkOf(fn: unknown): GuardMark | undefined {
  return (typeof fn === 'function' || (typeof fn === 'object' && fn !== null)) ? ((fn as Record<symbol, GuardMark | undefined>)[MARK]) : undefined;
}
