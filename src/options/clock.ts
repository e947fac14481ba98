/** Resolves `clock` (the monotonic clock of durations) and `now` (the wall clock of dates). */
import { fail } from './checks.js';
import type { Clock } from './types.js';

/** `clock`, or `performance`; throws a TypeError unless it is an object whose now() reads a number > 0. */
export function resolveClock(value: unknown): Clock {
  if (value === undefined) return performance;
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null || typeof (value as Clock).now !== 'function') {
    fail('clock', 'must be an object with a now() method');
  }
  const reading: unknown = (value as Clock).now();
  // lru-cache takes an entry stored at 0 (or below) for one without a ttl: grants would never expire.
  if (typeof reading !== 'number' || !Number.isFinite(reading) || reading <= 0) fail('clock', 'must read a finite number > 0 (ms)');
  return value as Clock;
}

/**
 * `now` as given; else Date.now; else, with a clock of the caller's, the wall time at creation moved
 * on by that clock, so a test that moves its clock moves token and condition times with it.
 */
export function resolveNow(value: unknown, clock: Clock): () => number {
  if (value !== undefined) {
    if (typeof value !== 'function') fail('now', 'must be a function');
    return value as () => number;
  }
  if (clock === performance) return Date.now;
  const epoch = Date.now();
  const start = clock.now();
  return () => epoch + (clock.now() - start);
}
