import { normalizeRequirement, type NormalizedRequirement, type Requirement } from '../policy/decide.js';
import { GuardInternalError, PermissionDeniedError } from '../errors.js';
import type { GenAuthContext, Guard, RouteOptions } from '../guard.js';
import type { RequestLike } from '../request.js';
import type { Identity } from '../token/verifier.js';
import { RESOURCE_TYPES } from '../options.js';
import { oneOf, strictObject } from '../options/checks.js';

/** A route's options, checked like every options object: known keys, a resource type GenAuth has. */
function routeOptions(route: unknown): RouteOptions {
  if (route === undefined) return {};
  const input = strictObject(route, ['resourceType'], 'route');
  const resourceType = oneOf(input.resourceType, RESOURCE_TYPES, 'route.resourceType');
  return resourceType === undefined ? {} : { resourceType };
}

/** A resource code, or a function of the framework's request (sync or async) that returns one. */
export type ResourceSource<R> = string | ((request: R) => string | Promise<string>);

/** A route's checked, frozen specification, built once when the route is defined. */
export interface RouteSpec<R> {
  resolve: (request: R) => string | Promise<string>;
  requirement: NormalizedRequirement;
  route: RouteOptions;
}

/** Validates a route's arguments at definition time: mistakes throw a `TypeError` before any request. */
export function routeSpec<R>(resource: ResourceSource<R>, requirement: Requirement, route?: RouteOptions): RouteSpec<R> {
  if (typeof resource === 'string') {
    if (resource === '') throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  } else if (typeof resource !== 'function') {
    throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  }
  const resolve = typeof resource === 'string' ? () => resource : resource;
  return { resolve, requirement: normalizeRequirement(requirement), route: routeOptions(route) };
}

/**
 * The whole check for one request, shared by every adapter: authenticate, resolve the resource,
 * decide. Returns the context to attach, or throws a GuardError (400/401/403/500) synchronously, when
 * the token is cached (or passes the synchronous HS* check) and the user's grants are cached (the hot
 * path: no promise, no microtask); otherwise
 * returns a promise of the context that rejects with a GuardError (400/401/403/503/500).
 */
export function enforce<R>(guard: Guard, request: RequestLike, spec: RouteSpec<R>, native: R): GenAuthContext | Promise<GenAuthContext> {
  const identity = guard.identify(request);
  if (identity instanceof Promise) return enforceAsync(identity, guard, request, spec, native);
  return decideNow(guard, request, spec, identity, resolveResource(spec, native));
}

/**
 * Authentication alone, for the adapters' `authenticate()` middleware: the context `{ identity }`,
 * without a promise when the token is cached or passes the synchronous HS* check. Throws (400/401)
 * or rejects (401/503) like `Guard.authenticate`.
 */
export function authenticateOnly(guard: Guard, request: RequestLike): GenAuthContext | Promise<GenAuthContext> {
  const identity = guard.identify(request);
  return identity instanceof Promise ? identity.then(withIdentity) : { identity };
}

function withIdentity(identity: Identity): GenAuthContext {
  return { identity };
}

/** A token jose verifies now, then the same decision as the hot path. */
async function enforceAsync<R>(identity: Promise<Identity>, guard: Guard, request: RequestLike, spec: RouteSpec<R>, native: R): Promise<GenAuthContext> {
  return decideNow(guard, request, spec, await identity, resolveResource(spec, native));
}

function resolveResource<R>(spec: RouteSpec<R>, native: R): string | Promise<string> {
  try {
    return spec.resolve(native);
  } catch (cause) {
    throw new GuardInternalError({ cause });
  }
}

/** From fresh cached grants when possible (no promise; 403 thrown), else the full async path. */
function decideNow<R>(
  guard: Guard,
  request: RequestLike,
  spec: RouteSpec<R>,
  identity: Identity,
  resolved: string | Promise<string>,
): GenAuthContext | Promise<GenAuthContext> {
  if (typeof resolved !== 'string') return finish(guard, request, spec, identity, resolved);
  const decision = guard.authorizeCached(identity.userId, resolved, spec.requirement, spec.route);
  if (decision === undefined) return finish(guard, request, spec, identity, resolved);
  if (!decision.allowed) throw new PermissionDeniedError(resolved, spec.requirement.actions, guard.options.realm);
  return { identity, decision };
}

async function finish<R>(
  guard: Guard,
  request: RequestLike,
  spec: RouteSpec<R>,
  identity: Identity,
  resolved: string | Promise<string>,
): Promise<GenAuthContext> {
  let resource: string;
  try {
    resource = typeof resolved === 'string' ? resolved : await resolved;
  } catch (cause) {
    throw new GuardInternalError({ cause });
  }
  const decision = await guard.authorize(identity.userId, resource, spec.requirement, spec.route, { request, identity });
  if (!decision.allowed) throw new PermissionDeniedError(resource, spec.requirement.actions, guard.options.realm);
  return { identity, decision };
}
