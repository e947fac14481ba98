import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { apiModeSpec, enforceApi, type ApiModeOptions, type ApiModeSpec } from '../api-mode.js';
import { createGuard, type CheckInput, type GenAuthContext, type Guard, type RouteOptions } from '../guard.js';
import { splitAdapterOptions, type GuardOptions } from '../options.js';
import { fail as failOption, optionalBoolean, optionObject, refuseUnknownKeys } from '../options/checks.js';
import type { Decision, Requirement } from '../policy/decide.js';
import { asGuardError, problemResponse } from '../problem.js';
import { NodeRequestView, type RequestLike } from '../request.js';
import { clientGone } from './aborted.js';
import { authenticateOnly, enforce, routeSpec, type ResourceSource, type RouteSpec } from './route.js';
import { fastifyRouterRules } from './router-rules.js';

export * from '../index.js';
export type { ApiModeOptions } from '../api-mode.js';

/** The request a resource function receives: `params` as matched by Fastify's router. */
export type FastifyResourceRequest = FastifyRequest<{ Params: Record<string, string> }>;

/** Route-level configuration: `config: { genauth: ... }` on a route. */
export type GenAuthRouteConfig =
  | {
      /** A resource code, or a function of the request (params are there; the body is not parsed yet). */
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
export interface FastifyGuardOptions extends GuardOptions {
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
}

type HookDone = (error?: Error) => void;
/** The plugin's own `onRequest` hook, in callback style so a cached decision continues synchronously. */
type RouteHook = (request: FastifyRequest, reply: FastifyReply, done: HookDone) => void;

/** A hook usable as `onRequest` or `preHandler`. */
export type GenAuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** The guard the plugin decorates the instance with (`fastify.genauth`). Methods work when taken off it. */
export interface FastifyGuard {
  /**
   * A hook that authenticates the caller and requires `requirement` on `resource`.
   * @example fastify.post('/servers/:id/start', { preHandler: fastify.genauth.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start') }, handler)
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission(resource: ResourceSource<FastifyResourceRequest>, requirement: Requirement, route?: RouteOptions): GenAuthHook;
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
  /** A decision outside HTTP. */
  check(input: CheckInput): Promise<Decision>;
  /** Forgets one user's cached grants. */
  invalidateUser(userId: string): void;
  /** Forgets every cached grant. */
  invalidateAll(): void;
  /** Closes connections to GenAuth (the plugin also does so on `onClose`). */
  close(): Promise<void>;
  /** The framework-neutral guard. */
  readonly core: Guard;
}

/**
 * The core's view of a Fastify request. `request.raw.url` is the target exactly as received: Fastify
 * routes on a decoded, optionally slash- and case-insensitive path, but the guard must judge the same
 * string as on every other adapter.
 */
export function fastifyRequest(request: FastifyRequest): RequestLike {
  return new NodeRequestView(request.raw);
}

/** Builds the decorator object and the hooks the plugin installs. Exported for tests and custom wiring. */
export function createFastifyGuard(options: FastifyGuardOptions): FastifyGuard & { routeHook: RouteHook } {
  const { guard: guardOptions, own } = splitAdapterOptions(options, ['passErrors', 'api']);
  const passErrors = optionalBoolean(own.passErrors, 'passErrors', false);
  const core = createGuard(guardOptions);

  /** Answers with the shared problem+json, or throws to Fastify's error handler when asked to. */
  function reject(error: unknown, reply: FastifyReply): FastifyReply {
    const guardError = asGuardError(error);
    if (passErrors || reply.sent) throw guardError;
    const answer = problemResponse(guardError);
    // A Buffer, so Fastify sends the content type as given (it appends a charset to JSON-ish strings).
    return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
  }

  /**
   * A client that left while the check waited gets neither its handler nor an answer: the reply is
   * hijacked, which stops Fastify's lifecycle without writing.
   */
  function abandoned(request: FastifyRequest, reply: FastifyReply): boolean {
    if (!clientGone(request.raw, reply.raw)) return false;
    reply.hijack();
    return true;
  }

  /**
   * Attaches the check's context, or answers its error (returning the sent or hijacked reply stops the
   * lifecycle).
   */
  async function attach(
    request: FastifyRequest,
    reply: FastifyReply,
    pending: GenAuthContext | null | Promise<GenAuthContext | null>,
  ): Promise<FastifyReply | undefined> {
    let context: GenAuthContext | null;
    try {
      context = await pending;
    } catch (error) {
      return abandoned(request, reply) ? reply : reject(error, reply);
    }
    if (abandoned(request, reply)) return reply;
    if (context !== null) request.genauth = context;
    return undefined;
  }

  /** A hook that runs `check` and attaches its context; a synchronous throw is answered like a rejection. */
  function checkHook(check: (request: FastifyRequest) => GenAuthContext | null | Promise<GenAuthContext | null>): GenAuthHook {
    return function genauthHook(request, reply) {
      let result: GenAuthContext | null | Promise<GenAuthContext | null>;
      try {
        result = check(request);
      } catch (error) {
        result = Promise.reject(error);
      }
      return attach(request, reply, result);
    };
  }

  function hookFor(spec: RouteSpec<FastifyResourceRequest>): GenAuthHook {
    return checkHook((request) => enforce(core, fastifyRequest(request), spec, request as FastifyResourceRequest));
  }

  function apiHook(spec: ApiModeSpec): GenAuthHook {
    // With the instance's router options: ALLOW patterns and public paths match no wider than find-my-way.
    return checkHook((request) => enforceApi(core, new NodeRequestView(request.raw, undefined, fastifyRouterRules(request.server)), spec));
  }
  // Validated now: a mistake fails registration, not a request.
  const instanceApi = own.api === undefined ? undefined : apiHook(apiModeSpec(own.api as ApiModeOptions));

  // Route configs are compiled once per route and remembered by identity (the HEAD twin shares it).
  const compiled = new WeakMap<object, RouteSpec<FastifyResourceRequest>>();
  function configSpec(config: GenAuthRouteConfig): RouteSpec<FastifyResourceRequest> | undefined {
    if ('public' in config && config.public === true) return undefined;
    let spec = compiled.get(config);
    if (!spec) {
      spec = routeConfigSpec(config);
      if (spec !== undefined) compiled.set(config, spec);
    }
    return spec;
  }

  /** A failed check in a callback-style hook: answer (and stop), or hand the error to Fastify. */
  function fail(error: unknown, reply: FastifyReply, done: HookDone): void {
    if (passErrors || reply.sent) return done(asGuardError(error));
    reject(error, reply);
  }

  /** The matched route's `config.genauth`, decided in callback style: a cached decision adds no promise. */
  function routeCheck(request: FastifyRequest, reply: FastifyReply, done: HookDone, config: GenAuthRouteConfig | undefined): void {
    const spec = config === undefined ? undefined : configSpec(config);
    if (spec === undefined) return done();
    let result: GenAuthContext | Promise<GenAuthContext>;
    try {
      result = enforce(core, fastifyRequest(request), spec, request as FastifyResourceRequest);
    } catch (error) {
      return fail(error, reply, done);
    }
    if (result instanceof Promise) {
      result.then(
        (context) => {
          if (abandoned(request, reply)) return;
          request.genauth = context;
          done();
        },
        (error: unknown) => {
          if (!abandoned(request, reply)) fail(error, reply, done);
        },
      );
      return;
    }
    request.genauth = result;
    done();
  }

  const guard: FastifyGuard & { routeHook: RouteHook } = {
    requirePermission: (resource, requirement, route) => hookFor(routeSpec(resource, requirement, route)),
    authenticate: () => checkHook((request) => authenticateOnly(core, fastifyRequest(request))),
    api: (apiOptions) => apiHook(apiModeSpec(apiOptions)),
    /** Instance-wide API mode (unless the route is public), then the matched route's `config.genauth`. */
    routeHook(request, reply, done) {
      const config = request.routeOptions.config?.genauth;
      if (config !== undefined && 'public' in config && config.public === true) return done();
      if (instanceApi === undefined) return routeCheck(request, reply, done, config);
      instanceApi(request, reply).then((answered) => {
        if (answered === undefined) routeCheck(request, reply, done, config);
      }, done);
    },
    check: (input) => core.check(input),
    invalidateUser: (userId) => core.invalidateUser(userId),
    invalidateAll: () => core.invalidateAll(),
    close: () => core.close(),
    core,
  };
  if (instanceApi) instanceApiOf.set(core, instanceApi);
  return guard;
}

/**
 * A route's `config.genauth`, checked like every options object of ours: `{ public: true }` alone, or
 * `resource`, `requirement` and `route`. The spec to enforce, or undefined for a public route.
 * @throws TypeError naming the option (`config.genauth.requirment`, did you mean ...).
 */
function routeConfigSpec(value: unknown): RouteSpec<FastifyResourceRequest> | undefined {
  const config = optionObject(value, 'config.genauth');
  if ('public' in config) {
    refuseUnknownKeys(config, ['public'], 'config.genauth');
    if (config.public !== true) failOption('config.genauth.public', 'must be true (leave config.genauth out for a checked route)');
    return undefined;
  }
  refuseUnknownKeys(config, ['resource', 'requirement', 'route'], 'config.genauth');
  const { resource, requirement, route } = config as Extract<GenAuthRouteConfig, { resource: unknown }>;
  return routeSpec(resource, requirement, route);
}

/** Fastify's own register options (`RegisterOptions`), which Fastify hands the plugin with ours. */
const FASTIFY_REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'];

/** The instance-wide API hook of a plugin-created guard, by its core, for {@link genauthFrameworkErrors}. */
const instanceApiOf = new WeakMap<object, GenAuthHook>();

/**
 * Fastify's `frameworkErrors` for API mode. Fastify refuses a path whose parameters are not valid
 * percent-encoding (`FST_ERR_BAD_URL`) before any hook runs; with this option the guard answers such a
 * request itself, exactly as on Express (the core judges the raw target). Other framework errors, and
 * instances without the plugin's `api` option, get Fastify's usual error answer.
 * @example const fastify = Fastify({ frameworkErrors: genauthFrameworkErrors });
 */
export function genauthFrameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const server = request.server as FastifyInstance | undefined;
  const hook = server?.genauth === undefined ? undefined : instanceApiOf.get(server.genauth.core);
  const fallback = () => void reply.send(error);
  if (hook === undefined || error.code !== 'FST_ERR_BAD_URL') return fallback();
  // The guard answers (400 for a target it cannot evaluate); should it let the target through, there is
  // still no route for it, so Fastify's own error stands.
  hook(request, reply).then((answered) => {
    if (answered === undefined) fallback();
  }, (thrown: unknown) => void reply.send(thrown));
}

const plugin: FastifyPluginAsync<FastifyGuardOptions> = async (fastify: FastifyInstance, options) => {
  // Fastify's register options are Fastify's: leave them out, check all the rest.
  const ours: Record<string, unknown> = { ...optionObject(options, 'options') };
  for (const key of FASTIFY_REGISTER_KEYS) delete ours[key];
  const { routeHook, ...guard } = createFastifyGuard(ours as unknown as FastifyGuardOptions);
  fastify.decorateRequest('genauth', null);
  fastify.decorate('genauth', guard);
  // Route configs are checked when the route is added (a mistake fails `ready()`, not a request).
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.genauth;
    if (config !== undefined) routeConfigSpec(config);
  });
  // One global hook (it also covers routes added before the plugin loaded): route config, before body parsing.
  fastify.addHook('onRequest', routeHook);
  fastify.addHook('onClose', async () => guard.close());
};

/**
 * The genauth-guard Fastify plugin (Fastify 5). Decorates `fastify.genauth` and `request.genauth`,
 * enforces `config.genauth` on routes, and closes the guard with the instance.
 * @example
 * await fastify.register(genauthGuard, { genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } });
 * fastify.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, handler);
 * @throws TypeError naming the option when the configuration is wrong (registration fails).
 */
export const genauthGuard = fp(plugin, { fastify: '5.x', name: 'genauth-guard' });
