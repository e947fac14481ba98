import { setImmediate as nextTurn } from 'node:timers/promises';
import { createPermissionCache, StaleBeyondLimitError, type CachedGrants, type GrantsLink, type PermissionCache } from '../cache/permission-cache.js';
import { sealingKey } from '../cache/redis/seal.js';
import type { TierCommand } from '../cache/redis/bounded.js';
import { createSharedTier, type SharedTier } from '../cache/redis/tier.js';
import type { CacheReadNote } from '../cache/cache-events.js';
import { createUncachedPermissions } from '../cache/uncached.js';
import { createGrantSetTable, type GrantSet, type GrantSetTable } from '../cache/grant-sets.js';
import { GenAuthApiError, PermissionsUnavailableError, isGuardError } from '../errors.js';
import { readResourceList } from '../genauth/authorized-resources.js';
import type { GenAuthClient } from '../genauth/client.js';
import { createAskedTypeWarning, createGrantShapeWarnings, type GrantShapeWarnings } from '../genauth/warnings.js';
import type { ResolvedCacheOptions, ResolvedOptions } from '../options.js';
import { compiledApiBytes, type CompiledApiGrants } from '../policy/api-compile.js';
import { heldToAskedType } from '../policy/asked-type.js';
import { REMEMBERED_RESOURCE_MAX, type DecisionMemo } from '../policy/decide.js';
import { stringBytes } from '../policy/grant-bytes.js';
import { heldGrants, indexGrants, indexGrantsCompact, indexGrantsCompactLater, speltTwiceFieldOf, strayConditionKeyOf, type GrantIndex } from '../policy/grants.js';
import type { AuthorizedResource } from '../wire.js';
import { createRefusalInvalidations } from './refusal-invalidations.js';
import { refusedAsNonMember } from './setup-problems.js';

/** How long "this user does not exist" is remembered, in ms. */
const UNKNOWN_USER_TTL = 5_000;

/** Bytes an entry's remembered decision may hold: the object and a resource of the longest kept. */
const MEMO_BYTES = 160 + 2 * REMEMBERED_RESOURCE_MAX;

/**
 * Bytes of a user's own record besides the key: the cache entry and the link around the shared grants,
 * and lru-cache's slots for it (its Map entry, lists, ttl and size arrays, grown by half as it fills).
 */
const USER_RECORD_BYTES = 360;

/** A set's record, its hash and the grants object (the table's Map entry included). */
const SET_BYTES = 320;

/** A distinct grant list as GenAuth served it, indexed once for every user holding it. */
export type SharedGrants = GrantSet<readonly AuthorizedResource[], UserGrants>;

/**
 * What the cache hands out for a user: indexed grants and the last decision made from them, shared
 * by every user whose list is the same (a decision depends on the grants alone, and is frozen).
 */
export interface UserGrants extends DecisionMemo {
  /** The interned set these grants are (API mode's tries hang on its index). Set once, when interned. */
  set: SharedGrants;
  /** The compiled form last charged (to the set): a request that uses it again skips the check. */
  apiCharged: CompiledApiGrants | undefined;
}
/** A user's cached grants as the cache hands them out. */
export type CachedUserGrants = CachedGrants<UserGrants>;
/** What a verified token keeps to reach its user's cached grants again. */
export type UserGrantsLink = GrantsLink<UserGrants>;

/** Users' grants: the cache (or its `cache: false` stand-in) over GenAuth, with outages as 503s. */
export interface GrantStore {
  readonly cache: PermissionCache<UserGrants>;
  /** The shared Redis tier behind the cache, when `cache.redis` is set. */
  readonly shared: SharedTier | undefined;
  /** The user's indexed grants, cached or loaded (`note` learns which). Throws a 503 GuardError on outage. */
  grants(userId: string, note?: CacheReadNote): Promise<GrantIndex>;
  /** The same, with what the cache keeps beside them. */
  userGrants(userId: string, note?: CacheReadNote): Promise<UserGrants>;
  /**
   * API mode compiled the user's grants (`compiled` is what it uses): when that grew them, their set
   * is charged the tries (once, whichever of its users compiled them), so `cache.maxBytes` counts
   * them. A comparison when that form was already charged.
   */
  compiled(userId: string, grants: UserGrants, compiled: CompiledApiGrants): void;
}

/** A load that learnt that an invalidation (or the guard's close) came while it ran: its waiters load again, or get the 503. */
class SharedLoadSupersededError extends Error {
  constructor() {
    super('the user was invalidated while their permissions were loading');
    this.name = 'SharedLoadSupersededError';
  }
}

/** Grants over `index`; their `set` is filled in by whoever made the set (see `memo`). */
const grantsOver = (index: GrantIndex): UserGrants => ({ index, held: heldGrants(index), set: undefined as unknown as SharedGrants, lastDecision: undefined, lastResourceType: undefined, apiCharged: undefined });

/** API mode's bytes already charged to a set (the tries live as long as its index). */
const setApiBytes = new WeakMap<SharedGrants, number>();

/** `index`, after telling the operator of an entry read fail-closed for its shape (once per grant set, when indexed). */
function told(index: GrantIndex, warnings: GrantShapeWarnings): GrantIndex {
  const key = strayConditionKeyOf(index);
  if (key !== undefined) warnings.conditionKey(key);
  const field = speltTwiceFieldOf(index);
  if (field !== undefined) warnings.fieldSpeltTwice(field);
  return index;
}

/** `cache: false`: grants of the request's own, lazily indexed, never held, never shared. */
function uncachedGrants(list: readonly AuthorizedResource[], warnings: GrantShapeWarnings): UserGrants {
  const grants = grantsOver(told(indexGrants(list), warnings));
  grants.set = { packed: '', length: 0, built: grants, hash: '', users: 0, bytes: 0 };
  return grants;
}

/**
 * Lists this long or longer (about 60 KB of JSON and up) are interned in a turn of their own: for
 * 10,000 grants, parsing GenAuth's answer and serializing and hashing the list each take several
 * milliseconds, which would otherwise hold up every other request as one stretch.
 */
const LARGE_LIST = 500;

/** A set's grants, linked back to it (API mode's tries and the byte accounting hang on the set). */
function grantsOf(set: GrantSet<readonly AuthorizedResource[], UserGrants>): UserGrants {
  set.built.set = set;
  return set.built;
}

const userNotFound = (error: unknown) => error instanceof GenAuthApiError && error.kind === 'user_not_found';

/** Creates the grant store of one guard. */
/** `redisRefused`: told each command Redis's ACL refuses the shared tier (a set-up problem). */
export function createGrantStore(options: ResolvedOptions, client: GenAuthClient, redisRefused?: (command: TierCommand) => void): GrantStore {
  const { genauth } = options;
  const settings: ResolvedCacheOptions | undefined = options.cache === false ? undefined : options.cache;
  // Each guard interns its own users' lists: a set is shared only within one guard's scope.
  const warnings = createGrantShapeWarnings(options.logger, options.clock);
  const sets: GrantSetTable<readonly AuthorizedResource[], UserGrants> = createGrantSetTable({
    build: (list) => grantsOver(told(indexGrantsCompact(list), warnings)),
    buildLater: async (list) => grantsOver(told(await indexGrantsCompactLater(list), warnings)),
    // The list's text is kept deflated: charged as the latin1 string that holds it.
    sizeOf: (grants, packed) => grants.index.bytes + SET_BYTES + MEMO_BYTES + stringBytes(packed),
  });
  function memo(list: readonly AuthorizedResource[]): UserGrants | Promise<UserGrants> {
    if (settings === undefined) return uncachedGrants(list, warnings);
    if (list.length >= LARGE_LIST) return memoLater(list);
    const interned = sets.intern(list);
    return interned instanceof Promise ? interned.then(grantsOf) : grantsOf(interned);
  }
  /** A long list is serialized and hashed in a turn of its own, not in the same stretch as the parse of GenAuth's answer. */
  async function memoLater(list: readonly AuthorizedResource[]): Promise<UserGrants> {
    await nextTurn();
    return grantsOf(await sets.intern(list));
  }
  const shared =
    settings?.redis === undefined
      ? undefined
      : createSharedTier({
          client: settings.redis,
          prefix: settings.redisPrefix,
          timeout: settings.redisTimeout,
          heartbeat: settings.redisHeartbeat,
          scope: { userPoolId: genauth.userPoolId, tenantId: genauth.tenantId, tenantHeader: genauth.tenantHeader, namespace: genauth.namespace, userIdType: genauth.userIdType, resourceType: genauth.resourceType },
          ttl: settings.ttl,
          maxStale: settings.maxStale,
          maxBytes: genauth.maxResponseBytes,
          sealingKey: sealingKey(genauth.accessKeySecret),
          logger: options.logger,
          clock: options.clock,
          now: options.now,
          refused: redisRefused,
        });

  // With the shared tier: a user GenAuth refuses is forgotten on every instance, not only this one.
  const refusalsPassedOn = shared === undefined ? undefined : createRefusalInvalidations(shared, options.clock);

  const askedTypeWarning = createAskedTypeWarning(options.logger, options.clock);
  /** GenAuth's list, held to `genauth.resourceType` when one is asked for (policy/asked-type.ts). */
  async function fetchList(userId: string): Promise<AuthorizedResource[]> {
    const asked = genauth.resourceType;
    const list = await client.getUserAuthorizedResources({ userId, userIdType: genauth.userIdType, namespace: genauth.namespace, resourceType: asked });
    if (asked === undefined) return list;
    const held = heldToAskedType(list, asked);
    if (held.list !== list) askedTypeWarning(asked, held.allowsDropped, held.deniesKept);
    return held.list;
  }

  async function load(userId: string, setTtl: (ms: number) => void): Promise<UserGrants> {
    try {
      return memo(await fetchList(userId));
    } catch (error) {
      // A user GenAuth does not know has no permissions: deny (403), remembered briefly.
      if (!userNotFound(error)) throw error;
      setTtl(UNKNOWN_USER_TTL);
      return memo([]);
    }
  }

  /**
   * A local miss with the shared tier: Redis first (an entry is fresh until its fetch time + ttl, on
   * every instance), then GenAuth, whose answer is written back unless an invalidation came since the
   * read. Redis trouble makes it the plain load. A stale entry is served only while GenAuth fails, within
   * maxStale; never once GenAuth refused the user (apiCode 2120008): that refusal is passed on as the
   * user's invalidation (Redis's entry deleted, every instance forgets the user), at most once per user per
   * window (refusal-invalidations.ts), before the load rejects.
   */
  async function loadShared(tier: SharedTier, ttl: number, maxStale: number, userId: string, setTtl: (ms: number) => void, current: () => boolean): Promise<UserGrants> {
    const read = await tier.read(userId);
    let stale: { list: AuthorizedResource[]; age: number } | undefined;
    if (read?.entry !== undefined) {
      // Held to the type as GenAuth's answers are: an entry written before that was done may hold others.
      const sent = readResourceList(read.entry.list);
      const list = sent === undefined || genauth.resourceType === undefined ? sent : heldToAskedType(sent, genauth.resourceType).list;
      if (list === undefined) tier.ignored('list');
      else {
        const age = Math.max(0, options.now() - read.entry.fetchedAt);
        if (age < ttl) {
          tier.counted('hit');
          setTtl(ttl - age);
          return memo(list);
        }
        stale = { list, age };
      }
    }
    tier.counted('miss');
    const fetchedAt = options.now();
    let list: AuthorizedResource[];
    try {
      list = await fetchList(userId);
    } catch (error) {
      if (userNotFound(error)) {
        setTtl(UNKNOWN_USER_TTL);
        return memo([]);
      }
      // GenAuth refused the user (disabled, outside the tenant): an answer, not an outage; nothing stale,
      // here or on another instance whose own copy is still fresh (a closed guard writes nothing to Redis).
      if (refusedAsNonMember(error)) {
        if (current()) await refusalsPassedOn?.(userId);
        throw error;
      }
      if (stale === undefined || maxStale === 0 || stale.age >= ttl + maxStale) throw error;
      setTtl(ttl - stale.age); // already stale: served within maxStale of its fetch time + ttl
      return memo(stale.list);
    }
    // Moot since (the user invalidated here, the guard closed): its answer is used by no one, so it is
    // not shared either. A closed guard writes nothing to Redis.
    if (!current()) throw new SharedLoadSupersededError();
    const outcome = read === undefined ? 'unknown' : await tier.write(read, list, fetchedAt);
    // An invalidation came since the read (its message may not be here yet): never keep this answer.
    if (outcome === 'user-invalidated') cache.invalidateUser(userId);
    if (outcome === 'all-invalidated') cache.invalidateAll();
    if (outcome === 'user-invalidated' || outcome === 'all-invalidated') throw new SharedLoadSupersededError();
    return memo(list);
  }

  const cache: PermissionCache<UserGrants> =
    settings === undefined
      ? createUncachedPermissions(load)
      : createPermissionCache({
          ...settings,
          clock: options.clock,
          load: shared === undefined ? load : (userId, setTtl, current) => loadShared(shared, settings.ttl, settings.maxStale, userId, setTtl, current),
          sizeOf: () => USER_RECORD_BYTES,
          // A disabled user, or one outside the tenant, keeps no stale grants (a 503, as on a cold load).
          refusesUser: refusedAsNonMember,
          shared: {
            retain: (grants) => sets.retain(grants.set),
            release: (grants) => sets.release(grants.set),
            bytesOf: (grants) => grants.set.bytes,
            bytes: () => sets.bytes,
            count: () => sets.size,
          },
        });

  async function userGrants(userId: string, note?: CacheReadNote): Promise<UserGrants> {
    try {
      return await cache.get(userId, note);
    } catch (error) {
      throw unavailable(error, options.retryAfter);
    }
  }

  return {
    cache,
    shared,
    grants: async (userId, note) => (await userGrants(userId, note)).index,
    userGrants,
    compiled(userId, grants, compiled) {
      if (compiled === grants.apiCharged) return;
      const set = grants.set;
      // The tries hang on the shared index: charged to the set, once, whichever of its users compiled them.
      const charged = setApiBytes.get(set) ?? 0;
      const bytes = compiledApiBytes(grants.index);
      if (bytes !== charged) {
        setApiBytes.set(set, bytes);
        sets.grew(set, bytes - charged);
        // Grown past one entry's budget: its users leave (it is used for this request, as a load would be).
        if (settings !== undefined && set.bytes + USER_RECORD_BYTES + 2 * userId.length > settings.maxEntryBytes) cache.dropWhere((held) => held.set === set);
        cache.fit(userId);
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
