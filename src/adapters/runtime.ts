/**
 * The one adapter runtime: run a check of the core, then attach its context and continue, or answer the
 * problem (or pass the error on). Each framework supplies a {@link FrameworkBinding} of a few lines; the
 * order of things, the synchronous hot path and the aborted-request rule are written here once.
 */
import type { ApiModeSpec } from '../core/enforce/api.js';
import type { RouteSpec } from '../core/enforce/route.js';
import type { GenAuthContext, Guard } from '../core/types.js';
import type { GuardError } from '../errors.js';
import { asGuardError } from '../problem.js';
import type { RequestLike } from '../request.js';

/**
 * How one framework's middleware reads its request, hands the context on, answers and gives up. `Req`:
 * what the middleware receives (and a resource function gets); `Res`: where it answers; `Next`: how
 * it continues; `Out`: what the middleware returns.
 */
export interface FrameworkBinding<Req, Res, Next, Out> {
  /** The core's view of the request for a route or authentication check. */
  view(req: Req): RequestLike;
  /** The view for API mode: with the rules of the router that dispatches the request, where readable. */
  apiView(req: Req): RequestLike;
  /** Attaches the context (`req.genauth`, `ctx.state.genauth`). */
  attach(req: Req, context: GenAuthContext): void;
  /** Hands the request on to the handler. */
  proceed(req: Req, res: Res, next: Next): Out;
  /** Answers with the problem+json, or passes the error on (`passErrors`, or the response has started). */
  refuse(error: GuardError, req: Req, res: Res, next: Next): Out;
  /** Read after a wait only: whether the client left and nothing was written to it (`clientGone`). */
  gone(req: Req, res: Res): boolean;
  /** What the middleware does for a client that left: neither run the handler nor answer. */
  abandon(req: Req, res: Res, next: Next): Out;
}

/** A check's answer: the context to attach, `null` to let the request through as it is (a public API path). */
export type CheckResult = GenAuthContext | null | Promise<GenAuthContext | null>;

/** The checks of one adapter, each finished the same way. */
export interface AdapterRuntime<Req, Res, Next, Out> {
  /** A route's permission (`requirePermission`, a route config, a decorator): its resource function gets `req`. */
  route<N extends Req>(spec: RouteSpec<N>, req: N, res: Res, next: Next): Out | Promise<Out>;
  /** API mode. */
  api(spec: ApiModeSpec, req: Req, res: Res, next: Next): Out | Promise<Out>;
  /** Authentication alone. */
  authenticate(req: Req, res: Res, next: Next): Out | Promise<Out>;
  /** Finishes a check's answer: at once when it is a value (the hot path adds no promise), when it settles otherwise. */
  settle(result: CheckResult, req: Req, res: Res, next: Next): Out | Promise<Out>;
}

/** Creates the runtime of one adapter over its core guard. */
export function createRuntime<Req, Res, Next, Out>(core: Guard, binding: FrameworkBinding<Req, Res, Next, Out>): AdapterRuntime<Req, Res, Next, Out> {
  function pass(context: GenAuthContext | null, req: Req, res: Res, next: Next): Out {
    // null: a public path, let through without authentication.
    if (context !== null) {
      // The app may have made the context unassignable (a getter-only or throwing `genauth` of its own):
      // refused like any failure of the check, not thrown, which after a wait was a rejection nobody
      // handled (the request never answered, the process crashed) since Express ignores the promise.
      try {
        binding.attach(req, context);
      } catch (error) {
        return binding.refuse(asGuardError(error), req, res, next);
      }
    }
    return binding.proceed(req, res, next);
  }

  function settle(result: CheckResult, req: Req, res: Res, next: Next): Out | Promise<Out> {
    if (!(result instanceof Promise)) return pass(result, req, res, next);
    // Only the check's failure is answered here: what the handler does next is not ours. A client that
    // left while the check waited gets neither its handler nor an answer.
    return result.then(
      (context) => (binding.gone(req, res) ? binding.abandon(req, res, next) : pass(context, req, res, next)),
      (error: unknown) => (binding.gone(req, res) ? binding.abandon(req, res, next) : binding.refuse(asGuardError(error), req, res, next)),
    );
  }

  return {
    route(spec, req, res, next) {
      let result: CheckResult;
      try {
        result = core.enforce(binding.view(req), spec, req);
      } catch (error) {
        return binding.refuse(asGuardError(error), req, res, next);
      }
      return settle(result, req, res, next);
    },
    api(spec, req, res, next) {
      let result: CheckResult;
      try {
        result = core.enforceApi(binding.apiView(req), spec, req);
      } catch (error) {
        return binding.refuse(asGuardError(error), req, res, next);
      }
      return settle(result, req, res, next);
    },
    authenticate(req, res, next) {
      let result: CheckResult;
      try {
        result = core.enforce(binding.view(req), undefined, req);
      } catch (error) {
        return binding.refuse(asGuardError(error), req, res, next);
      }
      return settle(result, req, res, next);
    },
    settle,
  };
}
