import type { CaseFold } from './api-path.js';
import { originOf } from './api-pattern.js';

/**
 * How the router that dispatches requests compares paths. Adapters learn it from the app (Express's
 * settings, Fastify's router options); ALLOW patterns and public paths then never match more than the
 * router does (its trailing-slash rule always; its case folding only with `caseSensitive: false`). A
 * DENY ignores it: it always folds case as widely as any router (`unicode`) and ignores a trailing
 * slash, and `//` and `;` are refused (400) whatever the router would do with them.
 */
export interface RouterRules {
  /** How the router folds letter case. */
  readonly caseFold: CaseFold;
  /** `/a` and `/a/` reach the same route. */
  readonly ignoreTrailingSlash: boolean;
}

/** What an unknown router is taken to do: Express's and @koa/router's defaults. */
export const DEFAULT_ROUTER_RULES: RouterRules = Object.freeze({ caseFold: 'ascii', ignoreTrailingSlash: true });

/** How ALLOW patterns and public paths match: case-sensitively unless opted out, and the stricter slash rule of the options and the router. */
export interface AllowRules {
  readonly fold: CaseFold;
  readonly strict: boolean;
}

/** Options of the API matcher (a subset of `ApiModeOptions`). */
export interface ApiMatchOptions {
  /**
   * HTTP method -> GenAuth action, merged over the defaults. HEAD follows GET unless mapped itself.
   * A method with no action is denied.
   * @default { GET: 'read', HEAD: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' }
   */
  methodActions?: Record<string, string>;
  /**
   * ALLOW patterns and public paths match case-sensitively (a DENY always matches case-insensitively).
   * `false` makes them fold case as the router does (not at all when the router is case-sensitive).
   * A router folds only its routes' literal segments, never the value a parameter or a wildcard
   * captures: with `false`, an ALLOW `/files/public/*` and a route `/files/*` let `/FILES/PUBLIC/a`
   * run that route with `PUBLIC/a`. Set `false` only when the resources behind such routes are
   * looked up case-insensitively.
   * @default true
   */
  caseSensitive?: boolean;
  /**
   * `/a` and `/a/` differ for ALLOW patterns (a DENY always ignores a trailing slash). Without it, they
   * differ when the router tells them apart.
   * @default false
   */
  strict?: boolean;
  /**
   * The router's rules when `match()` is not told them per request (the adapters tell it).
   * @default DEFAULT_ROUTER_RULES: `{ caseFold: 'ascii', ignoreTrailingSlash: true }`, as Express
   */
  router?: RouterRules;
  /**
   * Origin of this API (`https://api.example.com`): absolute `apiIdentifier`s apply only when theirs
   * equals it. Without it, an absolute ALLOW grants nothing and an absolute DENY applies by its path.
   */
  apiOrigin?: string;
}

/** Validated, frozen matcher options. */
export interface ResolvedApiMatchOptions {
  readonly methodActions: ReadonlyMap<string, string>;
  readonly caseSensitive: boolean;
  readonly strict: boolean;
  readonly apiOrigin: string | undefined;
  readonly router: RouterRules;
}

/** Default method -> action map. */
export const DEFAULT_METHOD_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
});

const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Throws an option mistake in the format of every other (src/options/checks.ts, which policy/ does not import). */
function rejectOption(path: string, problem: string): never {
  throw new TypeError(`genauth-guard: option "${path}" ${problem}`);
}

const CASE_FOLDS: ReadonlySet<unknown> = new Set<CaseFold>(['none', 'ascii', 'unicode']);

/**
 * Checks router rules, naming the option.
 * @throws TypeError
 */
export function resolveRouterRules(rules: unknown, path = 'router'): RouterRules {
  if (typeof rules !== 'object' || rules === null) rejectOption(path, 'must be an object');
  const { caseFold, ignoreTrailingSlash } = rules as Partial<RouterRules>;
  if (!CASE_FOLDS.has(caseFold)) rejectOption(`${path}.caseFold`, "must be 'none', 'ascii' or 'unicode'");
  if (typeof ignoreTrailingSlash !== 'boolean') rejectOption(`${path}.ignoreTrailingSlash`, 'must be a boolean');
  return Object.freeze({ caseFold: caseFold as CaseFold, ignoreTrailingSlash });
}

// The six possible rules, so a request allocates none.
const ALLOW_RULES = new Map<string, AllowRules>();
for (const fold of CASE_FOLDS as ReadonlySet<CaseFold>) {
  for (const strict of [false, true]) ALLOW_RULES.set(`${fold}|${strict}`, Object.freeze({ fold, strict }));
}

/**
 * How ALLOW patterns and public paths match under `router`: case-sensitive unless the options say
 * `caseSensitive: false`, then folded as the router folds; strict when the options say so or the
 * router tells `/a` from `/a/`. Never wider than the router, so an ALLOW or a public path cannot open
 * another route; and by default not wider than the exact path either, since a router's folding never
 * reaches the value a parameter or a wildcard captures.
 */
export function allowRules(options: ResolvedApiMatchOptions, router: RouterRules = options.router): AllowRules {
  const fold = options.caseSensitive ? 'none' : router.caseFold;
  const strict = options.strict || !router.ignoreTrailingSlash;
  return ALLOW_RULES.get(`${fold}|${strict}`) as AllowRules;
}

/**
 * Validates matcher options once. Mistakes throw a `TypeError` naming the option.
 * @throws TypeError
 */
export function resolveApiMatchOptions(options: ApiMatchOptions = {}, prefix = ''): ResolvedApiMatchOptions {
  if (typeof options !== 'object' || options === null) rejectOption(prefix || 'options', 'must be an object');
  const actions = new Map(Object.entries(DEFAULT_METHOD_ACTIONS));
  const map = options.methodActions;
  let headMapped = false;
  if (map !== undefined) {
    if (typeof map !== 'object' || map === null || Array.isArray(map)) rejectOption(`${prefix}methodActions`, 'must be an object');
    for (const [method, action] of Object.entries(map)) {
      if (!METHOD_TOKEN.test(method)) rejectOption(`${prefix}methodActions`, `has an invalid method name`);
      if (typeof action !== 'string' || action === '') rejectOption(`${prefix}methodActions.${method}`, 'must be a non-empty action string');
      actions.set(method.toUpperCase(), action);
      if (method.toUpperCase() === 'HEAD') headMapped = true;
    }
    // HEAD is GET without a body: it is checked like GET, never skipped.
    if (!headMapped) actions.set('HEAD', actions.get('GET') as string);
  }
  for (const key of ['caseSensitive', 'strict'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') rejectOption(`${prefix}${key}`, 'must be a boolean');
  }
  let apiOrigin: string | undefined;
  if (options.apiOrigin !== undefined) {
    const value = options.apiOrigin;
    const origin = typeof value === 'string' ? originOf(value) : null;
    if (origin === null || !/^https?:\/\/[^/?#]+\/?$/i.test(value)) {
      rejectOption(`${prefix}apiOrigin`, 'must be an http(s) origin such as https://api.example.com');
    }
    apiOrigin = origin;
  }
  const router = options.router === undefined ? DEFAULT_ROUTER_RULES : resolveRouterRules(options.router, `${prefix}router`);
  return Object.freeze({
    methodActions: actions,
    // Fail closed: only an explicit `false` folds (see ApiMatchOptions.caseSensitive).
    caseSensitive: options.caseSensitive !== false,
    strict: options.strict === true,
    apiOrigin,
    router,
  });
}
