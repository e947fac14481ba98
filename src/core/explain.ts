/**
 * `guard.explain()`: a decision and every grant behind it, from the same grant store (cache, loader)
 * and condition context as the middleware, through the pure explainers of policy/.
 */
import { DEFAULT_ROUTER_RULES, resolveRouterRules, type RouterRules } from '../policy/api-options.js';
import { normalizeRequirement, type NormalizedRequirement, type Requirement } from '../policy/decide.js';
import { explainApiDecision, type ApiExplanation } from '../policy/explain-api.js';
import { explainDecision, type Explanation } from '../policy/explain.js';
import type { ResourceType } from '../wire.js';
import type { Authorizer } from './authorize.js';
import { apiModeSpec, type ApiModeOptions, type ApiModeSpec } from './enforce/api.js';
import type { GrantStore } from './grant-store.js';

/** Input of `explain()` for a route: the same fields as `check()`. */
export type ExplainRouteInput = {
  userId: string;
  resource: string;
  resourceType?: ResourceType;
  /** Condition context keys. No request is at hand, so request keys (`SourceIp`, `UserAgent`) come only from here. */
  context?: Record<string, unknown>;
} & ({ action: string } | { allOf: readonly string[] } | { anyOf: readonly string[] });

/** Input of `explain()` for API mode: the method and the request target (`/path?query`). */
export interface ExplainApiInput {
  userId: string;
  method: string;
  path: string;
  /** The API-mode options the middleware was given (`publicPaths`, `methodActions`, ...). @default {} */
  api?: ApiModeOptions;
  /**
   * The rules of the router that dispatches (the middleware reads them from the app).
   * @default Express's: `{ caseFold: 'ascii', ignoreTrailingSlash: true }`
   */
  router?: RouterRules;
  /** Condition context keys, as for a route. */
  context?: Record<string, unknown>;
}

/** Input of `explain()`: a route's question or an API-mode request. */
export type ExplainInput = ExplainRouteInput | ExplainApiInput;

/** `guard.explain()`: resolves a route's {@link Explanation} or an {@link ApiExplanation}. */
export interface Explainer {
  (input: ExplainRouteInput): Promise<Explanation>;
  (input: ExplainApiInput): Promise<ApiExplanation>;
  (input: ExplainInput): Promise<Explanation | ApiExplanation>;
}

function requirementOf(input: ExplainRouteInput): Requirement {
  if ('action' in input) return input.action;
  if ('allOf' in input) return { allOf: input.allOf };
  return { anyOf: input.anyOf };
}

/** Creates `explain()` over the guard's grant store and condition context. */
export function createExplainer(store: GrantStore, authorizer: Authorizer): Explainer {
  // API-mode options given as the same object are validated once.
  const specs = new WeakMap<object, ApiModeSpec>();
  const defaultSpec = apiModeSpec();

  async function explainRoute(input: ExplainRouteInput): Promise<Explanation> {
    if (typeof input.resource !== 'string' || input.resource === '') throw new TypeError('genauth-guard: explain() needs a non-empty resource');
    const requirement: NormalizedRequirement = normalizeRequirement(requirementOf(input));
    const index = await store.grants(input.userId);
    const conditions = index.hasConditions ? await authorizer.conditions(input.userId, { context: input.context }) : undefined;
    return explainDecision(index, input.resource, requirement, conditions === undefined ? { resourceType: input.resourceType } : { resourceType: input.resourceType, conditions });
  }

  async function explainApi(input: ExplainApiInput): Promise<ApiExplanation> {
    if (typeof input.method !== 'string' || typeof input.path !== 'string') throw new TypeError('genauth-guard: explain() needs a method and a path');
    let spec = defaultSpec;
    if (input.api !== undefined) {
      spec = specs.get(input.api) ?? apiModeSpec(input.api);
      specs.set(input.api, spec);
    }
    const router = input.router === undefined ? DEFAULT_ROUTER_RULES : resolveRouterRules(input.router, 'router');
    const options = { options: spec.matcher.options, router, isPublic: spec.isPublic };
    // A target the middleware answers 400 for, or a public path, needs no grants: as the middleware, load none.
    const early = explainApiDecision([], input.method, input.path, options);
    if (early.reason === 'invalid_target' || early.reason === 'public') return early;
    const index = await store.grants(input.userId);
    // Conditions are built when the user's API grants carry some, as in the middleware.
    const conditions = spec.matcher.compile(index, router).hasConditions ? await authorizer.conditions(input.userId, { context: input.context }) : undefined;
    return explainApiDecision(index, input.method, input.path, { ...options, conditions });
  }

  return function explain(input: ExplainInput) {
    if (typeof input !== 'object' || input === null || typeof input.userId !== 'string' || input.userId === '') {
      return Promise.reject(new TypeError('genauth-guard: explain() needs a non-empty userId'));
    }
    try {
      return 'method' in input || 'path' in input ? explainApi(input as ExplainApiInput) : explainRoute(input);
    } catch (error) {
      return Promise.reject(error);
    }
  } as Explainer;
}
