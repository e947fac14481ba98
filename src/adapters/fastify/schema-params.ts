/**
 * What a route config's resource function reads of the route parameters and the query string. Route
 * config is checked in `onRequest`, before Fastify validates the request: with a `params` (or
 * `querystring`) schema, the handler gets them as the schema makes them (Fastify's default validator
 * coerces `/servers/09`, `9.0` and `+9` to the integer 9; a type provider's compiler returns a value
 * of its own), while `request.params` and `request.query` still hold the strings the router and the
 * query parser produced. A code built from those (`ecs:09`) escaped a DENY on the server the handler
 * then runs on (`ecs:9`). So the resource function gets them as Fastify's own validation of this route
 * will give them to the handler, on copies: the request's own are left for Fastify to validate once.
 */
import type { FastifyRequest } from 'fastify';
import type { RouteSpec } from '../../core/enforce/route.js';

/** A compiled validator: Ajv's (a boolean, mutating its input; `schemaEnv` set) or an app's compiler's. */
type Validator = ((data: unknown, context?: { parentData: object; parentDataProperty: string }) => unknown) & { schemaEnv?: unknown };

/** The request parts Fastify validates before the handler that a resource function can read now: Fastify's name, the request's property. */
const PARTS = [
  ['params', 'params'],
  ['querystring', 'query'],
] as const;

type Property = (typeof PARTS)[number][1];

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * One part as Fastify's `validateParam` (lib/validation.js) makes it, on a copy: Ajv coerces the copy
 * in place, a compiler's `{ value }` replaces it, an asynchronous validator is waited for. A validator
 * that fails leaves the copy as it leaves Fastify's (the handler then gets a 400, or, with
 * `attachValidation`, those values); one that throws fails the check (500), as it fails the request.
 */
function validated(validate: Validator, value: unknown): unknown {
  const holder: { value: unknown } = { value: typeof value === 'object' && value !== null ? { ...value } : value };
  const result = validate.schemaEnv === undefined ? validate(holder.value) : validate(holder.value, { parentData: holder, parentDataProperty: 'value' });
  if (isThenable(result)) {
    const done = (): unknown => holder.value;
    return Promise.resolve(result).then(done, done);
  }
  if (typeof result === 'object' && result !== null && !(result as { error?: unknown }).error && 'value' in result) return (result as { value: unknown }).value;
  return holder.value;
}

/**
 * The request as the resource function should see it: itself when the route has no `params` or
 * `querystring` schema, else a view of it (its prototype is the request) whose `params` and `query`
 * are what Fastify's validation of the route makes of copies of them.
 */
export function schemaParams<R extends FastifyRequest>(request: R): R | Promise<R> {
  const getter = (request as { getValidationFunction?: unknown }).getValidationFunction;
  if (typeof getter !== 'function') return request;
  let parts: [Property, unknown][] | undefined;
  for (const [part, property] of PARTS) {
    const validate = (getter as (part: string) => unknown).call(request, part) as Validator | null | undefined;
    if (typeof validate === 'function') (parts ??= []).push([property, validated(validate, request[property])]);
  }
  if (parts === undefined) return request;
  const view = (values: unknown[]): R =>
    Object.create(
      request,
      Object.fromEntries(parts.map(([property], i) => [property, { value: values[i], enumerable: true, writable: true, configurable: true }])),
    ) as R;
  const values = parts.map(([, value]) => value);
  return values.some((value) => value instanceof Promise) ? Promise.all(values).then(view) : view(values);
}

/** A route config's spec whose resource function reads params and query as validated ({@link schemaParams}). */
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
