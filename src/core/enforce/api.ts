import { InvalidTokenError, PermissionDeniedError, unevaluablePathError } from '../../errors.js';
import { fail, refuseUndefinedKey, strictObject } from '../../options/checks.js';
import type { CompiledApiGrants } from '../../policy/api-compile.js';
import { createApiMatcher, type ApiDecision, type ApiMatcher } from '../../policy/api-match.js';
import { allowRules, type ApiMatchOptions, type RouterRules } from '../../policy/api-options.js';
import { allowSegments, normalizeApiTarget, type ApiPath, type CaseFold } from '../../policy/api-path.js';
import { compileApiPattern } from '../../policy/api-pattern.js';
import { PatternTrie, type CompiledPattern } from '../../policy/api-trie.js';
import type { Decision } from '../../policy/decide.js';
import type { RequestLike } from '../../request.js';
import type { Identity } from '../../token/verifier.js';
import { publishApiDecision, type Authorizer } from '../authorize.js';
import { publishCache } from '../../cache/cache-events.js';
import { tracing } from '../../events.js';
import { traceDecision, traceDecisionNow, type DecisionNote, type DecisionObserver } from '../observe.js';
import type { GrantStore, UserGrants } from '../grant-store.js';
import type { Revoked } from '../outcome.js';
import type { GenAuthContext } from '../types.js';
import type { Callers, KnownToken } from './caller.js';

/** Options of API mode (`guard.api(options)`). The router's rules come from the adapter, not from here. */
export interface ApiModeOptions extends Omit<ApiMatchOptions, 'router'> {
  /**
   * Paths that need no token at all, in the grant pattern syntax (`/health`, `/docs/*`, `/files/:id`).
   * Matched on the same canonical path as ALLOW patterns: case-sensitively unless `caseSensitive` is
   * `false`, with `strict`, and never more widely than the router routes. Everything else fails closed.
   * @default []
   */
  publicPaths?: string[];
}

/** API mode's checked, frozen specification, built once when the middleware is created. */
export interface ApiModeSpec {
  readonly matcher: ApiMatcher;
  /** True when the (canonical) path is one of `publicPaths` under the router's rules (else the options'). */
  isPublic(path: ApiPath, router?: RouterRules): boolean;
}

const KNOWN_OPTIONS = ['publicPaths', 'methodActions', 'caseSensitive', 'strict', 'apiOrigin'];

/**
 * Validates API-mode options once and compiles the public paths.
 * @example const spec = apiModeSpec({ publicPaths: ['/health', '/docs/*'] });
 * @throws TypeError naming the option (`api.publicPaths[1]`, `api.methodActions.GET`, ...); an unknown
 * key (a misspelt one would silently keep its default) with the closest valid one.
 */
export function apiModeSpec(options: ApiModeOptions = {}): ApiModeSpec {
  const { publicPaths = [], ...matchOptions } = strictObject(options, KNOWN_OPTIONS, 'api') as ApiModeOptions;
  const matcher = createApiMatcher(matchOptions, 'api.');
  if (!Array.isArray(publicPaths)) fail('api.publicPaths', 'must be an array of path patterns');
  const patterns: string[] = [];
  publicPaths.forEach((value, i) => {
    const result = typeof value === 'string' && value.startsWith('/') ? compileApiPattern(value, { fold: 'none' }) : undefined;
    if (result === undefined || !result.ok) {
      fail(`api.publicPaths[${i}]`, 'must be a path pattern such as /health, /docs/* or /files/:id');
    }
    patterns.push(value as string);
  });
  // One trie per case fold, built when a router with that fold first asks.
  const tries = new Map<CaseFold, PatternTrie<true>>();
  const trieFor = (fold: CaseFold): PatternTrie<true> => {
    let trie = tries.get(fold);
    if (trie === undefined) {
      trie = new PatternTrie<true>();
      for (const value of patterns) trie.insert((compileApiPattern(value, { fold }) as { pattern: CompiledPattern }).pattern, true);
      tries.set(fold, trie);
    }
    return trie;
  };
  return Object.freeze({
    matcher,
    isPublic(path: ApiPath, router?: RouterRules): boolean {
      if (patterns.length === 0) return false;
      const rules = allowRules(matcher.options, router);
      let found = false;
      trieFor(rules.fold).collect(allowSegments(path, rules.fold), path.trailingSlash, rules.strict, () => {
        found = true;
      });
      return found;
    },
  });
}

/**
 * An adapter's instance-wide `api` option (the Nest module's, the Fastify plugin's) as a spec, or
 * undefined when the key is left out. Present with the value `undefined` (an unset variable read into
 * it) it is refused: the adapter would run without API mode, without a word.
 * @throws TypeError naming `api` when it is undefined or malformed.
 */
export function instanceApiMode(own: Record<string, unknown>): ApiModeSpec | undefined {
  refuseUndefinedKey(own, 'api', 'api', "API mode (every request but public ones decided by the caller's API grants)", 'set it to the API mode options ({} for the defaults)', 'run without API mode');
  return own.api === undefined ? undefined : apiModeSpec(own.api as ApiModeOptions);
}

function asContextDecision(decision: ApiDecision): Decision {
  // Only an allowed decision is attached, and its reason ('allowed') is one Decision knows.
  return decision as Decision;
}

/** `Guard.enforceApi`: see there. */
export type ApiEnforcer = (request: RequestLike, spec: ApiModeSpec, native?: unknown) => GenAuthContext | null | Promise<GenAuthContext | null>;

/**
 * Creates the API-mode check of one guard. `request.url` must be the full request target as received
 * (path and query, mount prefix included); `request.router`, the rules of the router that dispatches it
 * as the adapter read them from the app. Order: a bad target -> 400, then the token -> 401, then the
 * permission -> 403 (503 on outage). Like the route check, it answers at once from the caches when the
 * user's API grants carry no conditions.
 */
export function createApiEnforcer(callers: Callers, store: GrantStore, authorizer: Authorizer, realm: string, observer?: DecisionObserver): ApiEnforcer {
  function enforceApi(request: RequestLike, spec: ApiModeSpec, native?: unknown): GenAuthContext | null | Promise<GenAuthContext | null> {
    const note = observer === undefined ? undefined : observer.begin();
    const target = normalizeApiTarget(request.url);
    // Never echo the path: the message is a fixed text.
    if (!target.ok) throw unevaluablePathError(realm);
    const router = request.router;
    if (spec.isPublic(target, router)) return null;
    const found = callers.present(request, native);
    if (typeof found !== 'string') {
      if (found instanceof Promise) return found.then((known) => decide(request, spec, target, router, known.identity, known, note));
      return decide(request, spec, target, router, found.identity, found, note);
    }
    const identity = callers.verify(found);
    if (identity instanceof Promise) return identity.then((verified) => decide(request, spec, target, router, verified, undefined, note));
    return decide(request, spec, target, router, identity, undefined, note);
  }

  function decide(
    request: RequestLike,
    spec: ApiModeSpec,
    target: ApiPath,
    router: RouterRules | undefined,
    identity: Identity,
    known: KnownToken | undefined,
    note: DecisionNote | undefined,
  ): GenAuthContext | Promise<GenAuthContext> {
    const grants = callers.cachedGrants(identity.userId, known)?.value;
    if (grants === undefined || compile(identity.userId, grants, spec, router).hasConditions) return decideLater(request, spec, target, router, identity, note);
    publishCache('hit', identity.userId);
    const decision = tracing.decision.hasSubscribers
      ? traceDecisionNow({ userId: identity.userId, resource: target.path, method: request.method.toUpperCase() }, () =>
          spec.matcher.match(grants.index, request.method, target, undefined, router),
        )
      : spec.matcher.match(grants.index, request.method, target, undefined, router);
    return allowed(identity, observed(identity.userId, decision, note));
  }

  async function decideLater(
    request: RequestLike,
    spec: ApiModeSpec,
    target: ApiPath,
    router: RouterRules | undefined,
    identity: Identity,
    note: DecisionNote | undefined,
  ): Promise<GenAuthContext> {
    // Before the first wait: a record published from here on may be missed if the subscription drops.
    const since = callers.mark();
    // Revoked while the decision waited: refused as revoked, however the grants reloaded for it decide,
    // and that refusal is what the trace, the channel and onDecision are told.
    const decide = async () => callers.unlessRevoked(identity, await matchLater(request, spec, target, router, identity, note), since);
    const decision = tracing.decision.hasSubscribers
      ? await traceDecision({ userId: identity.userId, resource: target.path, method: request.method.toUpperCase() }, decide)
      : await decide();
    observed(identity.userId, decision, note);
    if (decision.reason === 'revoked') throw new InvalidTokenError('revoked', realm);
    return allowed(identity, decision);
  }

  async function matchLater(request: RequestLike, spec: ApiModeSpec, target: ApiPath, router: RouterRules | undefined, identity: Identity, note: DecisionNote | undefined): Promise<ApiDecision> {
    const grants = await store.userGrants(identity.userId, note);
    const conditions = compile(identity.userId, grants, spec, router).hasConditions ? await authorizer.conditions(identity.userId, { request, identity }) : undefined;
    return spec.matcher.match(grants.index, request.method, target, conditions, router);
  }

  /** Tells the decision channel and onDecision; the decision passes through. */
  function observed<T extends ApiDecision | Revoked<ApiDecision>>(userId: string, decision: T, note: DecisionNote | undefined): T {
    publishApiDecision(userId, decision);
    if (note !== undefined) observer?.report(note, userId, decision);
    return decision;
  }

  /** The user's API grants compiled (once per grant set and router fold), the tries charged to the cache. */
  function compile(userId: string, grants: UserGrants, spec: ApiModeSpec, router: RouterRules | undefined): CompiledApiGrants {
    const compiled = spec.matcher.compile(grants.index, router);
    store.compiled(userId, grants, compiled);
    return compiled;
  }

  function allowed(identity: Identity, decision: ApiDecision): GenAuthContext {
    if (!decision.allowed) throw new PermissionDeniedError(decision.resource, decision.actions, realm);
    return { identity, decision: asContextDecision(decision) };
  }

  return enforceApi;
}
