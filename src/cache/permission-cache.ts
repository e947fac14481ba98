import { LRUCache } from 'lru-cache';
import type { UserIdType, ResourceType } from '../genauth/types.js';
import type { GrantIndex } from '../policy/grants.js';

/** Where a cached grant set came from. */
export interface PermissionScope {
  userIdType: UserIdType;
  namespace: string;
  resourceType: ResourceType | undefined;
}

export interface PermissionCacheOptions {
  ttl: number;
  max: number;
  scope: PermissionScope;
  /** Loads a user's grants. Throwing means "not cached". `setTtl` shortens this entry's life. */
  load: (userId: string, setTtl: (ms: number) => void, signal: AbortSignal) => Promise<GrantIndex>;
}

/** The permission cache: lru-cache `fetch()` gives bounded entries, TTL and single-flight loads. */
export interface PermissionCache {
  get(userId: string): Promise<GrantIndex>;
  invalidateUser(userId: string): void;
  invalidateAll(): void;
}

/**
 * The key holds every dimension of the query, JSON-encoded so that no user id can be crafted to
 * collide with another user's key (ids may contain any separator).
 */
export function cacheKey(scope: PermissionScope, userId: string): string {
  return JSON.stringify([scope.userIdType, userId, scope.namespace, scope.resourceType ?? null]);
}

export function createPermissionCache(options: PermissionCacheOptions): PermissionCache {
  const { scope, load } = options;
  const cache = new LRUCache<string, GrantIndex, string>({
    max: options.max,
    ttl: options.ttl,
    fetchMethod: (_key, _stale, { context, options: fetchOptions, signal }) =>
      load(
        context,
        (ms) => {
          fetchOptions.ttl = ms;
        },
        signal,
      ),
  });
  return {
    async get(userId) {
      const key = cacheKey(scope, userId);
      // An invalidation while a load is in flight aborts it; load again so the caller sees fresh grants.
      for (let attempt = 0; attempt < 3; attempt++) {
        const value = await cache.fetch(key, { context: userId }).catch((error: unknown) => {
          if (error instanceof Error && error.name === 'AbortError') return undefined;
          throw error;
        });
        if (value !== undefined) return value;
      }
      throw new Error('permission load was aborted repeatedly');
    },
    invalidateUser(userId) {
      cache.delete(cacheKey(scope, userId));
    },
    invalidateAll() {
      cache.clear();
    },
  };
}
