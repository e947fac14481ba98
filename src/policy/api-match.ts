import { grantCoversAction } from './actions.js';
import { compileApiGrants, type ApiGrants, type Compiled, type CompiledApiGrants, type Entry } from './api-compile.js';
import {
  allowRules,
  resolveApiMatchOptions,
  type AllowRules,
  type ApiMatchOptions,
  type ResolvedApiMatchOptions,
  type RouterRules,
} from './api-options.js';
import { allowSegments, foldedSegments, normalizeApiTarget, type ApiPath, type ApiTargetProblem } from './api-path.js';
import type { ConditionCheck, Decision } from './decide.js';
import type { Grant } from './normalize-grant.js';

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
  compiled.allow.collect(allowSegments(target, rules.fold), target.trailingSlash, rules.strict, (entry) => {
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
    compile: (grants, router) => compileApiGrants(grants, resolved, allowRules(resolved, router ?? resolved.router).fold),
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
      return matchCompiled(compileApiGrants(grants, resolved, rules.fold), resolved, rules, upper, path, conditions);
    },
  };
}

// matchApi() called with the same options object reuses its validated matcher.
const matchers = new WeakMap<object, ApiMatcher>();
let defaultMatcher: ApiMatcher | undefined;

/**
 * Decides offline whether a user's grants let `method` reach `target` in API mode, with exactly the
 * rules the middleware uses, and returns the grant that decided. Only `API` grants (and DENYs of a type
 * the guard cannot read, fail closed) with an `apiIdentifier` count; DENY overrides ALLOW; a conditional ALLOW applies only when `conditions` says
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
