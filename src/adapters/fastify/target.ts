/** A Fastify request's `raw`, with what an Express app that mounted the instance adds to it. */
interface MountedMessage {
  url?: string;
  originalUrl?: unknown;
  baseUrl?: unknown;
}

/**
 * The target the guard judges for a Fastify request (and Nest's on Fastify): `raw.url`, the path
 * Fastify routes (as received, or as its `rewriteUrl` returned it; never the alias it keeps in
 * `raw.originalUrl`), with the mount path put back when an Express app mounted the instance
 * (`app.use('/api', (req, res) => fastify.routing(req, res))`). Express strips the mount path from
 * `req.url` and keeps it in `req.baseUrl`, so the instance routes `/admin/keys` for `GET /api/admin/keys`:
 * judged alone, a DENY on `/api/admin/*` would be escaped and an ALLOW of `/api/servers` grant nothing.
 *
 * `baseUrl + url` is the path that runs, in the outer app's terms; without a `rewriteUrl` it is the
 * host's `req.originalUrl`, the target as the client sent it, except where Express put a `/` in front
 * of what its mount left (`/api` routes as `/`, `/api?x` as `/?x`): then that `originalUrl` is judged.
 * Not `req.originalUrl` alone: a `rewriteUrl` (Fastify's, or `@fastify/middie`'s copy) replaces it
 * with the shortened path before any hook runs. A host that sets no `baseUrl` (Connect) is not seen.
 *
 * One read of `raw.baseUrl` per request, absent unless Express mounted the instance.
 */
export function fastifyTarget(raw: MountedMessage): string {
  const url = raw.url ?? '';
  const base = raw.baseUrl;
  if (typeof base !== 'string' || base === '') return url;
  if (url === '/' || url.startsWith('/?')) {
    const host = raw.originalUrl;
    if (typeof host === 'string' && host === base + url.slice(1)) return host;
  }
  return base + url;
}

/**
 * An absolute-form target every find-my-way this package meets reduces to a path: an `http` or `https`
 * scheme in lower case and a `/` after the authority (what find-my-way before 9.10 strips, as
 * `^https?:\/\/.*?\/`; 9.10 reads these as paths too, or refuses them itself with `FST_ERR_BAD_URL`).
 */
const PATH_ABSOLUTE_FORM = /^https?:\/\/[^/]*\//;

/**
 * Whether Fastify's router may not read `url` as a path: it walks `ftp://h/x`, `*` (and, before
 * find-my-way 9.10, `HTTP://h/x` or `http://h`) from the second character, so only a wildcard route
 * matches, with a parameter cut from the scheme. The guard refuses such a target (400) rather than
 * judge that route for it, as the Koa adapter refuses a target Koa cannot read. The Nest guard on
 * Fastify refuses the same (`guardRequest`): the find-my-way `@nestjs/platform-fastify` bundles is 9.7.
 * An origin-form target, every request but a proxy's, costs one character read.
 */
export function notRoutedAsPath(url: string | undefined): boolean {
  if (url === undefined || url.charCodeAt(0) === 47 /* / */) return false;
  return !PATH_ABSOLUTE_FORM.test(url);
}
