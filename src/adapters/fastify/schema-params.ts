/**
 * What a route config's resource function reads of the route parameters. Route config is checked in
 * `onRequest`, before Fastify validates the request: with a `params` schema, the handler gets the
 * parameters as the schema makes them (Fastify's default validator coerces `/servers/09`, `9.0` and
 * `+9` to the integer 9; a type provider's compiler returns a value of its own), while `request.params`
 * still holds the strings the router matched. A code built from those (`ecs:09`) escaped a DENY on the
 * server the handler then runs on (`ecs:9`). So the resource function gets the parameters as
 * Fastify's own validation of this route will give them to the handler, on a copy: `request.params`
 * is left for Fastify to validate once, as always.
 */
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../../core/enforce/route.js';

/** A compiled validator: Ajv's (a boolean, mutating its input; `schemaEnv` set) or an app's compiler's. */
type Validator = ((data: unknown, context?: { parentData: object; parentDataProperty: string }) => unknown) & { schemaEnv?: unknown };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The request with `params` replaced, everything else read through to the request itself. */
function withParams<R extends FastifyRequest>(request: R, params: unknown): R {
  return Object.create(request, { params: { value: params, enumerable: true, writable: true, configurable: true } }) as R;
}

/**
 * The request as the resource function should see it: itself when the route has no `params` schema,
 * else a view whose `params` are what Fastify's validation of the route makes of a copy of them
 * (as `validateParam` in Fastify's lib/validation.js: Ajv coerces the copy in place, a compiler's
 * `{ value }` replaces it, an asynchronous validator is waited for). A validator that fails leaves the
 * copy as it left Fastify's (the handler then gets a 400, or, with `attachValidation`, those params);
 * one that throws fails the check (500), as it fails the request.
 */
export function schemaParams<R extends FastifyRequest>(request: R): R | Promise<R> {
  const getter = (request as { getValidationFunction?: unknown }).getValidationFunction;
  if (typeof getter !== 'function') return request;
  const validate = (getter as (part: string) => unknown).call(request, 'params') as Validator | null | undefined;
  if (typeof validate !== 'function') return request;
  const holder: { params: unknown } = { params: { ...(request.params as object) } };
  const result = validate.schemaEnv === undefined ? validate(holder.params) : validate(holder.params, { parentData: holder, parentDataProperty: 'params' });
  if (isThenable(result)) {
    const done = (): R => withParams(request, holder.params);
    return Promise.resolve(result).then(done, done);
  }
  if (typeof result === 'object' && result !== null && !(result as { error?: unknown }).error && 'value' in result) {
    holder.params = (result as { value: unknown }).value;
  }
  return withParams(request, holder.params);
}

/** A route config's spec whose resource function reads the parameters as validated ({@link schemaParams}). */
export function withSchemaParams<R extends FastifyRequest>(spec: RouteSpec<R>): RouteSpec<R> {
  const resolve = spec.resolve;
  return Object.freeze({
    ...spec,
    resolve(request: R): string | Promise<string> {
      const seen = schemaParams(request);
      return seen instanceof Promise ? seen.then(resolve) : resolve(seen);
    },
  });
}
