/**
 * The client's retry loop: one overall deadline per call, retries of what an outage looks like (5xx,
 * 429, connection errors) with jittered back-off or the Retry-After given, within `genauth.retries`,
 * the deadline and the retry budget; after a 429 the whole client backs off, not just one user.
 */
import { GenAuthApiError } from '../errors.js';
import type { Clock } from '../options/types.js';
import { Deadline } from './deadline.js';
import { NOT_A_TENANT_MEMBER_API_CODE } from './envelope.js';
import type { RetryBudget } from './retry-budget.js';

/** First back-off, ms; it doubles with each retry, plus up to as much again of jitter. */
const RETRY_BASE_MS = 50;

/**
 * 5xx (HTTP or body), 429 and connection errors are retried; everything else is final. A body 5xx
 * with apiCode 2120008 is final too: the apiCode is GenAuth's answer about the user (disabled or not a
 * member of the tenant; its statusCode is not documented), which a retry would only get again.
 */
export function retryable(error: GenAuthApiError): boolean {
  switch (error.kind) {
    case 'network':
    case 'rate_limited':
      return true;
    case 'http_status':
      return (error.httpStatus ?? 0) >= 500;
    case 'error_envelope':
      return (error.envelopeStatus ?? 0) >= 500 && error.apiCode !== NOT_A_TENANT_MEMBER_API_CODE;
    default:
      return false;
  }
}

/** Failures that look like an outage or overload, and so spend retry budget. */
function outageLike(error: GenAuthApiError): boolean {
  return error.kind === 'timeout' || retryable(error);
}

/** A back-off pause (real time) that ends early, rejecting, when the call's deadline passes. */
function pause(ms: number, deadline: Deadline): Promise<void> {
  return new Promise((resolve, reject) => {
    const waiter = {
      expire() {
        clearTimeout(timer);
        reject(new GenAuthApiError('timeout'));
      },
    };
    const timer = setTimeout(() => {
      deadline.unwatch(waiter);
      resolve();
    }, ms);
    deadline.watch(waiter);
  });
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Overall deadline of one call, first attempt to last byte of the last, ms. */
  timeout: number;
  /** Shared by every call: an outage stops retries instead of multiplying calls. */
  budget: RetryBudget;
  clock: Clock;
  /** After each attempt: its outcome (`ok` or the failure's kind), its start (performance.now()), its number. */
  attempted?(outcome: string, started: number, attempt: number): void;
  /** After each failed attempt, before deciding whether to retry. */
  failed?(error: GenAuthApiError): void;
  /** Runs one attempt (0 for the first): where the client traces it. Absent: the attempt is called as is. */
  run?<T>(attempt: number, call: () => Promise<T>): Promise<T>;
  /** A failed attempt that would have been retried but for the retry budget. */
  refused?(error: GenAuthApiError, attempt: number): void;
}

/** Runs an attempt (given the call's deadline) until it succeeds or the policy says stop. */
export type Retrying = <T>(attempt: (deadline: Deadline) => Promise<T>) => Promise<T>;

export function createRetrying(policy: RetryPolicy): Retrying {
  const { budget, clock } = policy;
  // After a 429, no call is made until `until` (clock ms): the whole pool backs off. A Retry-After
  // arrives here already cut to genauth.maxRetryAfter (client.ts), so it is never more than that away.
  // An object, so a call can tell whether the back-off in force is still the one its own 429 set.
  let backoff: { until: number } | undefined;

  /** The seconds left of the client's back-off, or undefined when there is none. */
  function backingOff(): number | undefined {
    if (backoff === undefined) return undefined;
    const left = backoff.until - clock.now();
    return left > 0 ? Math.ceil(left / 1000) : undefined;
  }

  async function loop<T>(attempt: (deadline: Deadline) => Promise<T>, deadline: Deadline): Promise<T> {
    // The back-off this call's own last 429 set, if it is the one in force.
    let own: { until: number } | undefined;
    for (let retry = 0; ; retry++) {
      const started = performance.now();
      try {
        const result = await (policy.run === undefined ? attempt(deadline) : policy.run(retry, () => attempt(deadline)));
        budget.answered();
        policy.attempted?.('ok', started, retry);
        return result;
      } catch (error) {
        policy.attempted?.(error instanceof GenAuthApiError ? error.kind : 'error', started, retry);
        if (!(error instanceof GenAuthApiError)) throw error;
        if (outageLike(error)) budget.failed();
        else if (error.kind !== 'closed') budget.answered();
        policy.failed?.(error);
        if (error.kind === 'rate_limited') {
          // Never shortens a back-off in force: another call's 429 may have asked for longer.
          const until = clock.now() + (error.retryAfter ?? 1) * 1000;
          if (backoff === undefined || until > backoff.until) backoff = own = { until };
        }
        const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : RETRY_BASE_MS * 2 ** retry * (1 + Math.random());
        // Retries stay inside the overall deadline: a Retry-After beyond it ends the call now.
        if (retry >= policy.retries || !retryable(error) || clock.now() + wait >= deadline.at) throw error;
        if (!budget.canRetry()) {
          policy.refused?.(error, retry);
          throw error;
        }
        await pause(wait, deadline).catch(() => {
          throw new GenAuthApiError('timeout', { cause: error });
        });
        // Its own back-off is waited out (the pause is real time, the back-off on the guard's clock):
        // it ends, but only if it is still the one in force, never one another call's 429 set since.
        if (own !== undefined && backoff === own) backoff = undefined;
        own = undefined;
        // Another call's 429 during the pause: the whole client backs off, this retry too.
        const left = backingOff();
        if (left !== undefined) throw new GenAuthApiError('rate_limited', { retryAfter: left, cause: error });
      }
    }
  }

  return async (attempt) => {
    const left = backingOff();
    if (left !== undefined) throw new GenAuthApiError('rate_limited', { retryAfter: left });
    const deadline = new Deadline(policy.timeout, clock);
    try {
      return await loop(attempt, deadline);
    } finally {
      deadline.clear();
    }
  };
}
