import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createGuard, type CheckInput, type GenAuthContext, type Guard, type RouteOptions } from '../guard.js';
import { splitAdapterOptions, type GuardOptions } from '../options.js';
import { optionalBoolean } from '../options/checks.js';
import type { Decision, Requirement } from '../policy/decide.js';
import { asGuardError, problemResponse } from '../problem.js';
import { NodeRequestView, type RequestLike } from '../request.js';
import { clientGone } from './aborted.js';
import { authenticateOnly, enforce, routeSpec, type ResourceSource } from './route.js';
import { apiModeSpec, enforceApi, type ApiModeOptions } from '../api-mode.js';
import { expressRouterRules } from './router-rules.js';

export * from '../index.js';

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
export interface ExpressGuardOptions extends GuardOptions {
  /**
   * Hand errors to Express (`next(err)`) instead of answering with problem+json. The errors carry
   * `status`, `headers` and `expose`, so Express's stock handler gets the status right.
   * @default false
   */
  passErrors?: boolean;
}

/** The Express guard. Every method works when taken off the object. */
export interface ExpressGuard {
  /**
   * Middleware that authenticates the caller and requires `requirement` on `resource`.
   * @example app.post('/servers/:id/start', guard.requirePermission(req => `ecs:${req.params.id}`, 'ecs:Start'), handler)
   * @throws TypeError at definition when the resource or requirement is malformed.
   */
  requirePermission(resource: ResourceSource<Request>, requirement: Requirement, route?: RouteOptions): RequestHandler;
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
  /** A decision outside HTTP. */
  check(input: CheckInput): Promise<Decision>;
  invalidateUser(userId: string): void;
  invalidateAll(): void;
  close(): Promise<void>;
  /** The framework-neutral guard. */
  readonly core: Guard;
}

/** The core's view of an Express request: the full URL (`originalUrl`), never a mount-shortened path. */
export function expressRequest(req: Request): RequestLike {
  return new NodeRequestView(req);
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

  function reject(error: unknown, res: Response, next: NextFunction): void {
    const guardError = asGuardError(error);
    if (passErrors) return next(guardError);
    if (res.headersSent) return next(guardError);
    const answer = problemResponse(guardError);
    res.status(answer.status).set(answer.headers).end(answer.body);
  }

  /**
   * Runs a check and hands its context on: at once when it answered synchronously (cached token and
   * grants), else when its promise settles. next() stays outside the try: a downstream error is not
   * ours to answer.
   */
  function proceed(req: Request, res: Response, next: NextFunction, check: (req: Request) => GenAuthContext | Promise<GenAuthContext>): void {
    let result: GenAuthContext | Promise<GenAuthContext>;
    try {
      result = check(req);
    } catch (error) {
      return reject(error, res, next);
    }
    if (result instanceof Promise) {
      // Express 4 ignores returned promises: every rejection is handled here. A client that left
      // meanwhile gets neither its handler nor an answer.
      result.then(
        (context) => {
          if (clientGone(req, res)) return;
          req.genauth = context;
          next();
        },
        (error: unknown) => {
          if (!clientGone(req, res)) reject(error, res, next);
        },
      );
      return;
    }
    req.genauth = result;
    next();
  }

  function requirePermission(resource: ResourceSource<Request>, requirement: Requirement, route?: RouteOptions): RequestHandler {
    const spec = routeSpec(resource, requirement, route);
    const check = (req: Request) => enforce(core, expressRequest(req), spec, req);
    return function genauthRequirePermission(req, res, next) {
      proceed(req, res, next, check);
    };
  }

  const authenticateCheck = (req: Request) => authenticateOnly(core, expressRequest(req));

  function api(options?: ApiModeOptions): RequestHandler {
    const spec = apiModeSpec(options);
    return function genauthApi(req, res, next) {
      // The app's routing settings: ALLOW patterns and public paths match no wider than its router.
      const request = new NodeRequestView(req, undefined, expressRouterRules(req.app));
      enforceApi(core, request, spec).then(
        (context) => {
          if (clientGone(req, res)) return;
          // null: a public path, let through without authentication.
          if (context !== null) req.genauth = context;
          next();
        },
        (error: unknown) => {
          if (!clientGone(req, res)) reject(error, res, next);
        },
      );
    };
  }

  return {
    requirePermission,
    api,
    authenticate() {
      return function genauthAuthenticate(req, res, next) {
        proceed(req, res, next, authenticateCheck);
      };
    },
    check: (input) => core.check(input),
    invalidateUser: (userId) => core.invalidateUser(userId),
    invalidateAll: () => core.invalidateAll(),
    close: () => core.close(),
    core,
  };
}
