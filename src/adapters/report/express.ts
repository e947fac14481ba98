/**
 * `unguardedRoutes(app)` for Express 4 and 5: walks the app's router stack (`app._router` on 4,
 * `app.router` on 5) in order, mount prefixes, nested routers and mounted sub-apps included. A route is
 * covered by one of our middlewares before it on its path (`app.use(guard.api())`, whose public paths
 * count as public, `app.use(guard.authenticate())`, a router's `use`) or by a guard that runs first
 * among its own handlers (`app.get(p, guard.requirePermission(...), handler)`).
 */
import { METHODS } from 'node:http';
import { closureVariable } from './closure.js';
import { guardMarkOf, guardOrder, type GuardMark, type GuardOrder } from './marker.js';
import { joinRoute, sortRoutes, warnRoutes, type UnguardedRoute, type WarnLogger } from './routes.js';

interface Layer {
  handle?: unknown;
  /** A route's layer: the method it handles (lower case), none for `route.all()`. */
  method?: unknown;
  route?: { path?: unknown; methods?: Record<string, boolean>; stack?: Layer[] };
  /** Express 5 (router 2): the path the layer was mounted with. */
  rawPath?: unknown;
  /** Express 4: the compiled mount path, and its parameter names. */
  regexp?: RegExp;
  keys?: Array<{ name: string | number }>;
}

interface Cover {
  readonly prefix: string;
  readonly mark: GuardMark;
}

/**
 * The paths a layer is mounted on: Express 5 keeps them (strings, or regular expressions, which no
 * prefix stands for); Express 4 keeps only a regular expression, whose common shapes are read back.
 */
function mountPathsOf(layer: Layer): unknown[] {
  const raw = layer.rawPath;
  if (raw !== undefined) return Array.isArray(raw) ? raw : [raw];
  const source = layer.regexp?.source;
  if (source === undefined) return ['/'];
  // An array is its paths' expressions joined by `|`, each from `^`, their parameters numbered on.
  const keys = layer.keys ?? [];
  let i = 0;
  return source.split(/\|(?=\^)/).map((part) => {
    const path = part
      .replace(/^\^/, '')
      .replace(/\\\/\?\(\?=\\\/\|\$\)$/, '')
      .replace(/\(\?:\(\[\^\\\/\]\+\?\)\)/g, () => `:${String(keys[i++]?.name ?? i)}`)
      .replace(/\\(.)/g, '$1');
    return path === '' ? '/' : path;
  });
}

const EVERY_METHOD = METHODS.map((m) => m.toLowerCase());

/** The route's methods (lower case); `all` for `app.all()` (which sets `_all`, or every method Node knows). */
function methodsOf(methods: Record<string, boolean>): string[] {
  const on = Object.keys(methods).filter((m) => methods[m] === true);
  if (on.includes('_all') || EVERY_METHOD.every((m) => on.includes(m))) return ['all'];
  return on;
}

/** What guards one method of a route: the handlers it runs (its own, and `route.all()`'s with no method), in order. */
function orderFor(stack: readonly Layer[], method: string): GuardOrder {
  return guardOrder(stack.filter((layer) => layer.method === undefined || layer.method === method).map((layer) => layer.handle));
}

/**
 * The open methods of a route, and why: any handler that runs before the route's first guard may
 * answer, and the report cannot tell one that calls next() from one that does not. A route of every
 * method is one `ALL` entry when every method is open (the reason only when each has a guard late),
 * else each open method.
 */
function openMethods(route: { methods?: Record<string, boolean>; stack?: Layer[] }, path: string): UnguardedRoute[] {
  const stack = route.stack ?? [];
  const methods = methodsOf(route.methods ?? {});
  const all = methods.length === 1 && methods[0] === 'all';
  // Express runs a HEAD request through the GET handlers when the route has no HEAD of its own.
  const headIsGet = route.methods?.head !== true;
  const open = (all ? EVERY_METHOD : methods)
    .map((method) => ({ method, order: orderFor(stack, method === 'head' && headIsGet ? 'get' : method) }))
    .filter((m) => m.order !== 'guard-first');
  const entry = (method: string, late: boolean): UnguardedRoute => (late ? { method, path, reason: 'handler-before-guard' } : { method, path });
  if (all && open.length === EVERY_METHOD.length) return [entry('ALL', open.every((m) => m.order === 'handler-before-guard'))];
  // Such a HEAD is the GET: the GET entry stands for both.
  return open.filter((m) => m.method !== 'head' || !headIsGet).map((m) => entry(m.method.toUpperCase(), m.order === 'handler-before-guard'));
}

function stackOf(handle: unknown): Layer[] | undefined {
  const stack = (handle as { stack?: unknown } | undefined)?.stack;
  return typeof handle === 'function' && Array.isArray(stack) ? (stack as Layer[]) : undefined;
}

/** An Express app (`express()`), told as Express's own `app.use` tells one: `handle` and `set`. */
function isExpressApp(value: unknown): boolean {
  const app = value as { handle?: unknown; set?: unknown } | undefined;
  return typeof value === 'function' && typeof app?.handle === 'function' && typeof app.set === 'function';
}

/** An app's router stack: `app.router` on 5; `app._router` on 4, whose `app.router` getter throws. */
function appStack(app: object): Layer[] {
  const source = app as { router?: unknown; _router?: unknown };
  let router: unknown;
  try {
    router = source.router;
  } catch {
    router = undefined;
  }
  router = (router as { stack?: unknown } | undefined)?.stack !== undefined ? router : source._router;
  const stack = (router as { stack?: unknown } | undefined)?.stack;
  return Array.isArray(stack) ? (stack as Layer[]) : [];
}

/**
 * What a middleware layer mounts: a Router's stack, a sub-app's (a Router keeps the app as the handle;
 * `app.use` wraps it in `mounted_app`, which keeps it in its closure only), or `unread` for such a
 * wrapper whose app could not be read.
 */
function mountedStack(handle: unknown): Layer[] | 'unread' | undefined {
  const stack = stackOf(handle);
  if (stack !== undefined) return stack;
  if (isExpressApp(handle)) return appStack(handle as object);
  if (typeof handle !== 'function' || handle.name !== 'mounted_app') return undefined;
  const app = closureVariable(handle as (...args: never[]) => unknown, 'fn');
  return isExpressApp(app) ? appStack(app as object) : 'unread';
}

function covers(cover: Cover, path: string): boolean {
  if (cover.prefix !== '/' && path !== cover.prefix && !path.startsWith(`${cover.prefix}/`)) return false;
  // API mode guards every path but its public ones, and those are public: either way, not unguarded.
  return true;
}

/** `ancestors`: the stacks being walked, so an app mounted inside itself is not walked forever. */
function walk(stack: Layer[], prefix: string, inherited: readonly Cover[], found: UnguardedRoute[], ancestors: Set<Layer[]>): void {
  if (ancestors.has(stack)) return;
  ancestors.add(stack);
  const covering = [...inherited];
  for (const layer of stack) {
    const route = layer.route;
    if (route !== undefined && route !== null) {
      const paths = Array.isArray(route.path) ? route.path : [route.path];
      for (const raw of paths) {
        const path = joinRoute(prefix, String(raw));
        if (covering.some((c) => covers(c, path))) continue;
        found.push(...openMethods(route, path));
      }
      continue;
    }
    const nested = mountedStack(layer.handle);
    const mark = nested === undefined ? guardMarkOf(layer.handle) : undefined;
    for (const mountPath of mountPathsOf(layer)) {
      const path = joinRoute(prefix, String(mountPath));
      if (nested === 'unread') {
        // Fail closed: the sub-app's routes are unknown, so its mount path stands for all of them.
        if (!covering.some((c) => covers(c, path))) found.push({ method: 'ALL', path, reason: 'sub-app-not-read' });
      } else if (nested !== undefined) walk(nested, path, covering, found, ancestors);
      // A guard mounted on a regular expression covers no prefix we could name.
      else if (mark !== undefined && typeof mountPath === 'string') covering.push({ prefix: joinRoute(prefix, mountPath), mark });
    }
  }
  ancestors.delete(stack);
}

/** An Express 4 or 5 application (or a Router). */
export type ExpressLike = object;

/**
 * The routes of an Express app (4 or 5) that no genauth-guard middleware covers and that are not public
 * paths of API mode, sub-apps mounted with `app.use(path, subApp)` included. A route whose own guard
 * comes after another of its handlers is listed with `reason: 'handler-before-guard'`. Call it once
 * every route is added.
 * @example expect(unguardedRoutes(app)).toEqual([])
 */
export function unguardedRoutes(app: ExpressLike): UnguardedRoute[] {
  // A Router is its own stack; an app has a router.
  const own = (app as { stack?: unknown }).stack;
  const found: UnguardedRoute[] = [];
  walk(Array.isArray(own) ? (own as Layer[]) : appStack(app), '/', [], found, new Set());
  return sortRoutes(found);
}

/**
 * Opt-in start-up warning: logs one line listing the unguarded routes (nothing when there are none).
 * @example warnUnguarded(app, console)
 */
export function warnUnguarded(app: ExpressLike, logger: WarnLogger): UnguardedRoute[] {
  return warnRoutes(unguardedRoutes(app), logger);
}
