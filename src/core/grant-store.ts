import { createPermissionCache, StaleBeyondLimitError, type CachedGrants, type GrantsLink, type PermissionCache } from '../cache/permission-cache.js';
import type { CacheReadNote } from '../cache/cache-events.js';
import { createUncachedPermissions } from '../cache/uncached.js';
import { GenAuthApiError, PermissionsUnavailableError, isGuardError } from '../errors.js';
import type { GenAuthClient } from '../genauth/client.js';
import type { ResolvedOptions } from '../options.js';
import { compiledApiBytes, type CompiledApiGrants } from '../policy/api-compile.js';
import { REMEMBERED_RESOURCE_MAX, type DecisionMemo } from '../policy/decide.js';
import { indexGrants, type GrantIndex } from '../policy/grants.js';

/** How long "this user does not exist" is remembered, in ms. */
const UNKNOWN_USER_TTL = 5_000;

/** Bytes an entry's remembered decision may hold: the object and a resource of the longest kept. */
const MEMO_BYTES = 160 + 2 * REMEMBERED_RESOURCE_MAX;

/** What the cache keeps per user: the indexed grants, the last decision made from them, and what API mode compiled. */
export interface UserGrants extends DecisionMemo {
  /** Bytes of API mode's tries compiled from `index` that the cache's size of the entry counts. */
  apiBytes: number;
  /** The compiled form last charged: a request that uses it again skips the check. */
  apiCharged: CompiledApiGrants | undefined;
}
/** A user's cached grants as the cache hands them out. */
export type CachedUserGrants = CachedGrants<UserGrants>;
/** What a verified token keeps to reach its user's cached grants again. */
export type UserGrantsLink = GrantsLink<UserGrants>;

/** Users' grants: the cache (or its `cache: false` stand-in) over GenAuth, with outages as 503s. */
export interface GrantStore {
  readonly cache: PermissionCache<UserGrants>;
  /** The user's indexed grants, cached or loaded (`note` learns which). Throws a 503 GuardError on outage. */
  grants(userId: string, note?: CacheReadNote): Promise<GrantIndex>;
  /** The same, with what the cache keeps beside them. */
  userGrants(userId: string, note?: CacheReadNote): Promise<UserGrants>;
  /**
   * API mode compiled the user's grants (`compiled` is what it uses): when that grew them, the cache
   * measures their entry again, so `cache.maxBytes` counts the tries (lru-cache sizes an entry when it
   * is stored). A comparison when that form was already charged.
   */
  compiled(userId: string, grants: UserGrants, compiled: CompiledApiGrants): void;
}

/** Creates the grant store of one guard. */
export function createGrantStore(options: ResolvedOptions, client: GenAuthClient): GrantStore {
  const { genauth } = options;

  async function load(userId: string, setTtl: (ms: number) => void): Promise<UserGrants> {
    let index: GrantIndex;
    try {
      const list = await client.getUserAuthorizedResources({
        userId,
        userIdType: genauth.userIdType,
        namespace: genauth.namespace,
        resourceType: genauth.resourceType,
      });
      index = indexGrants(list);
    } catch (error) {
      // A user GenAuth does not know has no permissions: deny (403), remembered briefly.
      if (!(error instanceof GenAuthApiError && error.kind === 'user_not_found')) throw error;
      setTtl(UNKNOWN_USER_TTL);
      index = indexGrants([]);
    }
    return { index, lastDecision: undefined, lastResourceType: undefined, apiBytes: 0, apiCharged: undefined };
  }

  const cache: PermissionCache<UserGrants> =
    options.cache === false
      ? createUncachedPermissions(load)
      : createPermissionCache({ ...options.cache, clock: options.clock, load, sizeOf: (grants) => grants.index.bytes + MEMO_BYTES + grants.apiBytes });

  async function userGrants(userId: string, note?: CacheReadNote): Promise<UserGrants> {
    try {
      return await cache.get(userId, note);
    } catch (error) {
      throw unavailable(error, options.retryAfter);
    }
  }

  return {
    cache,
    grants: async (userId, note) => (await userGrants(userId, note)).index,
    userGrants,
    compiled(userId, grants, compiled) {
      if (compiled === grants.apiCharged) return;
      const bytes = compiledApiBytes(grants.index);
      if (bytes !== grants.apiBytes) {
        const charged = grants.apiBytes;
        grants.apiBytes = bytes;
        // Not measured again (stale, replaced, or no cache): the next request tries again.
        if (!cache.remeasure(userId, grants)) {
          grants.apiBytes = charged;
          return;
        }
      }
      grants.apiCharged = compiled;
    },
  };
}

/** A failed load as the 503 the client gets, with GenAuth's own `Retry-After` when it sent one. */
function unavailable(error: unknown, retryAfter: number): unknown {
  if (isGuardError(error)) return error;
  if (error instanceof StaleBeyondLimitError && error.cause instanceof GenAuthApiError) error = error.cause;
  const seconds = error instanceof GenAuthApiError && error.retryAfter !== undefined ? Math.max(error.retryAfter, 1) : retryAfter;
  return new PermissionsUnavailableError(seconds, { cause: error });
}
