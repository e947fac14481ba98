/**
 * Which target API mode judges when a framework routes a URL other than the one the outermost server
 * received: a mount (Express's `app.use('/api', ...)`, Connect's, `koa-mount`) strips a prefix and
 * keeps the full target in `req.originalUrl`; a middleware that rewrites `req.url` maps one path onto
 * another. Grants are written as the full path that runs, so a mount is judged by the URL received,
 * a rewrite by the path routed (with the host's mount path in front where the host says what it is).
 * Used by Express (and Nest on Express) and Koa. No framework import.
 */

/** Whether `prefix` is what a mount strips: a non-empty path, `/`-led, no trailing `/`, no query. */
function isMountPath(prefix: string): boolean {
  return (
    prefix.length > 1 &&
    prefix.charCodeAt(0) === 47 /* / */ &&
    prefix.charCodeAt(prefix.length - 1) !== 47 &&
    !prefix.includes('?') &&
    !prefix.includes('#')
  );
}

/**
 * Where an absolute-form target's path starts (`http://h/x` -> 8), as Express and Connect find the part
 * they keep in front when they strip a mount path; 0 for a path.
 */
function pathStart(url: string): number {
  if (url.charCodeAt(0) === 47 /* / */) return 0;
  const query = url.indexOf('?');
  const scheme = url.indexOf('://');
  if (scheme === -1 || (query !== -1 && scheme > query)) return 0;
  const slash = url.indexOf('/', scheme + 3);
  if (slash !== -1 && (query === -1 || slash < query)) return slash;
  return query === -1 ? url.length : query;
}

/**
 * Whether `received` is `origin` + a mount path + `tail`. No mount path at all only where `tail` is a
 * path of its own (`/api` for the `/` Express left of it, below); `tail` is one already.
 */
function mountOf(received: string, origin: string, tail: string): boolean {
  const head = received.length - tail.length;
  if (head < origin.length || !received.startsWith(origin) || !received.endsWith(tail)) return false;
  return head === origin.length ? tail.charCodeAt(0) === 47 /* / */ : isMountPath(received.slice(origin.length, head));
}

/**
 * The target API mode judges. `received` is the URL the outermost server received (the host's
 * `req.originalUrl`), `routed` the one this framework routes (Express's `req.url`, Koa's
 * `ctx.originalUrl`), `base` the mount path of the Express router that handed the request on
 * (`req.baseUrl`; empty or absent at an app's root, and under a host that keeps none, as Connect).
 *
 * - The path that runs, in the outer app's terms, is `base` + `routed`: Express strips `base` from
 *   `req.url` (after the origin of an absolute-form target) and keeps it in `req.baseUrl`.
 * - When `received` is that path, or that path with a mount path in front (a host that keeps no
 *   `baseUrl` mounted the app: `/api/admin/keys` routed as `/admin/keys`), `received` is judged: the
 *   full URL. So it is where the mount left nothing, or only a query, and the host put a `/` in front
 *   (`/api` routes as `/`, `/api?x` as `/?x`; Connect also `/api.x` as `/.x`).
 * - Otherwise a middleware rewrote the URL, and the path that runs is judged: `base` + `routed`. A
 *   rewrite that only strips a prefix (`/v1/x` -> `/x`) cannot be told from a mount and is judged as
 *   received; under a host that keeps no `baseUrl`, a rewrite is judged without the host's mount path.
 *
 * The common case (no mount, no rewrite: `received === routed`, often the same string) costs one
 * comparison.
 */
export function routedTarget(received: unknown, routed: string, base?: unknown): string {
  const prefix = typeof base === 'string' ? base : '';
  let target = routed;
  let start = 0;
  if (prefix !== '') {
    start = pathStart(routed);
    target = routed.slice(0, start) + prefix + routed.slice(start);
  }
  if (received === target || typeof received !== 'string') return target;
  if (prefix === '') start = pathStart(routed);
  const origin = routed.slice(0, start);
  const path = routed.slice(start);
  if (mountOf(received, origin, prefix + path)) return received;
  // The `/` a host puts in front of what its mount left: nothing (`/api`), a query, or (Connect) `.x`.
  const slashAdded = path === '/' || (path.charCodeAt(0) === 47 && (path.charCodeAt(1) === 63 /* ? */ || path.charCodeAt(1) === 46) /* . */);
  if (slashAdded && mountOf(received, origin, prefix + path.slice(1))) return received;
  return target;
}
