/**
 * The decision's observers: the `onDecision` callback (a record per decision, only when the user set
 * one) and the decision tracing channel (only while someone subscribes).
 */
import type { CacheReadNote } from '../cache/cache-events.js';
import { asGuardError } from '../problem.js';
import { tracing, type DecisionTrace } from '../events.js';
import type { DecisionRecord, ResolvedOptions } from '../options.js';
import type { ApiDecision } from '../policy/api-match.js';
import type { Decision } from '../policy/decide.js';
import type { Outcome } from './outcome.js';
import { catchReturned, thrownName } from '../options/thrown.js';

/** One check in progress, for `onDecision`: when it began and how the grants were found. */
export interface DecisionNote extends CacheReadNote {
  readonly started: number;
}

/** Hands decisions to `onDecision`; absent (undefined) when the option is not set. */
export interface DecisionObserver {
  begin(): DecisionNote;
  report(note: DecisionNote, userId: string, decision: Outcome): void;
}

/** Creates the observer of one guard, or undefined without `onDecision` (the hot path then checks one variable). */
export function createDecisionObserver(options: Pick<ResolvedOptions, 'onDecision' | 'logger' | 'clock' | 'cache'>): DecisionObserver | undefined {
  const { onDecision, clock, logger } = options;
  if (onDecision === undefined) return undefined;
  const initial = options.cache === false ? 'none' : 'hit';
  let reported = false;
  /** The answer stands; the operator hears of it once (the error's name only: no user data). */
  function failed(error: unknown): void {
    if (!reported && logger !== false) {
      reported = true;
      logger.warn(`genauth-guard: onDecision threw (${thrownName(error)}); later errors are not reported`);
    }
  }
  return {
    begin: () => ({ started: clock.now(), cache: initial }),
    report(note, userId, decision) {
      const api = 'method' in decision;
      const grant = decision.grant;
      const record: DecisionRecord = {
        userId,
        resource: decision.resource,
        ...(api ? { method: decision.method, path: decision.path } : {}),
        actions: decision.actions,
        allowed: decision.allowed,
        reason: decision.reason,
        grant: grant === undefined ? undefined : { code: grant.code, type: grant.type, effect: grant.effect, actions: grant.actions, apiIdentifier: grant.apiIdentifier },
        cache: note.cache,
        durationMs: clock.now() - note.started,
      };
      try {
        // An async callback's rejection too: left unhandled, it would end the process.
        catchReturned(onDecision(record), failed);
      } catch (error) {
        failed(error);
      }
    },
  };
}

/**
 * Runs a decision made at once from fresh cached grants inside the decision tracing channel, with
 * `traceSync` (start, end; error if it threw), marked `synchronous` so that a subscriber closes it on
 * `end` (no async phase follows). Call only when the channel has subscribers. A refusal is a result:
 * the caller throws its 403 after this returns. What `decide` throws that is not a GuardError (a code
 * with a missing value refused by the policy) is the 500 the adapters answer, and is traced as one.
 */
export function traceDecisionNow<T extends Decision | ApiDecision>(context: DecisionTrace, decide: () => T): T {
  context.synchronous = true;
  return tracing.decision.traceSync(() => {
    let decision: T;
    try {
      decision = decide();
    } catch (cause) {
      // The same typed 500 as the untraced path gives (route.ts): asGuardError in both.
      throw asGuardError(cause);
    }
    context.allowed = decision.allowed;
    context.reason = decision.reason;
    return decision;
  }, context);
}

/**
 * Runs a decision that waits inside the decision tracing channel (call only when it has subscribers).
 * `decide` resolves what the request gets (refused as revoked when its user was revoked meanwhile), so
 * that `asyncEnd` carries the answer's outcome.
 */
export function traceDecision<T extends Outcome>(context: DecisionTrace, decide: () => Promise<T>): Promise<T> {
  return tracing.decision.tracePromise(async () => {
    const decision = await decide();
    context.allowed = decision.allowed;
    context.reason = decision.reason;
    return decision;
  }, context);
}

/**
 * Tells the decision trace of a decision that failed before it was made: the resource function threw
 * or rejected, or gave a resource the guard refuses (the 500). Traced as a decision that throws at once
 * (start, error, end; not `synchronous`, since no cache was read), which a subscriber closes on `end`
 * as any decision whose function threw, so that the request still has its span and its error count.
 * `resource` is recorded when it is a string (else `''`: there is none). Returns `error` to be thrown.
 * Only the error path calls it.
 */
export function traceFailedDecision(userId: string, resource: unknown, error: unknown): unknown {
  if (!tracing.decision.hasSubscribers) return error;
  const context: DecisionTrace = { userId, resource: typeof resource === 'string' ? resource : '' };
  try {
    tracing.decision.traceSync(() => {
      throw error;
    }, context);
  } catch {
    // `error` itself, thrown back once told: the caller throws it.
  }
  return error;
}
