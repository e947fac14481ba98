import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { GenAuthContext } from '../../core/types.js';
import { PermissionDeniedError } from '../../errors.js';
import { asGuardError, problemResponse } from '../../problem.js';
import type { RequestLike } from '../../request.js';
import { createRuntime, type AdapterRuntime, type CheckResult } from '../runtime.js';
import { GENAUTH_ATTACHED, GENAUTH_ROUTE_POLICY } from './constants.js';
import { checkedPolicy, type RoutePolicy } from './decorators.js';
import { GenAuthException } from './exception.js';
import { abandonReply, clientLeft, guardRequest, isPlatformExchange, nestRequest, responseStarted, writeAnswer } from './platform.js';
import { GenAuthService } from './service.js';

/** Where a request carries the check it passed (see {@link GenAuthGuard.canActivate}): module-private, no client can set it. */
const DECIDED = Symbol('genauth-guard:nest:decided');

/**
 * The check a request passed: the same service, guard class and route policy decide the same way, in
 * the same route invocation (Nest runs all of a route's guards with one ExecutionContext). Another
 * route the request reaches (an Express handler calling `next()`) has its own params: checked again.
 */
interface Decided {
  readonly context: ExecutionContext;
  readonly service: GenAuthService;
  readonly guard: unknown;
  readonly policy: RoutePolicy | undefined;
}

/**
 * The Nest guard: authentication and authorization in one step, driven by the route's
 * `@RequirePermission` / `@Authenticated` / `@Public` metadata (handler over class) and the module's
 * `defaultPolicy` and `api` options. Registered globally by `GenAuthGuardModule` unless
 * `globalGuard: false`; then use `@UseGuards(GenAuthGuard)`. Subclass and override the protected hooks
 * to customise.
 */
@Injectable()
export class GenAuthGuard implements CanActivate {
  constructor(
    @Inject(GenAuthService) protected readonly service: GenAuthService,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {
    this.runtime = createRuntime<unknown, unknown, undefined, boolean | Promise<boolean>>(service.core, {
      view: nestRequest,
      apiView: nestRequest,
      attach(request, context) {
        (request as { genauth?: GenAuthContext }).genauth = context;
        (request as { [GENAUTH_ATTACHED]?: GenAuthContext })[GENAUTH_ATTACHED] = context;
      },
      proceed: () => true,
      refuse: async (error, _request, response) => {
        throw await this.reject(error, response);
      },
      gone: clientLeft,
      abandon(_request, response) {
        abandonReply(response);
        return false;
      },
    });
  }

  /** Nest's binding of the shared adapter runtime: `Out` is canActivate's answer. */
  private readonly runtime: AdapterRuntime<unknown, unknown, undefined, boolean | Promise<boolean>>;

  /**
   * Resolves `true` to let the request through, `false` when the client left while the guard waited
   * (the handler must not run; Nest's exception layer then answers the closed connection). Outside HTTP
   * (`rpc`, `ws`, `graphql`, ...), and in an 'http' context whose arguments are not a platform request
   * and response (a library's handler, labelled 'http' by default), it verifies nothing: `true` for a
   * `@Public()` handler, else `false`, which each transport answers with its own "Forbidden resource"
   * exception.
   *
   * Applied twice to one route (the global guard and `@UseGuards(GenAuthGuard)`), the second run lets
   * through at once a request the first allowed with the same service, guard class and route policy, in
   * the same route invocation (not another route reached by Express's `next()`):
   * it would decide the same, and deciding again published a second decision and called `onDecision`
   * twice for one request. A subclass (another class) always runs its own check.
   * @throws GenAuthException on every rejection (after writing the answer unless `passErrors`).
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    let policy: RoutePolicy | undefined;
    let malformed: unknown = null;
    try {
      policy = checkedPolicy(this.policyOf(context));
    } catch (error) {
      // Metadata under the decorators' key that none of them wrote: refused (500), never read as none.
      malformed = error;
    }
    if (malformed === null && policy?.kind === 'public') return true;
    // A global guard also sees RPC and WebSocket handlers: without an HTTP request there is nothing to
    // verify, so anything not public is refused.
    if (context.getType() !== 'http') return false;
    const http = context.switchToHttp();
    const request: unknown = http.getRequest();
    const response: unknown = http.getResponse();
    // A handler labelled 'http' by a library, whose arguments are a payload: refused as outside HTTP.
    if (!isPlatformExchange(request, response)) return false;
    if (malformed === null && this.passedBefore(context, request, policy)) return true;
    let result: CheckResult;
    try {
      if (malformed !== null) throw malformed;
      // A target the router did not read as a path is refused (400) before the token, as on Fastify.
      result = this.evaluate(policy, guardRequest(request, this.service.core.realm), request);
    } catch (error) {
      result = Promise.reject(error);
    }
    // A client that left while the check waited: its handler must not run, no one is answered.
    const settled = this.runtime.settle(result, request, response, undefined);
    if (typeof settled === 'boolean') return this.passed(settled, context, request, policy);
    // Out is itself boolean | Promise<boolean>: a promise of it settles to the boolean.
    return (settled as Promise<boolean>).then((allowed) => this.passed(allowed, context, request, policy));
  }

  /** True when this request already passed this check in this route invocation (same service, guard class, policy). */
  private passedBefore(context: ExecutionContext, request: unknown, policy: RoutePolicy | undefined): boolean {
    const decided = (request as { [DECIDED]?: Decided } | null)?.[DECIDED];
    return decided !== undefined && decided.context === context && decided.service === this.service && decided.guard === this.constructor && decided.policy === policy;
  }

  /** Marks an allowed request as having passed this check; returns `allowed`. */
  private passed(allowed: boolean, context: ExecutionContext, request: unknown, policy: RoutePolicy | undefined): boolean {
    if (allowed && typeof request === 'object' && request !== null) {
      (request as { [DECIDED]?: Decided })[DECIDED] = { context, service: this.service, guard: this.constructor, policy };
    }
    return allowed;
  }

  /** The route's policy: handler metadata overrides class metadata. */
  protected policyOf(context: ExecutionContext): RoutePolicy | undefined {
    return this.reflector.getAllAndOverride<RoutePolicy | undefined>(GENAUTH_ROUTE_POLICY, [context.getHandler(), context.getClass()]);
  }

  /**
   * The check itself, all in the core: API mode first when enabled, then the route's own policy (or the
   * default). Resolves the context to attach, `null` for a public API path; rejects with a GuardError.
   */
  protected async evaluate(policy: RoutePolicy | undefined, request: RequestLike, native: unknown): Promise<GenAuthContext | null> {
    const { core, api } = this.service;
    let apiContext: GenAuthContext | null | undefined;
    if (api !== undefined) apiContext = await core.enforceApi(request, api, native);
    if (policy?.kind === 'permission') return core.enforce(request, policy.spec, native as never);
    if (apiContext !== undefined && (apiContext !== null || policy === undefined)) return apiContext;
    const identity = await core.authenticate(request, native);
    if (policy?.kind === 'authenticate' || this.service.defaultPolicy === 'authenticate') return { identity };
    // Secure by default: a route nobody described is refused to every authenticated caller.
    throw new PermissionDeniedError('', [], core.realm);
  }

  /** Writes the shared problem+json answer (unless `passErrors`) and returns the exception to throw. */
  protected async reject(error: unknown, response: unknown): Promise<GenAuthException> {
    const guardError = asGuardError(error);
    if (this.service.passErrors || responseStarted(response)) return new GenAuthException(guardError, false);
    await writeAnswer(response, problemResponse(guardError));
    return new GenAuthException(guardError, true);
  }
}
