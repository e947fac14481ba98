/** What every unguarded-route report returns, and the opt-in start-up warning. */

/**
 * Why a route is listed when the plain reason (nothing of ours on its path) is not the one:
 * - `handler-before-guard`: a guard is among the route's own handlers (or hooks), but another handler
 *   or middleware comes first and may answer before the guard runs (`app.get(p, handler, guard)`).
 *   Put the guard first.
 * - `sub-app-not-read`: an Express app mounted with `app.use(path, subApp)` whose routes the report
 *   could not read (no `node:inspector`); the mount path stands for all of them.
 */
export type UnguardedReason = 'handler-before-guard' | 'sub-app-not-read';

/** A route no guard middleware, hook or decorator covers and that is not marked public. */
export interface UnguardedRoute {
  /** Upper-cased method (`GET`), or `ALL` for a route that answers every method. */
  readonly method: string;
  /** The route's path as declared, mount prefixes included (`/api/users/:id`). */
  readonly path: string;
  /** Set only when a guard is there but does not protect the route (see {@link UnguardedReason}). */
  readonly reason?: UnguardedReason;
}

/** Anything with a `warn(message)` method: `console`, pino, Nest's `Logger`. */
export interface WarnLogger {
  warn(message: string): unknown;
}

/** Sorted by path, then method, without duplicates. */
export function sortRoutes(routes: readonly UnguardedRoute[]): UnguardedRoute[] {
  const seen = new Map<string, UnguardedRoute>();
  for (const route of routes) seen.set(`${route.method} ${route.path}`, route);
  return [...seen.values()].sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path.localeCompare(b.path)));
}

/** `GET /p`, or `GET /p (handler-before-guard)` when a reason is set. */
export function routeLine(route: UnguardedRoute): string {
  return route.reason === undefined ? `${route.method} ${route.path}` : `${route.method} ${route.path} (${route.reason})`;
}

/** Logs one line naming the unguarded routes, when there are any; returns them. */
export function warnRoutes(routes: UnguardedRoute[], logger: WarnLogger): UnguardedRoute[] {
  if (routes.length > 0) {
    logger.warn(`genauth-guard: ${routes.length} route(s) with no guard: ${routes.map(routeLine).join(', ')}`);
  }
  return routes;
}

/** Joins a mount prefix and a route path. */
export function joinRoute(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return joined.length > 1 ? joined.replace(/\/+$/, '') || '/' : '/';
}
