/**
 * `unguardedRoutes(fastify)` for Fastify 5: the genauth-guard plugin records every route added after it
 * registered (its `onRoute` hook), with what guards it: the plugin's `api` option, `config.genauth`
 * (both enforced by the plugin's own `onRequest` hook, before any route hook), or one of our hooks first
 * among the route's own hooks. Register the plugin before the routes.
 */
import { guardOrder } from './marker.js';
import { sortRoutes, warnRoutes, type UnguardedReason, type UnguardedRoute, type WarnLogger } from './routes.js';

interface RecordedRoute {
  readonly method: string;
  readonly path: string;
  readonly guarded: boolean;
  readonly reason?: UnguardedReason;
}

/** What the plugin's onRoute hook sees of a route. */
export interface RouteSeen {
  method: string | string[];
  url: string;
  config?: { genauth?: unknown } | undefined;
  onRequest?: unknown;
  preParsing?: unknown;
  preValidation?: unknown;
  preHandler?: unknown;
}

const recorded = new WeakMap<object, RecordedRoute[]>();

function hooks(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/**
 * Records one route for the report (called by the plugin). `instanceApi`: API mode on every route.
 * HEAD twins Fastify adds for GET routes are left out.
 */
export function recordRoute(owner: object, route: RouteSeen, instanceApi: boolean): void {
  const config = route.config?.genauth;
  // The route's own hooks in the order Fastify runs them: one that replies ends the request there, so
  // a guard of ours counts only first (the report cannot tell a hook that replies from one that does not).
  const chain = [...hooks(route.onRequest), ...hooks(route.preParsing), ...hooks(route.preValidation), ...hooks(route.preHandler)];
  const order = guardOrder(chain);
  // config.genauth: a requirement guards the route; { public: true } marks it public. Either way, not unguarded.
  const guarded = instanceApi || config !== undefined || order === 'guard-first';
  const reason: UnguardedReason | undefined = !guarded && order === 'handler-before-guard' ? order : undefined;
  let list = recorded.get(owner);
  if (list === undefined) recorded.set(owner, (list = []));
  for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
    list.push({ method: method.toUpperCase(), path: route.url, guarded, ...(reason === undefined ? {} : { reason }) });
  }
}

/**
 * The routes of a Fastify instance (with the genauth-guard plugin registered before them) that
 * nothing of ours guards and that are not public. Call it after `await fastify.ready()`. A hook added
 * with `fastify.addHook('onRequest', fastify.genauth.api())` on a scope is not seen: such routes are
 * listed (use the plugin's `api` option, or the hook in the route's options). A route whose own guard
 * hook comes after another of its hooks is listed with `reason: 'handler-before-guard'`.
 * @example await app.ready(); expect(unguardedRoutes(app)).toEqual([])
 */
export function unguardedRoutes(fastify: { genauth?: unknown }): UnguardedRoute[] {
  const owner = fastify.genauth;
  const list = typeof owner === 'object' && owner !== null ? (recorded.get(owner) ?? []) : [];
  const gets = new Set(list.filter((r) => r.method === 'GET').map((r) => r.path));
  return sortRoutes(list.filter((r) => !r.guarded && !(r.method === 'HEAD' && gets.has(r.path))).map(({ guarded: _, ...route }) => route));
}

/**
 * Opt-in start-up warning: logs one line listing the unguarded routes (nothing when there are none).
 * @example await app.ready(); warnUnguarded(app, app.log)
 */
export function warnUnguarded(fastify: { genauth?: unknown }, logger: WarnLogger): UnguardedRoute[] {
  return warnRoutes(unguardedRoutes(fastify), logger);
}
