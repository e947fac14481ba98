import type { Middleware, ParameterizedContext } from 'koa';
import { apiModeSpec, enforceApi, type ApiModeOptions } from '../api-mode.js';
import { createGuard, type CheckInput, type GenAuthContext, type Guard, type RouteOptions } from '../guard.js';
import { splitAdapterOptions, type GuardOptions } from '../options.js';
import { optionalBoolean } from '../options/checks.js';
import type { Decision, Requirement } from '../policy/decide.js';
import { asGuardError, problemResponse } from '../problem.js';
import { NodeRequestView, type RequestLike } from '../request.js';
import { clientGone } from './aborted.js';
import { authenticateOnly, enforce, routeSpec, type ResourceSource } from './route.js';

export * from '../index.js';
export type { ApiModeOptions } from '../api-mode.js';

declare module 'koa' {
  interface DefaultState {
    /** Set by genauth-guard: the verified identity and, after a permission check, the decision. */
    genauth?: GenAuthContext;
  }
}

/** The Koa context a resource function receives (with `@koa/router`, `ctx.params` is filled). */
export type KoaContext = ParameterizedContext;

/** Options of {@link createKoaGuard}. */
export interface KoaGuardOptions extends GuardOptions {
  /**
   * Throw errors the Koa way instead of answering with problem+json. The errors carry `status`,
   * `headers` and `expose`, so Koa's stock handler (or yours, upstream) gets status and headers right.
   * @default false
   */
  passErrors?: boolean;
}

/** The Koa guard. Every method works when taken off the object. */
export interface KoaGuard {
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
  /** A decision outside HTTP. */
  check(input: CheckInput): Promise<Decision>;
  /** Forgets one user's cached grants. */
  invalidateUser(userId: string): void;
  /** Forgets every cached grant. */
  invalidateAll(): void;
  /** Closes connections to GenAuth. */
  close(): Promise<void>;
  /** The framework-neutral guard. */
  readonly core: Guard;
}

/** The core's view of a Koa request: the full URL as received (`originalUrl`), never a mount-shortened path. */
export function koaRequest(ctx: ParameterizedContext): RequestLike {
  return new NodeRequestView(ctx.req, ctx.originalUrl);
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

  /** Answers with the shared problem+json, or throws when the user asked for that (or it is too late). */
  function reject(error: unknown, ctx: ParameterizedContext): void {
    const guardError = asGuardError(error);
    if (passErrors || ctx.headerSent) throw guardError;
    const answer = problemResponse(guardError);
    ctx.status = answer.status;
    ctx.set(answer.headers);
    ctx.body = answer.body;
  }

  /** A client that left while the check waited gets neither its handler nor an answer (Koa writes none). */
  function gone(ctx: ParameterizedContext): boolean {
    if (!clientGone(ctx.req, ctx.res)) return false;
    ctx.respond = false;
    return true;
  }

  /**
   * Runs one check and finishes it: on success attaches the context and continues, otherwise answers.
   * A check decided from the caches returns a plain value, so the hot path adds no promise of its own.
   */
  function proceed(
    ctx: ParameterizedContext,
    next: () => Promise<unknown>,
    check: (ctx: ParameterizedContext) => GenAuthContext | null | Promise<GenAuthContext | null>,
  ): Promise<unknown> | void {
    let result: GenAuthContext | null | Promise<GenAuthContext | null>;
    try {
      result = check(ctx);
    } catch (error) {
      return reject(error, ctx);
    }
    if (result instanceof Promise) {
      // Only the check's rejection is answered here; an error from downstream is not ours.
      return result.then(
        (context) => {
          if (gone(ctx)) return undefined;
          if (context !== null) ctx.state.genauth = context;
          return next();
        },
        (error: unknown) => {
          if (!gone(ctx)) reject(error, ctx);
        },
      );
    }
    if (result !== null) ctx.state.genauth = result;
    return next();
  }

  function requirePermission(resource: ResourceSource<KoaContext>, requirement: Requirement, route?: RouteOptions): Middleware {
    const spec = routeSpec(resource, requirement, route);
    const check = (ctx: ParameterizedContext) => enforce(core, koaRequest(ctx), spec, ctx);
    return function genauthRequirePermission(ctx, next) {
      return proceed(ctx, next, check);
    };
  }

  const authenticateCheck = (ctx: ParameterizedContext) => authenticateOnly(core, koaRequest(ctx));

  return {
    requirePermission,
    authenticate() {
      return function genauthAuthenticate(ctx, next) {
        return proceed(ctx, next, authenticateCheck);
      };
    },
    api(apiOptions) {
      const spec = apiModeSpec(apiOptions);
      const check = (ctx: ParameterizedContext) => enforceApi(core, koaRequest(ctx), spec);
      return function genauthApi(ctx, next) {
        return proceed(ctx, next, check);
      };
    },
    check: (input) => core.check(input),
    invalidateUser: (userId) => core.invalidateUser(userId),
    invalidateAll: () => core.invalidateAll(),
    close: () => core.close(),
    core,
  };
}
