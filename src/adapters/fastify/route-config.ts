import { routeSpec, type RouteSpec } from '../../core/enforce/route.js';
import { fail, optionObject, refuseUnknownKeys } from '../../options/checks.js';
import type { FastifyResourceRequest, GenAuthRouteConfig } from '../fastify.js';

/** Whether a route's `config.genauth` opens it (no check; API mode skips it too). */
export function isPublicRoute(config: GenAuthRouteConfig): boolean {
  // Read at request time too, of routes the onRoute check never saw: whatever the value, never throw here.
  return typeof config === 'object' && config !== null && 'public' in config && config.public === true;
}

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

/** Route configs compiled once per route and remembered by identity (the HEAD twin shares it). */
export function routeConfigSpecs(): (config: GenAuthRouteConfig) => RouteSpec<FastifyResourceRequest> | undefined {
  const compiled = new WeakMap<object, RouteSpec<FastifyResourceRequest>>();
  return (config) => {
    if (isPublicRoute(config)) return undefined;
    let spec = compiled.get(config);
    if (spec === undefined) {
      spec = routeConfigSpec(config);
      if (spec !== undefined) compiled.set(config, spec);
    }
    return spec;
  };
}
