import { moreChannels, type CacheEvent } from '../events.js';

/** What a read of the cache found: fresh, stale served, loaded; `none` without a cache. */
export type CacheState = 'hit' | 'stale' | 'miss' | 'none';

/** Where a caller who wants to know (onDecision) learns the state of its read; absent: nothing is recorded. */
export interface CacheReadNote {
  cache: CacheState;
}

/** Tells `genauth-guard:cache` subscribers (nothing is built when there are none). */
export function publishCache(kind: CacheEvent['kind'], userId: string | undefined): void {
  if (moreChannels.cache.hasSubscribers) moreChannels.cache.publish({ kind, userId } satisfies CacheEvent);
}
