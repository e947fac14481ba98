import { normalizeRequirement, type NormalizedRequirement, type Requirement } from '../policy/decide.js';
import { GuardInternalError, PermissionDeniedError } from '../errors.js';
import type { GenAuthContext, Guard, RouteOptions } from '../guard.js';
import type { RequestLike } from '../request.js';

/** A resource code, or a function of the framework's request (sync or async) that returns one. */
export type ResourceSource<R> = string | ((request: R) => string | Promise<string>);

/** A route's checked, frozen specification, built once when the route is defined. */
export interface RouteSpec<R> {
  resolve: (request: R) => string | Promise<string>;
  requirement: NormalizedRequirement;
  route: RouteOptions;
}

/** Validates a route's arguments at definition time: mistakes throw a `TypeError` before any request. */
export function routeSpec<R>(resource: ResourceSource<R>, requirement: Requirement, route: RouteOptions = {}): RouteSpec<R> {
  if (typeof resource === 'string') {
    if (resource === '') throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  } else if (typeof resource !== 'function') {
    throw new TypeError('genauth-guard: the resource must be a non-empty string or a function');
  }
  const resolve = typeof resource === 'string' ? () => resource : resource;
  return { resolve, requirement: normalizeRequirement(requirement), route: { ...route } };
}

/**
 * The whole check for one request, shared by every adapter: authenticate, resolve the resource,
 * decide. Resolves the context to attach; rejects with a GuardError (400/401/403/503/500).
 */
export async function enforce<R>(guard: Guard, request: RequestLike, spec: RouteSpec<R>, native: R): Promise<GenAuthContext> {
  const identity = await guard.authenticate(request);
  let resource: string;
  try {
    const resolved = spec.resolve(native);
    // Most resource functions are synchronous: only a promise is awaited (one microtask less per request).
    resource = typeof resolved === 'string' ? resolved : await resolved;
  } catch (cause) {
    throw new GuardInternalError({ cause });
  }
  const decision = await guard.authorize(identity.userId, resource, spec.requirement, spec.route, { request, identity });
  if (!decision.allowed) throw new PermissionDeniedError(resource, spec.requirement.actions, guard.options.realm);
  return { identity, decision };
}
