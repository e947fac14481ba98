/**
 * How each framework's router compares paths, read from the app itself, so API mode never lets an
 * ALLOW pattern or a public path match more than the router routes (a DENY does not depend on it: it
 * always folds and ignores slashes as widely as any router). The case fold read here counts only
 * under `api.caseSensitive: false`; by default ALLOW patterns and public paths match case-sensitively.
 * Read by shape: no framework import.
 *
 * Not readable, hence the user's to pass as `api.strict` (and to leave `api.caseSensitive` at its
 * default): the options of an `express.Router({ caseSensitive, strict })` and of @koa/router
 * (`sensitive`, `strict`).
 */
import type { RouterRules } from '../policy/api-options.js';
import { routedTarget } from './routed-target.js';

function rules(caseFold: RouterRules['caseFold'], ignoreTrailingSlash: boolean): RouterRules {
  return Object.freeze({ caseFold, ignoreTrailingSlash });
}

const EXPRESS = {
  folding: rules('ascii', true),
  foldingStrict: rules('ascii', false),
  sensitive: rules('none', true),
  sensitiveStrict: rules('none', false),
};

/** What an unreadable Fastify instance is taken to do: its defaults, the strictest rules. */
const FASTIFY_DEFAULTS = rules('none', false);

interface ExpressRouterLike {
  caseSensitive?: unknown;
  strict?: unknown;
}

interface ExpressAppLike {
  _router?: ExpressRouterLike;
  router?: ExpressRouterLike;
  settings?: Record<string, unknown>;
}

/** An Express router is a function with properties (a plain object in a test double). */
function isRouter(value: unknown): value is ExpressRouterLike {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

/** The app's base router: Express 4 keeps it in `_router` (its `router` getter throws), Express 5 in `router`. */
function baseRouter(app: ExpressAppLike): ExpressRouterLike | undefined {
  if (isRouter(app._router)) return app._router;
  try {
    const router = app.router;
    return isRouter(router) ? router : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Express 4/5 (and Nest on Express): the app's base router matches the raw target with a regular
 * expression, case-insensitively on ASCII unless `case sensitive routing`, ignoring a trailing slash
 * unless `strict routing`. Read from the router the app built (what it really does), else the settings.
 * `req.app` of the request; undefined when there is none (then the API-mode options decide).
 */
export function expressRouterRules(app: unknown): RouterRules | undefined {
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
  const candidate = app as ExpressAppLike;
  const router = baseRouter(candidate);
  const sensitive = router !== undefined ? router.caseSensitive === true : candidate.settings?.['case sensitive routing'] === true;
  const strict = router !== undefined ? router.strict === true : candidate.settings?.['strict routing'] === true;
  if (sensitive) return strict ? EXPRESS.sensitiveStrict : EXPRESS.sensitive;
  return strict ? EXPRESS.foldingStrict : EXPRESS.folding;
}

/**
 * The target an Express router (and Nest's, on Express) dispatches, as far as the guard can tell
 * ({@link routedTarget}): `req.url` as any middleware in front of the guard left it, with the mount
 * path `req.baseUrl` in front, since Express routes `req.url` and keeps only the target received in
 * `originalUrl` (a rewrite maps an alias onto another route); but `originalUrl` where `req.url` is that
 * URL shortened by a mount (an Express sub-app's, or a host's that keeps no `baseUrl`, as Connect's).
 * Undefined on a request no Express router handles (no `baseUrl`): the view then reads `originalUrl`.
 */
export function expressRoutedTarget(req: { baseUrl?: unknown; url?: unknown; originalUrl?: unknown }): string | undefined {
  const url = req.url;
  const base = req.baseUrl;
  return typeof base === 'string' && typeof url === 'string' ? routedTarget(req.originalUrl, url, base) : undefined;
}

interface FastifyConfigLike {
  caseSensitive?: unknown;
  ignoreTrailingSlash?: unknown;
  routerOptions?: Record<string, unknown>;
}

const fastifyCache = new WeakMap<object, RouterRules>();

/**
 * Fastify 5 (and Nest on Fastify): find-my-way decodes the path, then with `caseSensitive: false`
 * lower-cases it with `String#toLowerCase()` (Unicode), and with `ignoreTrailingSlash` drops a final
 * `/`. Read from `initialConfig` of `request.server`, where `routerOptions` wins over the deprecated
 * top-level spelling as it does for the router. When `routerOptions` is given, Fastify reports its
 * `ignoreTrailingSlash` as false unless set there, even if the top-level one is true: the guard then
 * tells `/a` from `/a/`, which is only stricter. An instance without `initialConfig` gets Fastify's
 * defaults (case-sensitive, trailing slash significant).
 */
export function fastifyRouterRules(server: unknown): RouterRules {
  const config = (server as { initialConfig?: FastifyConfigLike } | null | undefined)?.initialConfig;
  if (typeof config !== 'object' || config === null) return FASTIFY_DEFAULTS;
  let found = fastifyCache.get(config);
  if (found === undefined) {
    const router = typeof config.routerOptions === 'object' && config.routerOptions !== null ? config.routerOptions : undefined;
    const caseSensitive = router !== undefined && Object.hasOwn(router, 'caseSensitive') ? router.caseSensitive !== false : config.caseSensitive !== false;
    const ignoreTrailingSlash = router !== undefined ? router.ignoreTrailingSlash === true : config.ignoreTrailingSlash === true;
    found = rules(caseSensitive ? 'none' : 'unicode', ignoreTrailingSlash);
    fastifyCache.set(config, found);
  }
  return found;
}
