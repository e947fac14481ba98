/**
 * A clock tests move by hand (the guard's `clock` option): TTLs, back-offs and budgets pass at once
 * instead of after a real wait. With no `now` option the guard's wall clock follows it too, so a
 * token's `exp` passes with it. It starts well above 0 (lru-cache takes a start of 0 for "no ttl").
 */
export interface ManualClock {
  readonly clock: { now(): number };
  /** Moves the clock on by `ms`. */
  advance(ms: number): void;
}

export function manualClock(start = 1_000_000): ManualClock {
  let at = start;
  return {
    clock: { now: () => at },
    advance(ms) {
      at += ms;
    },
  };
}
