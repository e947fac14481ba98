/**
 * With a shared Redis tier: GenAuth refusing a user (apiCode 2120008, disabled or not a member of the
 * tenant) is learnt by the one instance that asked; every other instance would keep serving its own
 * fresh copy of the user's grants for up to `cache.ttl`. So the refusal is passed on as the user's
 * invalidation (the message `guard.invalidateUser` publishes: Redis's entry deleted, every instance
 * forgets the user), at most once per user per window, so a burst of refused loads (or instances
 * passing one refusal back and forth as each is refused in turn) does not flood Redis.
 */
import { LRUCache } from 'lru-cache';
import type { SharedTier } from '../cache/redis/tier.js';
import type { Clock } from '../options/types.js';

/** How long after passing on a user's refusal another one of theirs is not (ms, on the monotonic clock). */
export const REFUSAL_WINDOW_MS = 1_000;

/** Users remembered at most; past it the least recent is forgotten (its next refusal is passed on again: more, never fewer). */
const MAX_REMEMBERED = 10_000;

/**
 * Passes on a user's refusal; resolves once Redis has it, or once it failed (the tier warns of a
 * failure; the instance's own answer, the 503, does not depend on it). Never rejects.
 */
export type RefusalInvalidations = (userId: string) => Promise<void>;

export function createRefusalInvalidations(tier: Pick<SharedTier, 'invalidateUser'>, clock: Clock): RefusalInvalidations {
  // The users whose refusal was passed on within the window: lru-cache's ttl and max, on the guard's
  // clock (as the failure memory of errorTtl: permission-cache.ts).
  const passed = new LRUCache<string, true>({ max: MAX_REMEMBERED, ttl: REFUSAL_WINDOW_MS, ttlResolution: 0, ttlAutopurge: false, perf: clock });
  return async (userId) => {
    if (passed.has(userId)) return;
    passed.set(userId, true);
    await tier.invalidateUser(userId).catch(() => {});
  };
}
