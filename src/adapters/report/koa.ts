/**
 * `unguardedRoutes(appOrRouter)` for Koa with `@koa/router`: takes the Koa app (its middleware, in
 * order, with the routers mounted by `app.use(router.routes())`) or one router. A route is covered by
 * one of our middlewares before it (on the app, or `router.use()` on its path, unless the router is
 * `exclusive`) or by a guard first among its own handlers (one after another handler: listed,
 * `reason: 'handler-before-guard'`). @koa/router 12 to 15 each compile `router.use()` differently; the
 * layers are read by shape (no framework import), as the installed one matches them.
 */
import { METHODS } from 'node:http';
import { guardMarkOf, guardOrder } from './marker.js';
import { sortRoutes, warnRoutes, type UnguardedRoute, type WarnLogger } from './routes.js';

interface RouterLayer {
  path?: unknown;
  methods?: string[];
  stack?: unknown[];
  regexp?: unknown;
  opts?: { end?: unknown; pathAsRegExp?: unknown };
}

/** Where a `router.use()` guard applies, as @koa/router matches it. */
interface UsePrefix {
  /** The path it applies under; '' (not exact): every path. */
  readonly prefix: string;
  /** Its path alone (`use('/')` on 15 is the root, not every path). */
  readonly exact: boolean;
  /** Matched case-sensitively, whatever the routes do (15: a path-less `use()` under a prefix; 14: every `use()`). */
  readonly caseSensitive: boolean;
}

/** Whether a layer's compiled pattern ignores case (unknown shape: assume it does, the wider reading). */
function ignoresCase(layer: RouterLayer): boolean {
  return !(layer.regexp instanceof RegExp) || layer.regexp.ignoreCase;
}

/** Whether a guard of `router.use()` runs for every request a route takes. */
function covers(use: UsePrefix, path: string, route: RouterLayer): boolean {
  if (!use.exact && use.prefix === '') return true;
  const reaches = path.replace(/\/$/, '') === use.prefix || (!use.exact && path.startsWith(`${use.prefix}/`));
  // A case-sensitive prefix misses `/ADMIN/x` that a case-insensitive route still takes.
  return reaches && (!use.caseSensitive || !ignoresCase(route));
}

/** A Koa app (`app.middleware`) or an `@koa/router` Router (`router.stack`). */
export type KoaAppOrRouter = object;

/**
 * What a path-less `router.use()` appends to the router's prefix to match every path under it:
 * `(?:\/|$)` or `{/*rest}` (15), `([^/]*)` (12 to 14), `(.*)`.
 */
const EVERY_PATH_SUFFIX = /(?:\(\?:\\\/\|\$\)|\{\/\*rest\}|\(\[\^\/\]\*\)|\(\.\*\))$/;

/** Regular-expression syntax (a `.` only widens a match): such a prefix is no literal text. */
const NOT_LITERAL = /[\\^$*+?()[\]{}|:]/;

/**
 * The prefix a `router.use()` layer applies under (`/p(?:\/|$)` -> `/p`; none -> everything), or
 * undefined when it applies under no route's path. @koa/router 14 compiles a `use()` path as a bare
 * regular expression (`pathAsRegExp`): `/servers/:id` there is the text `:id`, which no request of a
 * route `/servers/:id/files` holds, so only a literal prefix covers.
 */
function middlewarePrefix(layer: RouterLayer): string | undefined {
  if (typeof layer.path !== 'string') return '';
  const prefix = layer.path.replace(EVERY_PATH_SUFFIX, '').replace(/\/$/, '');
  if (layer.opts?.pathAsRegExp === true && NOT_LITERAL.test(prefix)) return undefined;
  return prefix;
}

function methodsOf(methods: readonly string[]): string[] {
  if (METHODS.every((m) => methods.includes(m))) return ['ALL'];
  // @koa/router adds HEAD to every GET route: the GET stands for both.
  return [...new Set(methods)].filter((m) => m !== 'HEAD' || !methods.includes('GET'));
}

/** The router part of `unguardedRoutes`' input: its layers, and whether it runs one layer per request. */
interface RouterLike {
  stack: RouterLayer[];
  exclusive?: unknown;
  opts?: { exclusive?: unknown };
}

/**
 * An `exclusive` router (`true`, `'specificity'`) runs one matched layer per request, a route or a
 * `router.use()` middleware: its `use()` guards never run before a route. Routers mounted in it are
 * copied into its stack and dispatched by it, so its setting is theirs.
 */
function isExclusive(router: RouterLike): boolean {
  return Boolean(router.exclusive) || Boolean(router.opts?.exclusive);
}

function walkRouter(router: RouterLike, covered: boolean, found: UnguardedRoute[]): void {
  const uses: UsePrefix[] = [];
  const exclusive = isExclusive(router);
  for (const layer of router.stack) {
    const methods = layer.methods ?? [];
    const handlers = layer.stack ?? [];
    if (methods.length === 0) {
      // router.use(): a middleware layer on its path (none runs before a route of an exclusive router).
      const prefix = middlewarePrefix(layer);
      if (!exclusive && prefix !== undefined && handlers.some((fn) => guardMarkOf(fn) !== undefined)) {
        uses.push({ prefix, exact: layer.opts?.end === true, caseSensitive: !ignoresCase(layer) });
      }
      continue;
    }
    const path = String(layer.path);
    if (covered || uses.some((use) => covers(use, path, layer))) continue;
    // The route's own guard counts only first: a handler before it runs first and may answer.
    const order = guardOrder(handlers);
    if (order === 'guard-first') continue;
    for (const method of methodsOf(methods)) found.push(order === 'handler-before-guard' ? { method, path, reason: order } : { method, path });
  }
}

/**
 * The routes of a Koa app (pass the app, after `app.use(router.routes())`) or of one `@koa/router`
 * router that no genauth-guard middleware covers and that are not public paths of API mode.
 * Middleware that is not a router's `routes()` is not looked into.
 * @example expect(unguardedRoutes(app)).toEqual([])
 */
export function unguardedRoutes(appOrRouter: KoaAppOrRouter): UnguardedRoute[] {
  const found: UnguardedRoute[] = [];
  const source = appOrRouter as { middleware?: unknown; stack?: unknown };
  if (Array.isArray(source.stack)) {
    walkRouter(source as RouterLike, false, found);
  } else if (Array.isArray(source.middleware)) {
    let covered = false;
    for (const fn of source.middleware as unknown[]) {
      // Any of ours on the app covers what follows (API mode: its public paths are public).
      if (guardMarkOf(fn) !== undefined) covered = true;
      const router = (fn as { router?: { stack?: unknown } } | undefined)?.router;
      if (router !== undefined && Array.isArray(router.stack)) walkRouter(router as RouterLike, covered, found);
    }
  }
  return sortRoutes(found);
}

/**
 * Opt-in start-up warning: logs one line listing the unguarded routes (nothing when there are none).
 * @example warnUnguarded(app, console)
 */
export function warnUnguarded(appOrRouter: KoaAppOrRouter, logger: WarnLogger): UnguardedRoute[] {
  return warnRoutes(unguardedRoutes(appOrRouter), logger);
}
