import { baseConditionContext, settleWithin } from './condition-context.js';
import { GuardInternalError } from '../errors.js';
import { channels, tracing, type DecisionEvent } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import type { ApiDecision } from '../policy/api-match.js';
import { evaluateConditions, type ConditionContext } from '../policy/conditions.js';
import { refuseMissingValue } from '../policy/resource-code.js';
import { decideIndexed, type ConditionCheck, type Decision, type NormalizedRequirement } from '../policy/decide.js';
import type { RequestLike } from '../request.js';
import type { Identity } from '../token/verifier.js';
import type { GrantStore } from './grant-store.js';
import { closedError, type Lifecycle } from './lifecycle.js';
import { traceDecision, traceFailedDecision, type DecisionNote, type DecisionObserver } from './observe.js';
import type { Revoked } from './outcome.js';
import type { RouteOptions } from './types.js';

/** What policy conditions are evaluated against. */
export interface DecisionEnvironment {
  request?: RequestLike;
  identity?: Identity;
  /** Extra condition context keys (merged last). */
  context?: Record<string, unknown>;
}

/** The decisions that may wait: grants loaded from GenAuth, conditions evaluated. */
export interface Authorizer {
  /**
   * Decides for a known user (`check()`), traced and told to the observers. Resolves a Decision
   * (allowed or not); throws only on outage (503), a bad resource (500), or the guard closed while the
   * decision waited (the closed guard's 503, as a request gets; no decision told).
   */
  authorize(userId: string, resource: string, requirement: NormalizedRequirement, route: RouteOptions, environment?: DecisionEnvironment, note?: DecisionNote): Promise<Decision>;
  /**
   * The decision alone, neither traced nor told: for the route check, which runs it in {@link observe}
   * so that its observers are told what the request gets (refused as revoked when its user was revoked
   * meanwhile). `resource` must have passed {@link checkResource}.
   */
  decide(userId: string, resource: string, requirement: NormalizedRequirement, route: RouteOptions, environment: DecisionEnvironment | undefined, note: DecisionNote | undefined): Promise<Decision>;
  /**
   * Runs a decision that waits (`decide`), traced when the decision channel has subscribers, and tells
   * the decision channel and `onDecision` what it resolved. `resource` must have passed {@link checkResource}.
   */
  observe<T extends Decision | Revoked<Decision>>(userId: string, resource: string, note: DecisionNote | undefined, decide: () => Promise<T>): Promise<T>;
  /** The condition evaluator for one request (context from the guard, the user's function, `environment`). */
  conditions(userId: string, environment?: DecisionEnvironment): Promise<ConditionCheck>;
}

/** Throws the 500 for a resource that is not a non-empty string, or holds a missing value (`ecs:undefined`): a resource function's mistake. */
export function checkResource(resource: unknown): asserts resource is string {
  if (typeof resource !== 'string' || resource === '') {
    throw new GuardInternalError({ cause: new TypeError('genauth-guard: the resource must be a non-empty string') });
  }
  try {
    refuseMissingValue(resource);
  } catch (cause) {
    throw new GuardInternalError({ cause });
  }
}

/**
 * {@link checkResource} for `userId`'s decision: its refusal is told to the decision trace as a failed
 * decision (its span and error count), then thrown.
 */
export function checkResourceFor(userId: string, resource: unknown): asserts resource is string {
  try {
    checkResource(resource);
  } catch (error) {
    throw traceFailedDecision(userId, resource, error);
  }
}

/** Tells `genauth-guard:decision` subscribers (nothing is built when there are none). */
export function publishDecision(userId: string, resource: string, decision: Decision | Revoked<Decision>): void {
  if (channels.decision.hasSubscribers) {
    channels.decision.publish({ userId, resource, actions: decision.actions, allowed: decision.allowed, reason: decision.reason } satisfies DecisionEvent);
  }
}

/** The same for API mode: the canonical path as the resource, and the method. */
export function publishApiDecision(userId: string, decision: ApiDecision | Revoked<ApiDecision>): void {
  if (channels.decision.hasSubscribers) {
    channels.decision.publish({
      userId,
      resource: decision.resource,
      actions: decision.actions,
      allowed: decision.allowed,
      reason: decision.reason,
      method: decision.method,
    } satisfies DecisionEvent);
  }
}

/** Creates the full (asynchronous) decision path of one guard; `lifecycle` says whether it was closed. */
export function createAuthorizer(options: ResolvedOptions, store: GrantStore, observer: DecisionObserver | undefined, lifecycle: Lifecycle): Authorizer {
  const settings = { timeZoneOffset: options.conditions.timeZoneOffset, combine: options.conditions.combine };

  /** Built only when the user's grants carry conditions. */
  async function conditions(userId: string, environment: DecisionEnvironment | undefined): Promise<ConditionCheck> {
    const context = baseConditionContext(options, userId, environment?.request);
    const provider = options.conditions.context;
    if (provider !== undefined) {
      try {
        const answer = provider({ request: environment?.request, userId, claims: environment?.identity?.claims });
        Object.assign(context, await settleWithin(answer, options.conditions.timeoutDuration));
      } catch (cause) {
        throw new GuardInternalError({ cause });
      }
    }
    if (environment?.context !== undefined) Object.assign(context, environment.context);
    const frozen = context as ConditionContext;
    return (grant) => evaluateConditions(grant.conditions, frozen, settings);
  }

  async function authorize(
    userId: string,
    resource: string,
    requirement: NormalizedRequirement,
    route: RouteOptions,
    environment?: DecisionEnvironment,
    note?: DecisionNote,
  ): Promise<Decision> {
    checkResourceFor(userId, resource);
    return observe(userId, resource, note, async () => {
      const decision = await decideFor(userId, resource, requirement, route, environment, note);
      // Closed while it waited (on GenAuth, on conditions.context): a closed guard decides nothing, as
      // the enforcers' unlessRevoked refuses a request then.
      if (lifecycle.closed) throw closedError(options.retryAfter);
      return decision;
    });
  }

  async function observe<T extends Decision | Revoked<Decision>>(userId: string, resource: string, note: DecisionNote | undefined, decide: () => Promise<T>): Promise<T> {
    const decision = tracing.decision.hasSubscribers ? await traceDecision({ userId, resource }, decide) : await decide();
    publishDecision(userId, resource, decision);
    if (note !== undefined) observer?.report(note, userId, decision);
    return decision;
  }

  async function decideFor(
    userId: string,
    resource: string,
    requirement: NormalizedRequirement,
    route: RouteOptions,
    environment: DecisionEnvironment | undefined,
    note: DecisionNote | undefined,
  ): Promise<Decision> {
    const { index, held } = await store.userGrants(userId, note);
    return index.hasConditions
      ? decideIndexed(held, resource, requirement, { resourceType: route.resourceType, conditions: await conditions(userId, environment) })
      : decideIndexed(held, resource, requirement, { resourceType: route.resourceType });
  }

  return { authorize, decide: decideFor, observe, conditions };
}
