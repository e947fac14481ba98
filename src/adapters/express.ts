import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ParamsDictionary } from 'express-serve-static-core';
import type { ApiModeOptions } from '../core/enforce/api.js';
import { apiModeSpec } from '../core/enforce/api.js';
import { routeSpec, type ResourceSource } from '../core/enforce/route.js';
import { createGuard } from '../core/guard.js';
import type { GenAuthContext, RouteOptions } from '../core/types.js';
import { splitAdapterOptions, type GuardOptions } from '../options.js';
import { optionalBoolean } from '../options/checks.js';
import type { Requirement } from '../policy/decide.js';
import { problemResponse } from '../problem.js';
import { NodeRequestView, type RequestLike } from '../request.js';
import { receiveNodeRequest } from '../webhooks/node.js';
import type { WebhookOptions } from '../webhooks/options.js';
import { createWebhookReceiver } from '../webhooks/receiver.js';
import { clientGone } from './aborted.js';
import { attachExpressContext } from './express-context.js';
import { guardControls, type AdapterGuard } from './guard-controls.js';
import { markGuard } from './report/marker.js';
import { expressRouterRules, expressRoutedTarget } from './router-rules.js';
import { createRuntime, type FrameworkBinding } from './runtime.js';

export * from './exports.js';
export { unguardedRoutes, warnUnguarded } from './report/express.js';
export type { UnguardedReason, UnguardedRoute, WarnLogger } from './report/routes.js';

declare module 'express-serve-static-core' {
  /**
   * Typed routes: `app.post(path, ...handlers)` types every handler's `req.params` from `path`, a
   * genauth-guard middleware's resource function included. Express's own overloads infer the params
   * from the handlers instead, which a middleware factory's result cannot give them (TypeScript does not
   * type a nested generic call from an outer one's uninferred parameter), so `req.params` would be a
   * dictionary where `req.params.serverId` compiles on `/b/:id`. This overload comes first and types
   * the handlers as Express's defaults do; calls it does not fit (explicit params, other handlers) go
   * on to Express's own.
   */
  interface IRouterMatcher<T, Method> {
    // An inline import: the declaration bundler drops imports used only inside a module augmentation.
    <Route extends string>(path: Route, ...handlers: Array<RequestHandler<import('express-serve-static-core').RouteParameters<Route>>>): T;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by genauth-guard: the verified identity and, after a permission check, the decision. */
      genauth?: GenAuthContext;
    }
  }
}

/** Options of {@link createExpressGuard}. */
export interface ExpressGuardOptions extends GuardOptions<Request> {
  /**
   * Hand errors to Express (`next(err)`) instead of answering with problem+json. The errors carry
   * `status`, `headers` and `expose`, so Express's stock handler gets the status right.
   * @default false
   */
  passErrors?: boolean;
}

/** The Express guard. Every method works when taken off the object. */
export interface ExpressGuard extends AdapterGuard<RequestHandler, Request> {
  /**
   * Middleware that authenticates the caller and requires `requirement` on `resource`. Generic over the
   * route's params `P`: inside `app.post(path, ...)` (or a router's, or `route(path)`'s) Express infers
   * them from the path, so a resource function's `req.params` has exactly the path's parameters.
   * Elsewhere give them (`requirePermission<{ id: string }>(...)`) or get Express's dictionary.
   * @example app.post('/servers/:id/start', guard.requirePermission(req => `ecs:${req.params.id}`, 'ecs:Start'), handler)
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission<P = ParamsDictionary>(resource: ResourceSource<Request<P>>, requirement: Requirement, route?: RouteOptions): RequestHandler<P>;
  /** Middleware that only authenticates (sets `req.genauth.identity`). */
  authenticate(): RequestHandler;
  /**
   * API mode: one middleware that checks every request against the user's `API` grants, matching the
   * full request path (`req.originalUrl`, mount prefix included) to their `apiIdentifier`s and the
   * method to an action. 400 bad path, then 401 token, then 403 permission; `publicPaths` skip auth.
   * @example app.use(cors()); app.use(guard.api({ publicPaths: ['/health', '/docs/*'] }));
   * @throws TypeError at definition when an option is malformed.
   */
  api(options?: ApiModeOptions): RequestHandler;
  /**
   * The GenAuth webhook route: checks the shared secret, reads the event (JSON or form) and makes the
   * invalidations it calls for (see docs/genauth-setup.md, "Webhooks"); answers 204 once they are made.
   * Mount it before any body parser, or after one (it then takes `req.body`; raw bytes are preferred).
   * With `api()` in front, list its path in `publicPaths`.
   * @example app.post('/hooks/genauth', guard.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET }))
   * @throws TypeError naming the option when `options` is malformed.
   */
  webhook(options: WebhookOptions): RequestHandler;
}

/** The core's view of an Express request: the full URL (`originalUrl`), never a mount-shortened path. */
export function expressRequest(req: Request): RequestLike {
  return new NodeRequestView(req);
}

/**
 * With the app's routing settings: ALLOW patterns and public paths match no wider than its router. The
 * target is the one the router dispatches: at the app's root (no mount path) `req.url`, as any
 * middleware in front of the guard left it (Express keeps the target received in `originalUrl`, an
 * alias a rewrite may have mapped elsewhere); under a mount path, `originalUrl`.
 */
function expressApiRequest(req: Request): RequestLike {
  return new NodeRequestView(req, expressRoutedTarget(req), expressRouterRules(req.app));
}

/** Express 4 ignores returned promises: the middleware returns nothing and every failure is handled here. */
function expressBinding(passErrors: boolean): FrameworkBinding<Request, Response, NextFunction, void> {
  return {
    view: expressRequest,
    apiView: expressApiRequest,
    attach: attachExpressContext,
    proceed: (_req, _res, next) => next(),
    refuse(error, _req, res, next) {
      if (passErrors || res.headersSent) return next(error);
      const answer = problemResponse(error);
      res.status(answer.status).set(answer.headers).end(answer.body);
    },
    gone: clientGone,
    abandon() {},
  };
}

/**
 * Creates an Express guard (Express 4 and 5).
 * @example const guard = createExpressGuard({ genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } });
 * @throws TypeError naming the option when the configuration is wrong.
 */
export function createExpressGuard(options: ExpressGuardOptions): ExpressGuard {
  const { guard: guardOptions, own } = splitAdapterOptions(options, ['passErrors']);
  const passErrors = optionalBoolean(own.passErrors, 'passErrors', false);
  const core = createGuard(guardOptions);
  const runtime = createRuntime(core, expressBinding(passErrors));

  return {
    requirePermission<P>(resource: ResourceSource<Request<P>>, requirement: Requirement, route?: RouteOptions): RequestHandler<P> {
      const spec = routeSpec(resource, requirement, route);
      return markGuard(function genauthRequirePermission(req: Request<P>, res: Response, next: NextFunction) {
        runtime.route(spec, req as Request<P> & Request, res, next);
      }, { kind: 'permission' });
    },
    authenticate() {
      return markGuard(function genauthAuthenticate(req: Request, res: Response, next: NextFunction) {
        runtime.authenticate(req, res, next);
      }, { kind: 'authenticate' });
    },
    api(apiOptions) {
      const spec = apiModeSpec(apiOptions);
      return markGuard(function genauthApi(req: Request, res: Response, next: NextFunction) {
        runtime.api(spec, req, res, next);
      }, { kind: 'api', spec });
    },
    webhook(webhookOptions) {
      const receiver = createWebhookReceiver(core, webhookOptions);
      return function genauthWebhook(req, res, next) {
        // Express 4 ignores a returned promise: what writing the answer throws goes to Express's error
        // handling here, never left to reject unhandled (the receiver itself never rejects).
        receiveNodeRequest(receiver, req, { parsed: req.body })
          .then((answer) => {
            if (!res.headersSent) res.status(answer.status).set(answer.headers).end(answer.body);
          })
          .catch(next);
      };
    },
    ...guardControls(core),
  };
}
