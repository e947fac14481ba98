/** What every unguarded-route report returns, and the opt-in start-up warning. */

/** A route no guard middleware, hook or decorator covers and that is not marked public. */
export interface UnguardedRoute {
  /** Upper-cased method (`GET`), or `ALL` for a route that answers every method. */
  readonly method: string;
  /** The route's path as declared, mount prefixes included (`/api/users/:id`). */
  readonly path: string;
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

/** Logs one line naming the unguarded routes, when there are any; returns them. */
export function warnRoutes(routes: UnguardedRoute[], logger: WarnLogger): UnguardedRoute[] {
  if (routes.length > 0) {
    logger.warn(`genauth-guard: ${routes.length} route(s) with no guard: ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  }
  return routes;
}

/** Joins a mount prefix and a route path. */
export function joinRoute(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return joined.length > 1 ? joined.replace(/\/+$/, '') || '/' : '/';
}
