import type { Clock } from '../options/types.js';

/** Tokens a retry budget holds when full; retries are made while more than half remain. */
export const RETRY_BUDGET_TOKENS = 10;

export interface RetryBudgetOptions {
  /** Tokens a call GenAuth answered earns back (a failed call costs 1). */
  ratio: number;
  /** Tokens that come back each second, whatever the calls do: the floor. */
  minPerSecond: number;
  /** The guard's clock (ms): the refill is measured on it. */
  clock: Clock;
}

/** One budget per client, shared by every user's loads. */
export interface RetryBudget {
  /** A call GenAuth answered: a success, or an answer retrying would not change (4xx, user unknown). */
  answered(): void;
  /** A call that failed the way an outage does: 5xx, 429, connection error, timeout. */
  failed(): void;
  /** Whether a failed call may be retried now. */
  canRetry(): boolean;
}

/**
 * Retry throttling in the manner of gRPC's (with a time refill, like Finagle's floor): a failed call
 * spends a token, an answered one earns `ratio` of one, `minPerSecond` come back each second, at most
 * {@link RETRY_BUDGET_TOKENS}; retries are made only while more than half remain.
 *
 * So retries keep up with failures while at most 1 call in `1 + 1/ratio` fails (1 in 6 at 0.2); in an
 * outage they stop after about half the budget, however busy and healthy the past was (the budget
 * never holds more than its size), then come back at `minPerSecond` at most; and they resume as calls
 * succeed. A burst of N failing loads makes at most N + 5 calls plus `minPerSecond` a second.
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const { ratio, minPerSecond, clock } = options;
  let tokens = RETRY_BUDGET_TOKENS;
  let last = clock.now();

  function refill(): void {
    const at = clock.now();
    // A clock that goes back refills nothing; the next reading counts from it.
    if (at > last) tokens = Math.min(RETRY_BUDGET_TOKENS, tokens + ((at - last) / 1000) * minPerSecond);
    last = at;
  }

  return {
    answered() {
      refill();
      tokens = Math.min(RETRY_BUDGET_TOKENS, tokens + ratio);
    },
    failed() {
      refill();
      tokens = Math.max(0, tokens - 1);
    },
    canRetry() {
      refill();
      return tokens > RETRY_BUDGET_TOKENS / 2;
    },
  };
}
