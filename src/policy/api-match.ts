import { foldSegment, normalizeApiTarget, type ApiPath, type ApiTargetProblem, type CaseFold } from './api-path.js';
import { compileApiPattern, originOf } from './api-pattern.js';
import { PatternTrie } from './api-trie.js';
import type { ConditionCheck, Decision } from './decide.js';
import { grantCoversAction } from './actions.js';
import type { GrantIndex } from './grants.js';
import type { Grant } from './normalize-grant.js';

/**
 * How the router that dispatches requests compares paths. Adapters learn it from the app (Express's
 * settings, Fastify's router options); ALLOW patterns and public paths then never match more than the
 * router does. A DENY ignores it: it always folds case as widely as any router (`unicode`) and ignores a
 * trailing slash, and `//` and `;` are refused (400) whatever the router would do with them.
 */
export interface RouterRules {
  /** How the router folds letter case. */
  readonly caseFold: CaseFold;
  /** `/a` and `/a/` reach the same route. */
  readonly ignoreTrailingSlash: boolean;
}

/** What an unknown router is taken to do: Express's and @koa/router's defaults. */
export const DEFAULT_ROUTER_RULES: RouterRules = Object.freeze({ caseFold: 'ascii', ignoreTrailingSlash: true });

/** How ALLOW patterns and public paths match: the stricter of the options and the router. */
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
   * Match ALLOW patterns case-sensitively (a DENY always matches case-insensitively). Without it, they
   * fold case as the router does, and not at all when the router is case-sensitive.
   * @default false
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
  /** Origin of this API (`https://api.example.com`): absolute `apiIdentifier`s apply only when theirs equals it. */
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

/** The outcome of matching one request against a user's API grants. */
export interface ApiDecision extends Omit<Decision, 'reason'> {
  /**
   * `allowed`; `denied` (a DENY matched); `no_grant` (no ALLOW matched); `unmapped_method` (the method
   * has no action); `invalid_target` (the path cannot be evaluated: the guard answers 400).
   */
  readonly reason: Decision['reason'] | 'unmapped_method' | 'invalid_target';
  /** The method, upper-cased. */
  readonly method: string;
  /** The action the method maps to, or null. */
  readonly action: string | null;
  /** The canonical path matched (same as `resource`); empty for an invalid target. */
  readonly path: string;
  /** Why the target was rejected, with `invalid_target`. */
  readonly problem?: ApiTargetProblem;
}

/** A user's API grants compiled once: one trie for ALLOW patterns, one (case-folded) for DENY. */
export interface CompiledApiGrants {
  /** Number of API grants with a usable pattern (DENY widenings included). */
  readonly size: number;
  /** True when some API grant carries conditions. */
  readonly hasConditions: boolean;
}

interface Entry {
  readonly grant: Grant;
  /** Position in the grant list: the lowest matching one is reported, whatever the trie order. */
  readonly ordinal: number;
}

interface Compiled extends CompiledApiGrants {
  readonly allow: PatternTrie<Entry>;
  readonly deny: PatternTrie<Entry>;
}

/** Anything that can be matched: a user's indexed grants or a plain grant list. */
export type ApiGrants = GrantIndex | readonly Grant[];

/** A matcher with validated options; its compiled grant tries are cached per grant set. */
export interface ApiMatcher {
  readonly options: ResolvedApiMatchOptions;
  /** Compiles (once per grant set and router fold, then cached) the API grants. */
  compile(grants: ApiGrants, router?: RouterRules): CompiledApiGrants;
  /**
   * Matches a request target (`/path?query`) or an already normalized path; `router`: the rules of the
   * router that dispatches this request, when known (else `options.router`).
   */
  match(grants: ApiGrants, method: string, target: string | ApiPath, conditions?: ConditionCheck, router?: RouterRules): ApiDecision;
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

/** Same format as every option mistake (src/options/checks.ts), which policy/ does not import. */
function fail(path: string, message: string): never {
  throw new TypeError(`genauth-guard: option "${path}" ${message}`);
}

const CASE_FOLDS: ReadonlySet<unknown> = new Set<CaseFold>(['none', 'ascii', 'unicode']);

/**
 * Checks router rules, naming the option.
 * @throws TypeError
 */
export function resolveRouterRules(rules: unknown, path = 'router'): RouterRules {
  if (typeof rules !== 'object' || rules === null) fail(path, 'must be an object');
  const { caseFold, ignoreTrailingSlash } = rules as Partial<RouterRules>;
  if (!CASE_FOLDS.has(caseFold)) fail(`${path}.caseFold`, "must be 'none', 'ascii' or 'unicode'");
  if (typeof ignoreTrailingSlash !== 'boolean') fail(`${path}.ignoreTrailingSlash`, 'must be a boolean');
  return Object.freeze({ caseFold: caseFold as CaseFold, ignoreTrailingSlash });
}

// The six possible rules, so a request allocates none.
const ALLOW_RULES = new Map<string, AllowRules>();
for (const fold of CASE_FOLDS as ReadonlySet<CaseFold>) {
  for (const strict of [false, true]) ALLOW_RULES.set(`${fold}|${strict}`, Object.freeze({ fold, strict }));
}

/**
 * How ALLOW patterns and public paths match under `router`: case-sensitive when the options or the
 * router say so, else folded as the router folds; strict when the options say so or the router tells
 * `/a` from `/a/`. Never wider than the router, so an ALLOW or a public path cannot open another route.
 */
export function allowRules(options: ResolvedApiMatchOptions, router: RouterRules = options.router): AllowRules {
  const fold = options.caseSensitive ? 'none' : router.caseFold;
  const strict = options.strict || !router.ignoreTrailingSlash;
  return ALLOW_RULES.get(`${fold}|${strict}`) as AllowRules;
}

/** A path's segments under a fold (`unicode`: as normalized, or folded now for a hand-built path). */
export function foldedSegments(path: ApiPath, fold: CaseFold): readonly string[] {
  if (fold === 'none') return path.segments;
  // Without an escape left, every segment is plain ASCII and both folds are the same lower-casing.
  if (path.folded !== undefined && (fold === 'unicode' || !path.path.includes('%'))) return path.folded;
  return path.segments.map((segment) => foldSegment(segment, fold));
}

/**
 * Validates matcher options once. Mistakes throw a `TypeError` naming the option.
 * @throws TypeError
 */
export function resolveApiMatchOptions(options: ApiMatchOptions = {}, prefix = ''): ResolvedApiMatchOptions {
  if (typeof options !== 'object' || options === null) fail(prefix || 'options', 'must be an object');
  const actions = new Map(Object.entries(DEFAULT_METHOD_ACTIONS));
  const map = options.methodActions;
  let headMapped = false;
  if (map !== undefined) {
    if (typeof map !== 'object' || map === null || Array.isArray(map)) fail(`${prefix}methodActions`, 'must be an object');
    for (const [method, action] of Object.entries(map)) {
      if (!METHOD_TOKEN.test(method)) fail(`${prefix}methodActions`, `has an invalid method name`);
      if (typeof action !== 'string' || action === '') fail(`${prefix}methodActions.${method}`, 'must be a non-empty action string');
      actions.set(method.toUpperCase(), action);
      if (method.toUpperCase() === 'HEAD') headMapped = true;
    }
    // HEAD is GET without a body: it is checked like GET, never skipped.
    if (!headMapped) actions.set('HEAD', actions.get('GET') as string);
  }
  for (const key of ['caseSensitive', 'strict'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail(`${prefix}${key}`, 'must be a boolean');
  }
  let apiOrigin: string | undefined;
  if (options.apiOrigin !== undefined) {
    const value = options.apiOrigin;
    const origin = typeof value === 'string' ? originOf(value) : null;
    if (origin === null || !/^https?:\/\/[^/?#]+\/?$/i.test(value)) {
      fail(`${prefix}apiOrigin`, 'must be an http(s) origin such as https://api.example.com');
    }
    apiOrigin = origin;
  }
  const router = options.router === undefined ? DEFAULT_ROUTER_RULES : resolveRouterRules(options.router, `${prefix}router`);
  return Object.freeze({
    methodActions: actions,
    caseSensitive: options.caseSensitive === true,
    strict: options.strict === true,
    apiOrigin,
    router,
  });
}

function grantList(grants: ApiGrants): readonly Grant[] {
  if (Array.isArray(grants)) return grants as readonly Grant[];
  const list = (grants as GrantIndex)?.grants;
  if (!Array.isArray(list)) throw new TypeError('genauth-guard: grants must be a GrantIndex (indexGrants()) or a Grant array');
  return list;
}

// Compiled tries live as long as the grant set (one per fetch), keyed by the options that shape them.
const compiledCache = new WeakMap<object, Map<string, Compiled>>();

function compileGrants(grants: ApiGrants, options: ResolvedApiMatchOptions, fold: CaseFold): Compiled {
  const key = `${fold}|${options.apiOrigin ?? ''}`;
  let byOptions = compiledCache.get(grants);
  const cached = byOptions?.get(key);
  if (cached !== undefined) return cached;
  const allow = new PatternTrie<Entry>();
  const deny = new PatternTrie<Entry>();
  let hasConditions = false;
  const list = grantList(grants);
  for (let ordinal = 0; ordinal < list.length; ordinal++) {
    const grant = list[ordinal] as Grant;
    // Only API resources with an identifier take part in API mode.
    if (grant.type !== 'API' || grant.apiIdentifier === null) continue;
    const entry: Entry = { grant, ordinal };
    if (grant.effect === 'DENY') {
      // Folded as widely as any router folds: a DENY must catch every spelling some router dispatches to it.
      const result = compileApiPattern(grant.apiIdentifier, { fold: 'unicode', apiOrigin: options.apiOrigin });
      if (result.ok) deny.insert(result.pattern, entry);
      else if (result.reason === 'invalid') deny.insert(result.widened, entry);
      else continue;
    } else {
      const result = compileApiPattern(grant.apiIdentifier, { fold, apiOrigin: options.apiOrigin });
      if (!result.ok) continue;
      allow.insert(result.pattern, entry);
    }
    if (grant.conditions.length > 0) hasConditions = true;
  }
  const compiled: Compiled = { allow, deny, hasConditions, size: allow.size + deny.size };
  if (byOptions === undefined) {
    byOptions = new Map();
    compiledCache.set(grants, byOptions);
  }
  byOptions.set(key, compiled);
  return compiled;
}

const NO_CONDITIONS: ConditionCheck = () => undefined;

function byOrdinal(a: Entry, b: Entry): number {
  return a.ordinal - b.ordinal;
}

function decision(
  allowed: boolean,
  reason: ApiDecision['reason'],
  method: string,
  action: string | null,
  path: string,
  grant?: Grant,
  problem?: ApiTargetProblem,
): ApiDecision {
  const actions = action === null ? [] : [action];
  const result: { -readonly [K in keyof ApiDecision]: ApiDecision[K] } = { allowed, resource: path, mode: 'allOf', actions, reason, method, action, path };
  if (grant !== undefined) result.grant = grant;
  if (problem !== undefined) result.problem = problem;
  return result;
}

function matchCompiled(
  compiled: Compiled,
  options: ResolvedApiMatchOptions,
  rules: AllowRules,
  method: string,
  target: ApiPath,
  conditions: ConditionCheck,
): ApiDecision {
  const action = options.methodActions.get(method) ?? null;
  if (action === null) return decision(false, 'unmapped_method', method, null, target.path);

  // DENY first: case- and trailing-slash-insensitive, and it applies unless its conditions are known false.
  const denies: Entry[] = [];
  if (compiled.deny.size > 0) compiled.deny.collect(foldedSegments(target, 'unicode'), target.trailingSlash, false, (entry) => {
    if (grantCoversAction(entry.grant, action)) denies.push(entry);
  });
  if (denies.length > 1) denies.sort(byOrdinal);
  for (const { grant } of denies) {
    const holds = grant.conditions.length === 0 ? true : conditions(grant);
    if (holds !== false) return decision(false, 'denied', method, action, target.path, grant);
  }

  const allows: Entry[] = [];
  compiled.allow.collect(foldedSegments(target, rules.fold), target.trailingSlash, rules.strict, (entry) => {
    if (grantCoversAction(entry.grant, action)) allows.push(entry);
  });
  if (allows.length > 1) allows.sort(byOrdinal);
  for (const { grant } of allows) {
    // A conditional ALLOW applies only when its conditions are known to hold.
    const holds = grant.conditions.length === 0 ? true : conditions(grant);
    if (holds === true) return decision(true, 'allowed', method, action, target.path, grant);
  }
  return decision(false, 'no_grant', method, action, target.path);
}

/**
 * Creates a matcher: options are validated once, grant sets are compiled once each (cached per
 * GrantIndex or array) and every match is a trie walk, never a regular expression built per request.
 * @throws TypeError naming the option when an option is malformed.
 */
export function createApiMatcher(options: ApiMatchOptions = {}, optionPath = ''): ApiMatcher {
  const resolved = resolveApiMatchOptions(options, optionPath);
  return {
    options: resolved,
    compile: (grants, router) => compileGrants(grants, resolved, allowRules(resolved, router ?? resolved.router).fold),
    match(grants, method, target, conditions = NO_CONDITIONS, router) {
      const upper = typeof method === 'string' ? method.toUpperCase() : '';
      let path: ApiPath;
      if (typeof target === 'string') {
        const normalized = normalizeApiTarget(target);
        if (!normalized.ok) return decision(false, 'invalid_target', upper, resolved.methodActions.get(upper) ?? null, '', undefined, normalized.problem);
        path = normalized;
      } else {
        path = target;
      }
      const rules = allowRules(resolved, router ?? resolved.router);
      return matchCompiled(compileGrants(grants, resolved, rules.fold), resolved, rules, upper, path, conditions);
    },
  };
}

// matchApi() called with the same options object reuses its validated matcher.
const matchers = new WeakMap<object, ApiMatcher>();
let defaultMatcher: ApiMatcher | undefined;

/**
 * Decides offline whether a user's grants let `method` reach `target` in API mode, with exactly the
 * rules the middleware uses, and returns the grant that decided. Only `API` grants with an
 * `apiIdentifier` count; DENY overrides ALLOW; a conditional ALLOW applies only when `conditions` says
 * it holds, a conditional DENY unless `conditions` says it does not.
 * @example
 * const index = indexGrants(await fetchGrantsSomehow());
 * matchApi(index, 'DELETE', '/api/v1/users/42'); // { allowed: false, reason: 'no_grant', action: 'delete', ... }
 * @throws TypeError when an option or the grants are malformed.
 */
export function matchApi(
  grants: ApiGrants,
  method: string,
  target: string,
  options?: ApiMatchOptions & { conditions?: ConditionCheck },
): ApiDecision {
  let matcher: ApiMatcher;
  if (options === undefined) {
    matcher = defaultMatcher ??= createApiMatcher();
  } else {
    if (typeof options !== 'object' || options === null) throw new TypeError('genauth-guard: options must be an object');
    let cached = matchers.get(options);
    if (cached === undefined) {
      cached = createApiMatcher(options);
      matchers.set(options, cached);
    }
    matcher = cached;
  }
  return matcher.match(grants, method, target, options?.conditions);
}
