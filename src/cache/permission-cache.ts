import { LRUCache } from 'lru-cache';
import type { ResourceType, UserIdType } from '../genauth/types.js';
import type { GrantIndex } from '../policy/grants.js';

/** Where a cached grant set came from. */
export interface PermissionScope {
  userIdType: UserIdType;
  namespace: string;
  resourceType: ResourceType | undefined;
}

export interface PermissionCacheOptions {
  /** Freshness, ms. */
  ttl: number;
  /** Most users. */
  max: number;
  /** Budget of all entries, bytes (estimated with `GrantIndex.bytes`). */
  maxBytes: number;
  /** Budget of one entry, bytes: a larger grant set is used for its request and not cached. */
  maxEntryBytes: number;
  /** How long past `ttl` a cached set may still be served while GenAuth fails, ms. 0: never. */
  maxStale: number;
  /** Serve a stale set while refreshing it in the background (within `maxStale`). */
  staleWhileRevalidate: boolean;
  /** How long a failed load is remembered, so an outage burst makes one upstream call, ms. 0: off. */
  errorTtl: number;
  scope: PermissionScope;
  /** Loads a user's grants. Throwing means "not cached". `setTtl` shortens this entry's life. */
  load: (userId: string, setTtl: (ms: number) => void) => Promise<GrantIndex>;
}

/** The permission cache: lru-cache `fetch()` gives bounds, TTL, single-flight loads and stale rules. */
export interface PermissionCache {
  /** The user's grants when a fresh entry is cached (no I/O, no promise); undefined otherwise. */
  peek(userId: string): GrantIndex | undefined;
  get(userId: string): Promise<GrantIndex>;
  invalidateUser(userId: string): void;
  invalidateAll(): void;
  /** Entries and estimated bytes held now. */
  stats(): { entries: number; bytes: number };
}

interface Entry {
  index: GrantIndex;
  fetchedAt: number;
  ttl: number;
}

/** Raised when the only cached set is older than `ttl + maxStale` and no fresh one could be loaded. */
export class StaleBeyondLimitError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('cached permissions are older than maxStale and could not be refreshed', options);
    this.name = 'StaleBeyondLimitError';
  }
}

/**
 * The key holds every dimension of the query, JSON-encoded so that no user id can be crafted to
 * collide with another user's key (ids may contain any separator).
 */
export function cacheKey(scope: PermissionScope, userId: string): string {
  return JSON.stringify([scope.userIdType, userId, scope.namespace, scope.resourceType ?? null]);
}

/** {@link cacheKey} for one scope, with the constant parts encoded once (same string, no per-call array). */
function scopedKey(scope: PermissionScope): (userId: string) => string {
  const head = `[${JSON.stringify(scope.userIdType)},`;
  const tail = `,${JSON.stringify(scope.namespace)},${JSON.stringify(scope.resourceType ?? null)}]`;
  return (userId) => head + JSON.stringify(userId) + tail;
}

export function createPermissionCache(options: PermissionCacheOptions): PermissionCache {
  const { scope, load, maxStale } = options;
  const failures =
    options.errorTtl > 0 ? new LRUCache<string, { error: unknown }>({ max: options.max, ttl: options.errorTtl }) : undefined;

  const cache = new LRUCache<string, Entry, string>({
    max: options.max,
    maxSize: options.maxBytes,
    maxEntrySize: options.maxEntryBytes,
    sizeCalculation: (entry, key) => entry.index.bytes + 2 * key.length,
    ttl: options.ttl,
    allowStale: options.staleWhileRevalidate && maxStale > 0,
    allowStaleOnFetchRejection: maxStale > 0,
    noDeleteOnFetchRejection: maxStale > 0,
    fetchMethod: async (key, _stale, { context, options: fetchOptions }) => {
      const failed = failures?.get(key);
      if (failed !== undefined) throw failed.error;
      let ttl = options.ttl;
      try {
        const index = await load(context, (ms) => {
          ttl = Math.min(ms, options.ttl); // only ever shortens
        });
        fetchOptions.ttl = ttl;
        return { index, fetchedAt: Date.now(), ttl };
      } catch (error) {
        failures?.set(key, { error });
        throw error;
      }
    },
  });

  const tooOld = (entry: Entry) => Date.now() - entry.fetchedAt > entry.ttl + maxStale;
  const keyOf = scopedKey(scope);

  /**
   * The hot path: a fresh entry, read synchronously with no fetch() machinery. Only a key whose TTL
   * has not run out is read (get() would delete a stale one that stale-while-revalidate still needs);
   * anything else (missing, stale, loading) goes through fetch().
   */
  function freshIndex(key: string): GrantIndex | undefined {
    if (!(cache.getRemainingTTL(key) > 0)) return undefined;
    const entry = cache.get(key, { allowStale: false });
    return entry !== undefined && !tooOld(entry) ? entry.index : undefined;
  }

  async function fetchEntry(key: string, userId: string, fresh: boolean): Promise<Entry | undefined> {
    const status: LRUCache.Status<string, Entry, string> = {};
    const entry = await cache.fetch(
      key,
      fresh ? { context: userId, forceRefresh: true, allowStale: false, status } : { context: userId, status },
    );
    if (entry !== undefined) return entry;
    // With stale-on-rejection on, a failed load with nothing stale resolves undefined: surface its error.
    // An invalidation while a load is in flight aborts it: the caller loads again.
    if (status.fetchRejected && status.fetchError !== undefined && !status.fetchAborted) throw status.fetchError;
    return undefined;
  }

  /** The full path: fetch() with single-flight loads and the stale rules. */
  async function fetchIndex(key: string, userId: string): Promise<GrantIndex> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let entry = await fetchEntry(key, userId, false);
      if (entry !== undefined && tooOld(entry)) {
        // Past the stale window: only a fresh answer will do.
        entry = await fetchEntry(key, userId, true);
        if (entry !== undefined && tooOld(entry)) throw new StaleBeyondLimitError({ cause: failures?.get(key)?.error });
      }
      if (entry !== undefined) return entry.index;
    }
    throw new Error('permission load was aborted repeatedly');
  }

  return {
    peek: (userId) => freshIndex(keyOf(userId)),
    get(userId) {
      const key = keyOf(userId);
      const fresh = freshIndex(key);
      return fresh !== undefined ? Promise.resolve(fresh) : fetchIndex(key, userId);
    },
    invalidateUser(userId) {
      const key = keyOf(userId);
      cache.delete(key);
      failures?.delete(key);
    },
    invalidateAll() {
      cache.clear();
      failures?.clear();
    },
    stats: () => ({ entries: cache.size, bytes: cache.calculatedSize }),
  };
}
