import type { Middleware, Next, ParameterizedContext } from 'koa';
import { apiModeSpec, type ApiModeOptions } from '../core/enforce/api.js';
import { routeSpec, type ResourceSource } from '../core/enforce/route.js';
import { createGuard } from '../core/guard.js';
import type { GenAuthContext, RouteOptions } from '../core/types.js';
import { splitAdapterOptions, type GuardOptions } from '../options.js';
import { unevaluablePathError } from '../errors.js';
import { optionalBoolean } from '../options/checks.js';
import type { Requirement } from '../policy/decide.js';
import { problemResponse } from '../problem.js';
import { NodeRequestView, type RequestLike } from '../request.js';
import { receiveNodeRequest } from '../webhooks/node.js';
import type { WebhookOptions } from '../webhooks/options.js';
import { createWebhookReceiver } from '../webhooks/receiver.js';
import { clientGone } from './aborted.js';
import { guardControls, type AdapterGuard } from './guard-controls.js';
import { markGuard } from './report/marker.js';
import { routedTarget } from './routed-target.js';
import { createRuntime, type FrameworkBinding } from './runtime.js';

export * from './exports.js';
export { unguardedRoutes, warnUnguarded } from './report/koa.js';
export type { UnguardedReason, UnguardedRoute, WarnLogger } from './report/routes.js';

declare module 'koa' {
  interface DefaultState {
    /** Set by genauth-guard: the verified identity and, after a permission check, the decision. */
    genauth?: GenAuthContext;
  }
}

/** The Koa context a resource function receives (with `@koa/router`, `ctx.params` is filled). */
export type KoaContext = ParameterizedContext;

/** Options of {@link createKoaGuard}. */
export interface KoaGuardOptions extends GuardOptions<ParameterizedContext> {
  /**
   * Throw errors the Koa way instead of answering with problem+json. The errors carry `status`,
   * `headers` and `expose`, so Koa's stock handler (or yours, upstream) gets status and headers right.
   * @default false
   */
  passErrors?: boolean;
}

/** The Koa guard. Every method works when taken off the object. */
export interface KoaGuard extends AdapterGuard<Middleware, KoaContext> {
  /**
   * Middleware that authenticates the caller and requires `requirement` on `resource`.
   * @example router.post('/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), handler)
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission(resource: ResourceSource<KoaContext>, requirement: Requirement, route?: RouteOptions): Middleware;
  /** Middleware that only authenticates (sets `ctx.state.genauth.identity`). */
  authenticate(): Middleware;
  /**
   * API mode: middleware that authorizes every request by its method and path against the user's API
   * grants (`apiIdentifier`). Public paths pass without a token and leave `ctx.state.genauth` unset.
   * @example app.use(guard.api({ publicPaths: ['/health'] }))
   * @throws TypeError naming the option when `options` is malformed.
   */
  api(options?: ApiModeOptions): Middleware;
  /**
   * The GenAuth webhook route: checks the shared secret, reads the event (JSON or form) and makes the
   * invalidations it calls for (see docs/genauth-setup.md, "Webhooks"); answers 204 once they are made.
   * Reads the body itself, or takes what a body parser left (`ctx.request.rawBody` first, then
   * `ctx.request.body`). Ends the request: it never calls `next`.
   * @example router.post('/hooks/genauth', guard.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET }))
   * @throws TypeError naming the option when `options` is malformed.
   */
  webhook(options: WebhookOptions): Middleware;
}

/**
 * The target API mode judges ({@link routedTarget}). Koa copies `ctx.originalUrl` from `req.url` when it
 * creates the context, so when the Koa app is mounted in Express or Connect (`app.use('/api',
 * koa.callback())`) it lacks the mount path they stripped; they keep the whole target in
 * `req.originalUrl`, and Express the mount path in `req.baseUrl`. Where `ctx.originalUrl` is the host's
 * `req.originalUrl` shortened by that mount, the host's is judged (the URL as sent); where it is not
 * (a host middleware rewrote `req.url` before the mount), the path the Koa app runs, with the host's
 * `req.baseUrl` in front. An Express router run inside a koa-mount sets a shortened `req.originalUrl`:
 * then Koa's is judged. `req.url`, which koa-mount shortens, only for a hand-made ctx without
 * `originalUrl`.
 */
function koaTarget(ctx: ParameterizedContext): string {
  const own = ctx.originalUrl as string | undefined;
  const req = ctx.req as { originalUrl?: unknown; baseUrl?: unknown; url?: string };
  const host = req.originalUrl;
  if (own === undefined) return typeof host === 'string' ? host : (req.url ?? '');
  return typeof host === 'string' ? routedTarget(host, own, req.baseUrl) : own;
}

/**
 * The core's view of a Koa request: the full URL, never a mount-shortened path (Koa's
 * `ctx.originalUrl`, or the host's `req.originalUrl` when Express or Connect mounts the Koa app; the
 * path the Koa app runs under the host's mount path when a host middleware rewrote it). Read at once, like the view the other adapters build: two reads of objects whose shape every request
 * shares, cheaper than a view of its own class the core would read through.
 */
export function koaRequest(ctx: ParameterizedContext): RequestLike {
  return new NodeRequestView(ctx.req, koaTarget(ctx));
}

/**
 * Whether Koa cannot read the request's path: its `ctx.path` goes through Node's url.parse, which throws
 * on some absolute-form targets (`GET http://[::1/`), so the router or handler behind the guard would
 * throw a TypeError without a status, which Koa answers 500. Only a target that is not origin-form is
 * parsed here (the hot path reads one character); url.parse keeps its result on the request.
 */
function unreadablePath(ctx: ParameterizedContext): boolean {
  const url = ctx.req.url;
  if (url === undefined || url.charCodeAt(0) === 47) return false;
  try {
    void ctx.path;
    return false;
  } catch {
    return true;
  }
}

type KoaOut = Promise<unknown> | void;

/** The context is both request and response; a check decided from the caches adds no promise of its own. */
function koaBinding(passErrors: boolean, realm: string): FrameworkBinding<ParameterizedContext, ParameterizedContext, Next, KoaOut> {
  return {
    /** A path Koa cannot read is bad input (400, as API mode answers it), not the 500 of whatever reads it next. */
    view(ctx) {
      if (unreadablePath(ctx)) throw unevaluablePathError(realm);
      return koaRequest(ctx);
    },
    apiView: koaRequest,
    attach(ctx, context) {
      ctx.state.genauth = context;
    },
    proceed: (_ctx, _res, next) => next(),
    /** Answers with the shared problem+json, or throws when the user asked for that (or it is too late). */
    refuse(error, ctx) {
      if (passErrors || ctx.headerSent) throw error;
      const answer = problemResponse(error);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.body;
    },
    gone: (ctx) => clientGone(ctx.req, ctx.res),
    abandon(ctx) {
      // Koa writes nothing for the context.
      ctx.respond = false;
    },
  };
}

/**
 * Creates a Koa guard (Koa 2 and 3, with or without `@koa/router`).
 * @example const guard = createKoaGuard({ genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } });
 * @throws TypeError naming the option when the configuration is wrong.
 */
export function createKoaGuard(options: KoaGuardOptions): KoaGuard {
  const { guard: guardOptions, own } = splitAdapterOptions(options, ['passErrors']);
  const passErrors = optionalBoolean(own.passErrors, 'passErrors', false);
  const core = createGuard(guardOptions);
  const runtime = createRuntime(core, koaBinding(passErrors, core.realm));

  return {
    requirePermission(resource, requirement, route) {
      const spec = routeSpec(resource, requirement, route);
      return markGuard(function genauthRequirePermission(ctx: ParameterizedContext, next: Next) {
        return runtime.route(spec, ctx, ctx, next);
      }, { kind: 'permission' });
    },
    authenticate() {
      return markGuard(function genauthAuthenticate(ctx: ParameterizedContext, next: Next) {
        return runtime.authenticate(ctx, ctx, next);
      }, { kind: 'authenticate' });
    },
    api(apiOptions) {
      const spec = apiModeSpec(apiOptions);
      return markGuard(function genauthApi(ctx: ParameterizedContext, next: Next) {
        return runtime.api(spec, ctx, ctx, next);
      }, { kind: 'api', spec });
    },
    webhook(webhookOptions) {
      const receiver = createWebhookReceiver(core, webhookOptions);
      return async function genauthWebhook(ctx) {
        const { rawBody, body } = ctx.request as { rawBody?: unknown; body?: unknown };
        const answer = await receiveNodeRequest(receiver, ctx.req, { raw: rawBody, parsed: body });
        ctx.status = answer.status;
        ctx.set(answer.headers);
        ctx.body = answer.body === '' ? null : answer.body;
      };
    },
    ...guardControls(core),
  };
}
