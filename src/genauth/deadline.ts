import type { Clock } from '../options/types.js';

/** Something a call is waiting on that stops when the deadline passes. */
export interface DeadlineWaiter {
  expire(): void;
}

function expireDeadline(deadline: Deadline): void {
  deadline.expire();
}

/**
 * The overall deadline of one GenAuth call: one timer, and the one thing the call waits on now (a
 * token, a response, a back-off). A call waits on one thing at a time, so one slot is enough.
 *
 * Why not an AbortSignal: a listener added and removed on every call multiplies garbage collections
 * under load (docs/bench.md).
 */
export class Deadline {
  expired = false;
  /**
   * When it passes, on the guard's clock: what a retry's wait is compared with. The timer that ends
   * the call runs on real time (a test clock cannot cut a real request short).
   */
  readonly at: number;
  private readonly timer: ReturnType<typeof setTimeout>;
  private waiter: DeadlineWaiter | undefined;

  constructor(ms: number, clock: Clock) {
    this.at = clock.now() + ms;
    this.timer = setTimeout(expireDeadline, ms, this);
  }

  /** Starts waiting on `waiter`; it is expired at once when the deadline has already passed. */
  watch(waiter: DeadlineWaiter): void {
    if (this.expired) return waiter.expire();
    this.waiter = waiter;
  }

  unwatch(waiter: DeadlineWaiter): void {
    if (this.waiter === waiter) this.waiter = undefined;
  }

  expire(): void {
    if (this.expired) return;
    this.expired = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    clearTimeout(this.timer);
    waiter?.expire();
  }

  /** The call is over: stop the timer. */
  clear(): void {
    clearTimeout(this.timer);
    this.waiter = undefined;
  }
}
