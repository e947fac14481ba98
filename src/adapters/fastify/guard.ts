import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiModeSpec, instanceApiMode, type ApiModeSpec } from '../../core/enforce/api.js';
import { routeSpec, type ResourceSource } from '../../core/enforce/route.js';
import { createGuard } from '../../core/guard.js';
import type { GenAuthContext } from '../../core/types.js';
import { unevaluablePathError, type GuardError } from '../../errors.js';
import { splitAdapterOptions } from '../../options.js';
import { optionalBoolean } from '../../options/checks.js';
import { asGuardError, problemResponse } from '../../problem.js';
import { NodeRequestView, type RequestLike } from '../../request.js';
import { clientGone } from '../aborted.js';
import type { UnroutedHandler } from '../framework-errors.js';
import { guardControls } from '../guard-controls.js';
import { markGuard, type GuardMark } from '../report/marker.js';
import { fastifyRouterRules } from '../router-rules.js';
import { createRuntime, type FrameworkBinding } from '../runtime.js';
import type { FastifyGuard, FastifyGuardOptions, FastifyResourceRequest, GenAuthHook } from '../fastify.js';
import { PUBLIC_ROUTE, routeConfigSpecs } from './route-config.js';
import { fastifyTarget, notRoutedAsPath } from './target.js';
import { createWebhookReceiver } from '../../webhooks/receiver.js';
import { webhookHandler, webhookRoute } from './webhook.js';

type HookDone = (error?: Error) => void;
/** What an async hook resolves: the sent or hijacked reply stops the lifecycle, undefined continues. */
type Answer = FastifyReply | undefined;
/** The plugin's own `onRequest` hook, in callback style so a cached decision continues synchronously. */
export type RouteHook = (request: FastifyRequest, reply: FastifyReply, done: HookDone) => void;

/**
 * The core's view of a Fastify request. Its target is `request.raw.url`, the target Fastify routes: as
 * received, or as the instance's `rewriteUrl` rewrote it (Fastify then keeps the received one in
 * `raw.originalUrl`, which is never judged: an alias the client sent must not be judged in place of the
 * route that runs), with the mount path in front when an Express app mounted the instance
 * (`fastifyTarget`). Fastify routes on a decoded, optionally slash- and case-insensitive path, but
 * the guard judges the same raw string as on every other adapter.
 */
export function fastifyRequest(request: FastifyRequest): RequestLike {
  return new NodeRequestView(request.raw, fastifyTarget(request.raw));
}

/** With the instance's router options: ALLOW patterns and public paths match no wider than find-my-way. */
function fastifyApiRequest(request: FastifyRequest): RequestLike {
  return new NodeRequestView(request.raw, fastifyTarget(request.raw), fastifyRouterRules(request.server));
}

/** A Buffer, so Fastify sends the content type as given (it appends a charset to JSON-ish strings). */
function answer(error: GuardError, reply: FastifyReply): FastifyReply {
  const problem = problemResponse(error);
  return reply.code(problem.status).headers(problem.headers).send(Buffer.from(problem.body));
}

/**
 * The parts every Fastify binding shares: a client that left has its reply hijacked, which stops Fastify
 * without writing. A route or authentication check refuses a target the router did not read as a path
 * (`notRoutedAsPath`) as bad input, before the token, as API mode does in the core.
 */
function common(realm: string) {
  return {
    view(request: FastifyRequest): RequestLike {
      if (notRoutedAsPath(request.raw.url)) throw unevaluablePathError(realm);
      return fastifyRequest(request);
    },
    apiView: fastifyApiRequest,
    attach(request: FastifyRequest, context: GenAuthContext): void {
      request.genauth = context;
    },
    gone: (request: FastifyRequest, reply: FastifyReply): boolean => clientGone(request.raw, reply.raw),
  };
}

/** Async hooks (`preHandler: guard.requirePermission(...)`): returning the sent or hijacked reply stops the lifecycle. */
function hookBinding(passErrors: boolean, realm: string): FrameworkBinding<FastifyRequest, FastifyReply, undefined, Answer> {
  return {
    ...common(realm),
    proceed: () => undefined,
    refuse(error, _request, reply) {
      if (passErrors || reply.sent) throw error;
      return answer(error, reply);
    },
    abandon: (_request, reply) => reply.hijack(),
  };
}

/** Callback hooks (the plugin's `onRequest`): `then` is what runs once the check passed (`done`, or the next check). */
function callbackBinding(passErrors: boolean, realm: string, then: RouteHook): FrameworkBinding<FastifyRequest, FastifyReply, HookDone, void> {
  return {
    ...common(realm),
    proceed: then,
    refuse(error, _request, reply, done) {
      if (passErrors || reply.sent) return done(error);
      answer(error, reply);
    },
    abandon(_request, reply) {
      reply.hijack();
    },
  };
}

/** Builds the decorator object and the hooks the plugin installs. Exported for tests and custom wiring. */
export function createFastifyGuard(
  options: FastifyGuardOptions,
): FastifyGuard & { routeHook: RouteHook; unrouted: UnroutedHandler | undefined; registerWebhook: ((fastify: FastifyInstance) => Promise<void>) | undefined } {
  const { guard: guardOptions, own } = splitAdapterOptions(options, ['passErrors', 'api', 'webhook']);
  const passErrors = optionalBoolean(own.passErrors, 'passErrors', false);
  // Validated now, before a guard exists to be left open: a mistake fails registration, not a request.
  const instanceApi = instanceApiMode(own);
  const webhookOn = own.webhook === undefined ? undefined : webhookRoute(own.webhook);
  const core = createGuard(guardOptions);
  const hooks = createRuntime(core, hookBinding(passErrors, core.realm));
  const specOf = routeConfigSpecs();

  /**
   * The matched route's `config.genauth` compiled (undefined when it has none). A route declared before
   * the plugin loaded escaped the `onRoute` check: a malformed config of such a route is refused (500)
   * here, never let through nor thrown (after API mode's wait, a throw would be an unhandled rejection).
   */
  function routeConfigOf(request: FastifyRequest, reply: FastifyReply, done: HookDone): ReturnType<typeof specOf> | undefined | null {
    const config = request.routeOptions.config?.genauth;
    if (config === undefined) return undefined;
    try {
      return specOf(config);
    } catch (error) {
      routeBinding.refuse(asGuardError(error), request, reply, done);
      return null;
    }
  }

  /** The matched route's `config.genauth`, after instance-wide API mode when that is on. */
  const routeCheck: RouteHook = (request, reply, done) => {
    const spec = routeConfigOf(request, reply, done);
    // null: refused already.
    if (spec === null) return;
    if (spec === undefined || spec === PUBLIC_ROUTE) return done();
    routes.route(spec, request as FastifyResourceRequest, reply, done);
  };
  const routeBinding = callbackBinding(passErrors, core.realm, (_request, _reply, done) => done());
  const routes = createRuntime(core, routeBinding);
  const apiThenRoute = createRuntime(core, callbackBinding(passErrors, core.realm, routeCheck));

  /**
   * An async hook running one check of the runtime; a synchronous throw (passErrors) becomes a
   * rejection. A reply is thenable (it settles once sent): the hook's promise adopts it, as an async
   * function returning it would.
   */
  function hook(run: (request: FastifyRequest, reply: FastifyReply) => Answer | Promise<Answer>, mark: GuardMark): GenAuthHook {
    // Typed for any server (HTTP/2 too); what is read of the request and reply is the same on each.
    return markGuard(function genauthHook(request: FastifyRequest, reply: FastifyReply) {
      try {
        return Promise.resolve(run(request, reply)) as Promise<Answer>;
      } catch (error) {
        return Promise.reject(error);
      }
    }, mark) as unknown as GenAuthHook;
  }
  const apiHook = (spec: ApiModeSpec): GenAuthHook => hook((request, reply) => hooks.api(spec, request, reply, undefined), { kind: 'api', spec });

  const unroutedHook = instanceApi === undefined ? undefined : apiHook(instanceApi);
  const registerWebhook = webhookOn?.(core);

  return {
    requirePermission(resource, requirement, route) {
      // The route generic is the caller's typing only: at run time every request is a FastifyRequest.
      const spec = routeSpec(resource as ResourceSource<FastifyResourceRequest>, requirement, route);
      return hook((request, reply) => hooks.route(spec, request as FastifyResourceRequest, reply, undefined), { kind: 'permission' });
    },
    authenticate: () => hook((request, reply) => hooks.authenticate(request, reply, undefined), { kind: 'authenticate' }),
    api: (apiOptions) => apiHook(apiModeSpec(apiOptions)),
    webhook: (webhookOptions) => webhookHandler(createWebhookReceiver(core, webhookOptions)),
    registerWebhook,
    /** Instance-wide API mode (unless the route is public), then the matched route's `config.genauth`. */
    routeHook(request, reply, done) {
      if (instanceApi === undefined) return routeCheck(request, reply, done);
      const spec = routeConfigOf(request, reply, done);
      if (spec === null) return;
      if (spec === PUBLIC_ROUTE) return done();
      apiThenRoute.api(instanceApi, request, reply, done);
    },
    // The guard answers (400 for a target it cannot evaluate); should it let the target through, there is
    // still no route for it, so Fastify's own error stands. (An answered hook resolves once the reply is
    // sent, with no value: `sent` tells.)
    unrouted:
      unroutedHook === undefined
        ? undefined
        : (request, reply) => unroutedHook(request as unknown as FastifyRequest, reply as FastifyReply).then(() => reply.sent),
    ...guardControls(core),
  };
}
