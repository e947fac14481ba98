import { GuardInternalError, InvalidTokenError, PermissionDeniedError } from '../../errors.js';
import { RESOURCE_TYPES } from '../../options.js';
import { oneOf, strictObject } from '../../options/checks.js';
import { refuseUndefinedResourceType } from '../../options/genauth.js';
import { decideRemembered, normalizeRequirement, type Decision, type NormalizedRequirement, type Requirement } from '../../policy/decide.js';
import { asGuardError } from '../../problem.js';
import type { RequestLike } from '../../request.js';
import type { Identity } from '../../token/verifier.js';
import { checkResourceFor, publishDecision, type Authorizer } from '../authorize.js';
import { publishCache } from '../../cache/cache-events.js';
import { tracing } from '../../events.js';
import { traceDecisionNow, traceFailedDecision, type DecisionNote, type DecisionObserver } from '../observe.js';
import type { GenAuthContext, RouteOptions } from '../types.js';
import type { Callers, KnownToken } from './caller.js';

/** A resource code, or a function of the framework's request (sync or async) that returns one. */
export type ResourceSource<R> = string | ((request: R) => string | Promise<string>);

/** A route's checked, frozen specification, built once when the route is defined. */
export interface RouteSpec<R> {
  readonly resolve: (request: R) => string | Promise<string>;
  readonly requirement: NormalizedRequirement;
  readonly route: RouteOptions;
}

/** A route's options, checked like every options object: known keys, a resource type GenAuth has. */
function routeOptions(route: unknown): RouteOptions {
  if (route === undefined) return {};
  const input = strictObject(route, ['resourceType'], 'route');
  refuseUndefinedResourceType(input, 'route.resourceType');
  const resourceType = oneOf(input.resourceType, RESOURCE_TYPES, 'route.resourceType');
  return resourceType === undefined ? {} : { resourceType };
}

/**
 * Validates a route's arguments once, at definition: mistakes throw a `TypeError` before any request.
 * @example const spec = routeSpec((req) => `ecs:${req.params.id}`, 'ecs:Start');
 * @throws TypeError when the resource, the requirement or the route options are malformed.
 */
export function routeSpec<R>(resource: ResourceSource<R>, requirement: Requirement, route?: RouteOptions): RouteSpec<R> {
  if (typeof resource === 'string') {
    if (resource === '') throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  } else if (typeof resource !== 'function') {
    throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  }
  const resolve = typeof resource === 'string' ? () => resource : resource;
  return Object.freeze({ resolve, requirement: normalizeRequirement(requirement), route: Object.freeze(routeOptions(route)) });
}

/** `Guard.enforce`: see there. */
export type RouteEnforcer = <R = RequestLike>(request: RequestLike, spec?: RouteSpec<R>, native?: R) => GenAuthContext | Promise<GenAuthContext>;

function withIdentity(identity: Identity): GenAuthContext {
  return { identity };
}

/**
 * Creates the route check of one guard: authenticate, resolve the resource, decide (without a spec:
 * authenticate only). When the token is known (or passes the synchronous HS* check) and the user's
 * grants are cached without conditions, it all happens now, with no promise and no microtask (the hot
 * path); otherwise the answer is a promise.
 */
export function createRouteEnforcer(callers: Callers, authorizer: Authorizer, realm: string, observer?: DecisionObserver): RouteEnforcer {
  function enforce<R>(request: RequestLike, spec?: RouteSpec<R>, native?: R): GenAuthContext | Promise<GenAuthContext> {
    if (spec === undefined) return authenticateOnly(request, native);
    // Without onDecision the observer costs this comparison and one after the decision.
    const note = observer === undefined ? undefined : observer.begin();
    const found = callers.present(request, native);
    if (typeof found !== 'string') {
      if (found instanceof Promise) return found.then((known) => decide(request, spec, native, known.identity, known, note));
      return decide(request, spec, native, found.identity, found, note);
    }
    const identity = callers.verify(found);
    if (identity instanceof Promise) return identity.then((verified) => decide(request, spec, native, verified, undefined, note));
    return decide(request, spec, native, identity, undefined, note);
  }

  function authenticateOnly(request: RequestLike, native: unknown): GenAuthContext | Promise<GenAuthContext> {
    const identity = callers.identify(request, native);
    return identity instanceof Promise ? identity.then(withIdentity) : { identity };
  }

  /** From fresh cached grants when possible (403 thrown), else the full asynchronous path. */
  function decide<R>(
    request: RequestLike,
    spec: RouteSpec<R>,
    native: R | undefined,
    identity: Identity,
    known: KnownToken | undefined,
    note: DecisionNote | undefined,
  ): GenAuthContext | Promise<GenAuthContext> {
    const resource = resolveResource(spec, native === undefined ? (request as R) : native, identity.userId);
    if (typeof resource !== 'string' || resource === '') return decideLater(request, spec, identity, resource, note);
    const cached = callers.cachedGrants(identity.userId, known);
    if (cached === undefined || cached.value.index.hasConditions) return decideLater(request, spec, identity, resource, note);
    publishCache('hit', identity.userId);
    let decision: Decision;
    // What the policy throws (a code it refuses: `ecs:undefined`) is the typed 500 with or without a
    // trace subscriber (traceDecisionNow types it the same way). A try costs nothing until it catches.
    try {
      decision = tracing.decision.hasSubscribers
        ? traceDecisionNow({ userId: identity.userId, resource }, () => decideRemembered(cached.value, resource, spec.requirement, spec.route.resourceType))
        : decideRemembered(cached.value, resource, spec.requirement, spec.route.resourceType);
    } catch (error) {
      throw asGuardError(error);
    }
    publishDecision(identity.userId, resource, decision);
    if (note !== undefined) observer?.report(note, identity.userId, decision);
    return allowed(identity, decision, resource, spec.requirement);
  }

  async function decideLater<R>(
    request: RequestLike,
    spec: RouteSpec<R>,
    identity: Identity,
    resolved: string | Promise<string>,
    note: DecisionNote | undefined,
  ): Promise<GenAuthContext> {
    // Before the first wait: a record published from here on may be missed if the subscription drops.
    const since = callers.mark();
    let resource: string;
    try {
      resource = typeof resolved === 'string' ? resolved : await resolved;
    } catch (cause) {
      throw traceFailedDecision(identity.userId, undefined, new GuardInternalError({ cause }));
    }
    checkResourceFor(identity.userId, resource);
    const userId = identity.userId;
    // Revoked while the decision waited: refused as revoked, however the grants reloaded for it decide,
    // and that refusal is what the trace, the channel and onDecision are told.
    const decision = await authorizer.observe(userId, resource, note, async () =>
      callers.unlessRevoked(identity, await authorizer.decide(userId, resource, spec.requirement, spec.route, { request, identity }, note), since),
    );
    if (decision.reason === 'revoked') throw new InvalidTokenError('revoked', realm);
    return allowed(identity, decision, resource, spec.requirement);
  }

  function allowed(identity: Identity, decision: Decision, resource: string, requirement: NormalizedRequirement): GenAuthContext {
    if (!decision.allowed) throw new PermissionDeniedError(resource, requirement.actions, realm);
    return { identity, decision };
  }

  return enforce;
}

/** The resource function's answer; what it throws is the 500, told to the decision trace as a failed decision. */
function resolveResource<R>(spec: RouteSpec<R>, native: R, userId: string): string | Promise<string> {
  try {
    return spec.resolve(native);
  } catch (cause) {
    throw traceFailedDecision(userId, undefined, new GuardInternalError({ cause }));
  }
}
