import { routeSpec, type RouteSpec } from '../../core/enforce/route.js';
import { fail, optionObject, refuseUnknownKeys } from '../../options/checks.js';
import type { FastifyResourceRequest, GenAuthRouteConfig } from '../fastify.js';
import { withSchemaParams } from './schema-params.js';

/** What a route's `config.genauth` compiles to when it opens the route (no check; API mode skips it too). */
export const PUBLIC_ROUTE = Symbol('genauth-guard public route');

/**
 * A route's `config.genauth`, checked like every options object of ours: `{ public: true }` alone, or
 * `resource`, `requirement` and `route`. The spec to enforce, or undefined for a public route.
 * @throws TypeError naming the option (`config.genauth.requirment`, did you mean ...).
 */
export function routeConfigSpec(value: unknown): RouteSpec<FastifyResourceRequest> | undefined {
  const config = optionObject(value, 'config.genauth');
  if ('public' in config) {
    refuseUnknownKeys(config, ['public'], 'config.genauth');
    if (config.public !== true) fail('config.genauth.public', 'must be true (leave config.genauth out for a checked route)');
    return undefined;
  }
  refuseUnknownKeys(config, ['resource', 'requirement', 'route'], 'config.genauth');
  const { resource, requirement, route } = config as Extract<GenAuthRouteConfig, { resource: unknown }>;
  return routeSpec(resource, requirement, route);
}

/**
 * Route configs compiled once per route and remembered by identity (the HEAD twin shares it): the spec
 * (a resource function reading params and query as the route's schema validates them), or
 * {@link PUBLIC_ROUTE}. A public config is checked too, as a route the onRoute check never saw may
 * carry `{ public: true }` beside a requirement: it throws, never opens the route.
 */
export function routeConfigSpecs(): (config: GenAuthRouteConfig) => RouteSpec<FastifyResourceRequest> | typeof PUBLIC_ROUTE {
  const compiled = new WeakMap<object, RouteSpec<FastifyResourceRequest> | typeof PUBLIC_ROUTE>();
  return (config) => {
    let spec = compiled.get(config);
    if (spec === undefined) {
      const checked = routeConfigSpec(config);
      // A resource function reads params and query as the route's schema gives them to the handler.
      spec = checked === undefined ? PUBLIC_ROUTE : typeof (config as { resource?: unknown }).resource === 'function' ? withSchemaParams(checked) : checked;
      compiled.set(config, spec);
    }
    return spec;
  };
}
