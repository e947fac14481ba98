import { createPermissionCache, StaleBeyondLimitError, type CachedGrants, type GrantsLink, type PermissionCache } from '../cache/permission-cache.js';
import { createUncachedPermissions } from '../cache/uncached.js';
import { GenAuthApiError, PermissionsUnavailableError, isGuardError } from '../errors.js';
import type { GenAuthClient } from '../genauth/client.js';
import type { ResolvedOptions } from '../options.js';
import { REMEMBERED_RESOURCE_MAX, type DecisionMemo } from '../policy/decide.js';
import { indexGrants, type GrantIndex } from '../policy/grants.js';

/** How long "this user does not exist" is remembered, in ms. */
const UNKNOWN_USER_TTL = 5_000;

/** Bytes an entry's remembered decision may hold: the object and a resource of the longest kept. */
const MEMO_BYTES = 160 + 2 * REMEMBERED_RESOURCE_MAX;

/** What the cache keeps per user: the indexed grants and the last decision made from them. */
export type UserGrants = DecisionMemo;
/** A user's cached grants as the cache hands them out. */
export type CachedUserGrants = CachedGrants<UserGrants>;
/** What a verified token keeps to reach its user's cached grants again. */
export type UserGrantsLink = GrantsLink<UserGrants>;

/** Users' grants: the cache (or its `cache: false` stand-in) over GenAuth, with outages as 503s. */
export interface GrantStore {
  readonly cache: PermissionCache<UserGrants>;
  /** The user's indexed grants, cached or loaded. Throws a 503 GuardError on outage. */
  grants(userId: string): Promise<GrantIndex>;
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
    return { index, lastDecision: undefined, lastResourceType: undefined };
  }

  const cache: PermissionCache<UserGrants> =
    options.cache === false
      ? createUncachedPermissions(load)
      : createPermissionCache({ ...options.cache, clock: options.clock, load, sizeOf: (grants) => grants.index.bytes + MEMO_BYTES });

  return {
    cache,
    async grants(userId) {
      try {
        return (await cache.get(userId)).index;
      } catch (error) {
        throw unavailable(error, options.retryAfter);
      }
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
