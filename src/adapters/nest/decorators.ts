import 'reflect-metadata';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { routeSpec, type ResourceSource, type RouteSpec } from '../../core/enforce/route.js';
import type { GenAuthContext, RouteOptions } from '../../core/types.js';
import type { Requirement } from '../../policy/decide.js';
import { GENAUTH_ATTACHED, GENAUTH_ROUTE_POLICY } from './constants.js';
import { isPlatformExchange } from './platform.js';

/**
 * What a resource function receives: the platform's request (Express `Request` or `FastifyRequest`),
 * both of which carry the route `params` Nest matched, and the `body` (Nest guards run after the
 * platform parsed it, on Fastify too).
 */
export interface NestResourceRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  method: string;
  url: string;
}

/** The policy a route carries. Handler metadata overrides class metadata as a whole. */
export type RoutePolicy =
  | { readonly kind: 'public' }
  | { readonly kind: 'authenticate' }
  | { readonly kind: 'permission'; readonly spec: RouteSpec<never> };

/** A decorator usable on a controller class or on a handler. */
export type ClassOrMethodDecorator = ClassDecorator & MethodDecorator;

function policyDecorator(policy: RoutePolicy, name: string): ClassOrMethodDecorator {
  const decorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const holder: object = descriptor?.value ?? target;
    // Two policies on one target would leave the outcome to decorator order: refuse at definition.
    if (Reflect.hasOwnMetadata(GENAUTH_ROUTE_POLICY, holder)) {
      const where = key === undefined ? (target as { name?: string }).name : String(key);
      throw new TypeError(`genauth-guard: ${where} has more than one of @RequirePermission/@Public/@Authenticated (@${name}); combine actions with allOf/anyOf`);
    }
    const frozen = Object.freeze(policy);
    CHECKED.set(frozen, frozen);
    Reflect.defineMetadata(GENAUTH_ROUTE_POLICY, frozen, holder);
  };
  return decorator as ClassOrMethodDecorator;
}

/** Each policy value the guard has read, as the policy it stands for (the decorators' map to themselves). */
const CHECKED = new WeakMap<object, RoutePolicy>();

/** A policy another copy of this package wrote, or app code with `SetMetadata`, checked as the decorators check theirs. */
function rebuilt(value: unknown): RoutePolicy {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (typeof value === 'object' && value !== null && (kind === 'public' || kind === 'authenticate')) return Object.freeze({ kind });
  const spec = (value as { spec?: unknown } | null)?.spec as Partial<RouteSpec<never>> | null | undefined;
  if (kind === 'permission' && typeof spec === 'object' && spec !== null && typeof spec.resolve === 'function') {
    const mode = spec.requirement?.mode;
    if (mode === 'allOf' || mode === 'anyOf') {
      const requirement = { [mode]: spec.requirement?.actions } as unknown as Requirement;
      return Object.freeze({ kind, spec: routeSpec(spec.resolve, requirement, spec.route) as unknown as RouteSpec<never> });
    }
  }
  throw new TypeError(
    `genauth-guard: the metadata under "${GENAUTH_ROUTE_POLICY}" is not a policy @RequirePermission, @Public or @Authenticated wrote; use the decorators, not SetMetadata`,
  );
}

/**
 * The route policy a metadata value holds: `undefined` for none, else the policy. A value none of the
 * decorators could have written (a `SetMetadata` under their key: `{ kind: 'permission' }` without a
 * spec, a requirement with no action, a bare string, `null`) is a `TypeError`, which the guard answers
 * as a `500`: read as no policy or as a bare permission, it let the caller through on a token alone.
 * @throws TypeError for a malformed policy.
 */
export function checkedPolicy(value: unknown): RoutePolicy | undefined {
  if (value === undefined) return undefined;
  const known = typeof value === 'object' && value !== null ? CHECKED.get(value) : undefined;
  if (known !== undefined) return known;
  const policy = rebuilt(value);
  if (typeof value === 'object' && value !== null) CHECKED.set(value, policy);
  return policy;
}

/**
 * Requires `requirement` on `resource` for a handler, or for every handler of a controller. A handler's
 * own decorator overrides its class's.
 * @example
 * \@Post(':id/start')
 * \@RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
 * start() {}
 * @throws TypeError at definition when the resource or requirement is malformed.
 */
export function RequirePermission<R = NestResourceRequest>(
  resource: ResourceSource<R>,
  requirement: Requirement,
  route?: RouteOptions,
): ClassOrMethodDecorator {
  const spec = routeSpec(resource, requirement, route) as unknown as RouteSpec<never>;
  return policyDecorator({ kind: 'permission', spec }, 'RequirePermission');
}

/**
 * Opens a handler or controller to anonymous callers: no token is read, API mode skips it.
 * @example \@Get('health') \@Public() health() {}
 */
export function Public(): ClassOrMethodDecorator {
  return policyDecorator({ kind: 'public' }, 'Public');
}

/**
 * Requires a valid token and no permission (identity only). Under API mode the API check still runs.
 * @example \@Get('me') \@Authenticated() me(\@GenAuth('identity') identity: Identity) {}
 */
export function Authenticated(): ClassOrMethodDecorator {
  return policyDecorator({ kind: 'authenticate' }, 'Authenticated');
}

/**
 * The context the guard attached to a request, or `undefined` (a `@Public()` route). Like `@GenAuth()`,
 * it reads only what the guard attached: a `genauth` property set on the request by anything else does not count.
 */
export function genauthContextOf(request: unknown): GenAuthContext | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  return (request as { [GENAUTH_ATTACHED]?: GenAuthContext })[GENAUTH_ATTACHED];
}

/**
 * Parameter decorator: the verified identity and decision the guard attached (`undefined` on a public
 * route, and always outside HTTP, where the guard verifies nothing). It reads only what the guard
 * attached: a `genauth` property set on the request by anything else does not count. Pass `'identity'` or `'decision'`
 * to get one part.
 * @example start(\@GenAuth() auth: GenAuthContext, \@GenAuth('identity') identity: Identity) {}
 */
export const GenAuth: (field?: keyof GenAuthContext) => ParameterDecorator = createParamDecorator(
  (field: keyof GenAuthContext | undefined, context: ExecutionContext) => {
    // Outside HTTP the first argument is the RPC payload, the socket or the GraphQL parent value: a
    // `genauth` field there is the sender's data, never something the guard verified.
    if (context.getType() !== 'http') return undefined;
    const http = context.switchToHttp();
    // Nor in an 'http' context whose arguments are a library's payload (see isPlatformExchange).
    if (!isPlatformExchange(http.getRequest(), http.getResponse())) return undefined;
    // What the guard attached, never a `genauth` app code or input put on the request before it ran.
    const attached = (http.getRequest() as { [GENAUTH_ATTACHED]?: GenAuthContext })[GENAUTH_ATTACHED];
    return field === undefined ? attached : attached?.[field];
  },
);
