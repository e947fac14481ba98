import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RouteGenericInterface,
} from 'fastify';
import fp from 'fastify-plugin';
import type { ApiModeOptions } from '../core/enforce/api.js';
import type { ResourceSource } from '../core/enforce/route.js';
import type { GenAuthContext, RouteOptions } from '../core/types.js';
import type { GuardOptions } from '../options.js';
import { optionObject } from '../options/checks.js';
import type { Requirement } from '../policy/decide.js';
import { createFastifyGuard } from './fastify/guard.js';
import { routeConfigSpec } from './fastify/route-config.js';
import { handleUnrouted } from './framework-errors.js';
import type { FastifyWebhookOptions, WebhookHandler } from './fastify/webhook.js';
import type { WebhookOptions } from '../webhooks/options.js';
import type { AdapterGuard } from './guard-controls.js';
import { recordRoute } from './report/fastify.js';

export * from './exports.js';
export { createFastifyGuard, fastifyRequest } from './fastify/guard.js';
export { genauthFrameworkErrors } from './framework-errors.js';
export { unguardedRoutes, warnUnguarded } from './report/fastify.js';
export type { UnguardedReason, UnguardedRoute, WarnLogger } from './report/routes.js';
export type { FrameworkErrorReply, FrameworkErrorRequest } from './framework-errors.js';
export type { FastifyWebhookOptions, WebhookHandler } from './fastify/webhook.js';

/** The request a resource function receives: `params` as matched by Fastify's router. */
export type FastifyResourceRequest = FastifyRequest<{ Params: Record<string, string> }>;

/**
 * The route generic a resource function sees: the route's own (`app.post<{ Params: ... }>(...)`), or,
 * where it names no `Params`, the router's string dictionary.
 */
export type ResourceRouteGeneric<RG extends RouteGenericInterface> = unknown extends RG['Params']
  ? Omit<RG, 'Params'> & { Params: Record<string, string> }
  : RG;

/** Route-level configuration: `config: { genauth: ... }` on a route. */
export type GenAuthRouteConfig =
  | {
      /**
       * A resource code, or a function of the request: its `params` and `query` as the route's schema
       * gives them to the handler (validated copies); the body is not parsed yet.
       */
      resource: ResourceSource<FastifyResourceRequest>;
      requirement: Requirement;
      route?: RouteOptions;
    }
  /** No check on this route; with `api` set, API mode skips it too. */
  | { public: true };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by genauth-guard: the verified identity and, after a permission check, the decision. */
    genauth: GenAuthContext | null;
  }
  interface FastifyInstance {
    /** The guard registered by the genauth-guard plugin. */
    genauth: FastifyGuard;
  }
  interface FastifyContextConfig {
    /** genauth-guard route configuration. */
    genauth?: GenAuthRouteConfig;
  }
}

/** Options of the {@link genauthGuard} plugin. */
export interface FastifyGuardOptions extends GuardOptions<FastifyRequest> {
  /**
   * Throw errors to Fastify's error handler instead of answering with problem+json. The errors carry
   * `statusCode` and `headers`, so Fastify's default handler gets status and headers right.
   * @default false
   */
  passErrors?: boolean;
  /**
   * API mode on every route of the instance (and on requests no route matches, as on Express): each
   * request is authorized by its method and raw path against the user's API grants. Routes with
   * `config: { genauth: { public: true } }` and `api.publicPaths` are skipped. A route's own
   * `config.genauth` requirement is checked as well, after it.
   * @default undefined (off)
   */
  api?: ApiModeOptions;
  /**
   * The GenAuth webhook route at `path` (POST), public, in its own encapsulated context: its body is
   * read raw (JSON or form, up to `maxBytes`) whatever parsers the app has, and the secret is checked
   * before the body is read. See docs/genauth-setup.md, "Webhooks".
   * @default undefined (no route)
   */
  webhook?: FastifyWebhookOptions;
}

/**
 * A hook usable as `onRequest` or `preHandler`, on an instance over HTTP/1.1 or HTTP/2 (`http2: true`):
 * its request and reply are typed for any server Fastify runs on.
 */
export type GenAuthHook<RG extends RouteGenericInterface = RouteGenericInterface> = (
  request: FastifyRequest<RG, RawServerBase, RawRequestDefaultExpression<RawServerBase>>,
  reply: FastifyReply<RG, RawServerBase, RawRequestDefaultExpression<RawServerBase>, RawReplyDefaultExpression<RawServerBase>>,
) => Promise<FastifyReply | undefined>;

/** The guard the plugin decorates the instance with (`fastify.genauth`). Methods work when taken off it. */
export interface FastifyGuard extends Omit<AdapterGuard<GenAuthHook, FastifyResourceRequest>, 'requirePermission'> {
  /**
   * A hook that authenticates the caller and requires `requirement` on `resource`. Generic over the
   * route generic: on a route typed `app.post<{ Params: { id: string } }>(...)`, a resource function's
   * `req.params` is `{ id: string }` (else the router's `Record<string, string>`).
   * @example fastify.post('/servers/:id/start', { preHandler: fastify.genauth.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start') }, handler)
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission<RG extends RouteGenericInterface = RouteGenericInterface>(
    resource: ResourceSource<FastifyRequest<ResourceRouteGeneric<RG>>>,
    requirement: Requirement,
    route?: RouteOptions,
  ): GenAuthHook<RG>;
  /** A hook that only authenticates (sets `request.genauth.identity`). */
  authenticate(): GenAuthHook;
  /**
   * API mode for chosen routes or scopes: a hook that authorizes the request by its method and raw path
   * against the user's API grants. For the whole instance, use the plugin's `api` option instead.
   * Public paths pass without a token and leave `request.genauth` null.
   * @example fastify.addHook('onRequest', fastify.genauth.api({ publicPaths: ['/health'] }))
   * @throws TypeError naming the option when `options` is malformed.
   */
  api(options?: ApiModeOptions): GenAuthHook;
  /**
   * The webhook handler alone, for a route of your own: it takes `request.rawBody` (a raw-body plugin)
   * or `request.body` as your parsers left it. The plugin's `webhook` option is the simpler way.
   * @example fastify.post('/hooks/genauth', { config: { genauth: { public: true } } }, fastify.genauth.webhook({ secret }))
   * @throws TypeError naming the option when `options` is malformed.
   */
  webhook(options: WebhookOptions): WebhookHandler;
  /** Closes the guard (see `Guard.close`: from then on it answers 503); the plugin does so on `onClose`. */
  close(): Promise<void>;
}

/** Fastify's own register options (`RegisterOptions`), which Fastify hands the plugin with ours. */
const FASTIFY_REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'];

/**
 * Whether `fastify` is the root instance. Fastify makes each encapsulated context with
 * `Object.create(parent)`, and the root is a plain object; a `fastify-plugin` wrapper shares its parent's.
 */
function isRoot(fastify: FastifyInstance): boolean {
  const proto = Object.getPrototypeOf(fastify) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

const plugin: FastifyPluginAsync<FastifyGuardOptions> = async (fastify: FastifyInstance, options) => {
  // Inside an encapsulated plugin, our onRoute and onRequest hooks reach that plugin's routes alone: a
  // `config.genauth` on a route of a sibling or of the parent would be neither checked nor enforced.
  if (!isRoot(fastify)) {
    throw new TypeError(
      'genauth-guard: register genauthGuard on the root instance (or in a fastify-plugin wrapper of it), not inside an encapsulated plugin: ' +
        'routes outside that plugin would run with their config.genauth unchecked. To guard one scope only, add a hook there: ' +
        "scope.addHook('onRequest', fastify.genauth.api()) or fastify.genauth.requirePermission(...)",
    );
  }
  // Fastify's register options are Fastify's: leave them out, check all the rest.
  const ours: Record<string, unknown> = { ...optionObject(options, 'options') };
  for (const key of FASTIFY_REGISTER_KEYS) delete ours[key];
  const { routeHook, unrouted, registerWebhook, ...guard } = createFastifyGuard(ours as unknown as FastifyGuardOptions);
  try {
    // For genauthFrameworkErrors: requests Fastify's router refuses report the root instance as `server`.
    if (unrouted !== undefined) handleUnrouted(fastify, unrouted);
    fastify.decorateRequest('genauth', null);
    fastify.decorate('genauth', guard);
    // Route configs are checked when the route is added (a mistake fails `ready()`, not a request).
    fastify.addHook('onRoute', (route) => {
      const config = route.config?.genauth;
      if (config !== undefined) routeConfigSpec(config);
      recordRoute(guard, route, ours.api !== undefined);
    });
    // One global hook (it also covers routes added before the plugin loaded): route config, before body parsing.
    fastify.addHook('onRequest', routeHook);
    fastify.addHook('onClose', async () => guard.close());
    if (registerWebhook !== undefined) await registerWebhook(fastify);
  } catch (error) {
    // Refused after the guard was made (`genauth` decorated already, the plugin registered twice, the
    // webhook route taken): no onClose may close it, and its Redis subscription and warm-up would outlive the app.
    await guard.close();
    throw error;
  }
};

/**
 * The genauth-guard Fastify plugin (Fastify 5). Decorates `fastify.genauth` and `request.genauth`,
 * enforces `config.genauth` on routes, and closes the guard with the instance.
 * @example
 * await fastify.register(genauthGuard, { genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } });
 * fastify.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, handler);
 * @throws TypeError naming the option when the configuration is wrong, or when registered anywhere but on
 * the root instance (inside an encapsulated plugin): registration fails.
 */
export const genauthGuard = fp(plugin, { fastify: '5.x', name: 'genauth-guard' });
