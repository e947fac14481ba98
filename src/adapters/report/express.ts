/**
 * `unguardedRoutes(app)` for Express 4 and 5: walks the app's router stack (`app._router` on 4,
 * `app.router` on 5) in order, mount prefixes and nested routers included. A route is covered by one of
 * our middlewares before it on its path (`app.use(guard.api())`, whose public paths count as public,
 * `app.use(guard.authenticate())`, a router's `use`) or in its own handlers (`guard.requirePermission`).
 */
import { METHODS } from 'node:http';
import { guardMarkOf, type GuardMark } from './marker.js';
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

/** The route's methods; `ALL` for `app.all()` (which sets `_all`, or every method Node knows). */
function methodsOf(methods: Record<string, boolean>): string[] {
  const on = Object.keys(methods).filter((m) => methods[m] === true);
  if (on.includes('_all') || METHODS.every((m) => on.includes(m.toLowerCase()))) return ['ALL'];
  return on.map((m) => m.toUpperCase());
}

function stackOf(handle: unknown): Layer[] | undefined {
  const stack = (handle as { stack?: unknown } | undefined)?.stack;
  return typeof handle === 'function' && Array.isArray(stack) ? (stack as Layer[]) : undefined;
}

function covers(cover: Cover, path: string): boolean {
  if (cover.prefix !== '/' && path !== cover.prefix && !path.startsWith(`${cover.prefix}/`)) return false;
  // API mode guards every path but its public ones, and those are public: either way, not unguarded.
  return true;
}

function walk(stack: Layer[], prefix: string, inherited: readonly Cover[], found: UnguardedRoute[]): void {
  const covering = [...inherited];
  for (const layer of stack) {
    const route = layer.route;
    if (route !== undefined && route !== null) {
      const paths = Array.isArray(route.path) ? route.path : [route.path];
      // A guard among the route's handlers covers the methods its layer answers: `route(p).get(guard, h).post(h)`
      // leaves POST open. A layer without a method is `route.all()`'s and covers them all.
      const own = (route.stack ?? []).filter((l) => guardMarkOf(l.handle) !== undefined).map((l) => l.method);
      for (const raw of paths) {
        const path = joinRoute(prefix, String(raw));
        if (covering.some((c) => covers(c, path))) continue;
        for (const method of methodsOf(route.methods ?? {})) {
          if (!own.some((m) => m === undefined || m === method.toLowerCase())) found.push({ method, path });
        }
      }
      continue;
    }
    const nested = stackOf(layer.handle);
    const mark = nested === undefined ? guardMarkOf(layer.handle) : undefined;
    for (const mountPath of mountPathsOf(layer)) {
      if (nested !== undefined) walk(nested, joinRoute(prefix, String(mountPath)), covering, found);
      // A guard mounted on a regular expression covers no prefix we could name.
      else if (mark !== undefined && typeof mountPath === 'string') covering.push({ prefix: joinRoute(prefix, mountPath), mark });
    }
  }
}

/** An Express 4 or 5 application (or a Router). */
export type ExpressLike = object;

/**
 * The routes of an Express app (4 or 5) that no genauth-guard middleware covers and that are not public
 * paths of API mode. Call it once every route is added.
 * @example expect(unguardedRoutes(app)).toEqual([])
 */
export function unguardedRoutes(app: ExpressLike): UnguardedRoute[] {
  const source = app as { router?: unknown; _router?: unknown; stack?: unknown };
  // Express 5 has `app.router`; Express 4 `app._router` (and a throwing `app.router` getter); a Router is its own stack.
  let stack: Layer[] | undefined;
  if (Array.isArray(source.stack)) stack = source.stack as Layer[];
  else {
    let router: unknown;
    try {
      router = source.router;
    } catch {
      router = undefined;
    }
    router = (router as { stack?: unknown } | undefined)?.stack !== undefined ? router : source._router;
    stack = (router as { stack?: Layer[] } | undefined)?.stack;
  }
  const found: UnguardedRoute[] = [];
  walk(stack ?? [], '/', [], found);
  return sortRoutes(found);
}

/**
 * Opt-in start-up warning: logs one line listing the unguarded routes (nothing when there are none).
 * @example warnUnguarded(app, console)
 */
export function warnUnguarded(app: ExpressLike, logger: WarnLogger): UnguardedRoute[] {
  return warnRoutes(unguardedRoutes(app), logger);
}
