import { LRUCache } from 'lru-cache';
import type { Clock } from '../options/types.js';
import { publishCache, type CacheReadNote, type CacheState } from './cache-events.js';
import { Generations, type GenerationMark } from './generations.js';

/** Options of the permission cache, which keeps one value `V` per user (the core: indexed grants). */
export interface PermissionCacheOptions<V> {
  /** Freshness, ms. */
  ttl: number;
  /** Most users; `Infinity`: no count, `maxBytes` alone bounds the cache. */
  max: number;
  /** Budget of all entries, bytes (estimated with `sizeOf`). */
  maxBytes: number;
  /** Budget of one entry, bytes: a larger grant set is used for its request and not cached. */
  maxEntryBytes: number;
  /** How long past `ttl` a cached set may still be served while GenAuth fails, ms. 0: never. */
  maxStale: number;
  /** Serve a stale set while refreshing it in the background (within `maxStale`). */
  staleWhileRevalidate: boolean;
  /** How long a failed load is remembered, so an outage burst makes one upstream call, ms. 0: off. */
  errorTtl: number;
  /** The clock every ttl is measured on (lru-cache's `perf`). */
  clock: Clock;
  /**
   * Loads a user's grants. Throwing means "not cached". `setTtl` shortens this entry's life; 0 or less
   * means it is already that many ms past its freshness (a stale copy from the shared tier, served while
   * GenAuth fails): it is then only served within `maxStale` of when it stopped being fresh. `current()`
   * turns false once the load is moot (its user invalidated, the cache closed): its answer will be
   * neither stored nor used, so nothing of it should be written elsewhere either.
   */
  load: (userId: string, setTtl: (ms: number) => void, current: () => boolean) => Promise<V>;
  /** Estimated bytes of a value and what the caller keeps beside it (the key's are added). */
  sizeOf: (value: V) => number;
  /**
   * Whether a load's failure is GenAuth's answer about the user (refused as disabled or outside the
   * tenant), not an outage: their stale entry is then dropped, never served, however much of
   * `maxStale` is left. Absent: every failure may be answered from a stale entry.
   */
  refusesUser?: (error: unknown) => boolean;
  /**
   * What several users' values share (an interned grant set), charged once against `maxBytes`
   * however many users hold it; `sizeOf` then counts only a user's own part. Absent: nothing shared.
   */
  shared?: SharedPart<V>;
}

/** The part of values that users share: the cache says when a user's value is stored and dropped. */
export interface SharedPart<V> {
  /** A user's value was stored: it now holds its shared part. */
  retain(value: V): void;
  /** A user's value left the cache (evicted, replaced, invalidated, expired). */
  release(value: V): void;
  /** Bytes of the value's shared part, for the `maxEntryBytes` check. */
  bytesOf(value: V): number;
  /** Bytes of every shared part held now, each once. */
  bytes(): number;
  /** Distinct shared parts held now. */
  count(): number;
}

/** What a cache holds now. */
export interface PermissionCacheStats {
  /** Users cached. */
  entries: number;
  /** Estimated bytes charged against `maxBytes`: every user's own part, and each shared part once. */
  bytes: number;
  /** Users cached (the same as `entries`). */
  users: number;
  /** Distinct grant sets they hold (each user holds one; users with equal lists share one). */
  sets: number;
}

/** The permission cache: lru-cache `fetch()` gives bounds, TTL, single-flight loads and stale rules. */
export interface PermissionCache<V> {
  /** The user's fresh cached entry (no I/O, no promise); undefined when nothing fresh is cached. */
  peek(userId: string): CachedGrants<V> | undefined;
  /**
   * The grants behind a link that `peek` handed out (`cached.link`) while they are still the user's
   * fresh entry: not evicted, replaced or invalidated, and younger than their ttl; else undefined.
   * Lets a caller that kept the link skip the lookup.
   */
  stillFresh(link: GrantsLink<V>): CachedGrants<V> | undefined;
  /** The user's grants, cached or loaded; `note`, when given, learns whether they were a hit, stale or a miss. */
  get(userId: string, note?: CacheReadNote): Promise<V>;
  invalidateUser(userId: string): void;
  invalidateAll(): void;
  /** Entries, distinct sets and estimated bytes held now. */
  stats(): PermissionCacheStats;
  /**
   * Empties the cache for good (the guard was closed): loads in flight are made moot, so their answers
   * are neither stored nor used, and no load starts again; `get` rejects with {@link CacheClosedError}.
   */
  close(): void;
  /**
   * The shared parts grew (API mode compiled `userId`'s set): the least recently used other users
   * leave until the cache is within `maxBytes` again.
   */
  fit(userId: string): void;
  /**
   * Drops every stored user whose value `matches` (a shared part grew above `maxEntryBytes`): said
   * as `oversize`, as lru-cache's own refusal is. A walk over the cache: for rare events only.
   */
  dropWhere(matches: (value: V) => boolean): void;
  /**
   * Measures the user's entry again (`sizeOf`) when it is fresh and holds `value`, which grew since it
   * was stored; its ttl is kept. An entry now above `maxEntryBytes` leaves the cache; others may be
   * evicted to stay within `maxBytes`. True when it was measured again.
   */
  remeasure(userId: string, value: V): boolean;
}

/** A user's cached grants as `peek` hands them out. */
export interface CachedGrants<V> {
  readonly value: V;
  /** What a caller may keep instead of the grants themselves (see stillFresh). */
  readonly link: GrantsLink<V>;
  /** The reading of the cache's clock past which the entry is no longer fresh (lru-cache's ttl). */
  readonly freshUntil: number;
}

/**
 * A reference to a cache entry that lets go of it when lru-cache does: a link kept by someone else
 * (a cached token's record) never holds evicted grants in memory beyond the cache's byte budget.
 */
export interface GrantsLink<V> {
  grants: CachedGrants<V> | undefined;
}

/** Raised when the only cached set is older than `ttl + maxStale` and no fresh one could be loaded. */
export class StaleBeyondLimitError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('cached permissions are older than maxStale and could not be refreshed', options);
    this.name = 'StaleBeyondLimitError';
  }
}

/** A load that began before an invalidation of its user: its answer is dropped, its waiters load again. */
class LoadSupersededError extends Error {
  constructor() {
    super('the user was invalidated while their permissions were loading');
    this.name = 'LoadSupersededError';
  }
}

/** What `get` rejects with once the cache was closed (the guard answers it with its 503). */
export class CacheClosedError extends Error {
  constructor() {
    super('the permission cache was closed');
    this.name = 'CacheClosedError';
  }
}

/** Failed loads remembered at most (lru-cache allocates this many slots up front). */
const MAX_FAILURES = 10_000;

/** Loads of one request: a first one, and fresh ones after invalidations that each made moot (bounded, so an invalidation storm cannot hold a request forever). */
const MAX_LOADS_PER_REQUEST = 8;

export function createPermissionCache<V>(options: PermissionCacheOptions<V>): PermissionCache<V> {
  const { load, maxStale, clock, shared } = options;
  const generations = new Generations();
  const failures =
    options.errorTtl > 0 ? new LRUCache<string, { error: unknown }>({ max: Math.min(options.max, MAX_FAILURES), ttl: options.errorTtl, ttlResolution: 0, perf: clock }) : undefined;

  // Keyed by the user id alone: the other query dimensions (id type, namespace, resource type) are
  // fixed for one guard, and each guard owns its cache, so no id can reach another scope's entry.
  const cache = new LRUCache<string, CachedGrants<V>>({
    // 0: no count (lru-cache then grows its lists as it fills instead of allocating `max` slots up front).
    max: Number.isFinite(options.max) ? options.max : 0,
    maxSize: options.maxBytes,
    maxEntrySize: options.maxEntryBytes,
    sizeCalculation: (entry, key) => sizeOfEntry(entry.value, key),
    ttl: options.ttl,
    // Read the clock on each check instead of caching it behind a 1 ms setTimeout: a timer per
    // millisecond per cache costs more than a clock reading (performance.now()) on the hot path.
    ttlResolution: 0,
    perf: clock,
    allowStale: options.staleWhileRevalidate && maxStale > 0,
    allowStaleOnFetchRejection: maxStale > 0,
    noDeleteOnFetchRejection: maxStale > 0,
    // A stale entry read by peek() stays for fetch() to revalidate (stale-while-revalidate).
    noDeleteOnStaleGet: true,
    // A load evicted while in flight (a cold burst of more users than `max`) still answers the
    // requests waiting on it; lru-cache just does not store it. Without this, eviction would settle
    // them with nothing, as if GenAuth had failed: a 503. An invalidation still ends a load at once
    // (see supersededOn in fetchMethod).
    ignoreFetchAbort: true,
    // A link someone kept (see stillFresh) lets go of an entry that is no longer the user's.
    dispose: (entry, userId, reason) => {
      letGo(entry);
      if (reason === 'evict') publishCache('evict', userId);
    },
    // Called once per stored value ('update' sets the value already stored, which was never disposed).
    onInsert: shared === undefined
      ? undefined
      : (entry, userId, reason) => {
          if (reason === 'update') return;
          shared.retain(entry.value);
          fitShared(userId);
        },
    fetchMethod: async (userId, stale, { signal, options: fetchOptions }) => {
      if (stale !== undefined) letGoWhenDropped(userId, stale, signal);
      const failed = failures?.get(userId);
      if (failed !== undefined) throw dropStaleOn(failed.error, fetchOptions);
      const mark = generations.begin(userId);
      let ttl = options.ttl;
      try {
        const loading = load(
          userId,
          (ms) => {
            ttl = Math.min(ms, options.ttl); // only ever shortens
          },
          () => generations.current(mark),
        );
        const value = await Promise.race([loading, supersededOn(signal, mark)]);
        // Begun before an invalidation: never stored, whatever lru-cache does with an aborted fetch.
        if (!generations.current(mark)) throw new LoadSupersededError();
        // lru-cache takes a ttl of 0 for "never expires": an already stale entry lives 1 ms there.
        fetchOptions.ttl = Math.max(ttl, 1);
        // lru-cache drops it silently: said here (the request still gets it).
        if (sizeOfEntry(value, userId) > options.maxEntryBytes) publishCache('oversize', userId);
        // Read before lru-cache stores it, so this ends no later than lru-cache's own ttl does.
        const freshUntil = clock.now() + ttl;
        const link: GrantsLink<V> = { grants: undefined };
        const entry: CachedGrants<V> = { value, link, freshUntil };
        link.grants = entry;
        generations.settled(mark, undefined);
        return entry;
      } catch (error) {
        // The failure of a load begun before an invalidation says nothing about the user now.
        if (generations.current(mark)) {
          failures?.set(userId, { error });
          generations.settled(mark, { error });
        }
        throw dropStaleOn(error, fetchOptions);
      } finally {
        generations.end(mark);
      }
    },
  });

  /**
   * `error`, after telling lru-cache, when it refuses the user, to delete their stale entry rather than
   * keep and serve it (the fetch's own options, which a fetchMethod may change): the entry's shared part
   * is let go of as for any delete of a load (letGoWhenDropped).
   */
  function dropStaleOn(error: unknown, fetchOptions: { allowStaleOnFetchRejection?: boolean; noDeleteOnFetchRejection?: boolean }): unknown {
    if (options.refusesUser?.(error) === true) {
      fetchOptions.allowStaleOnFetchRejection = false;
      fetchOptions.noDeleteOnFetchRejection = false;
    }
    return error;
  }

  /** An entry that left the cache: a link someone kept lets go of it, and it of its shared part. */
  function letGo(entry: CachedGrants<V>): void {
    entry.link.grants = undefined;
    shared?.release(entry.value);
  }

  /**
   * lru-cache keeps a stale entry behind the load refreshing it, and when it deletes that load (the user
   * invalidated or pushed out for the shared bytes, the cache cleared, the refresh failed with maxStale
   * 0) it aborts it without disposing of the entry: let go of here once the delete is done, unless it
   * was disposed of (replaced, evicted) or is still held. Otherwise its shared part stayed charged and
   * held for good.
   */
  function letGoWhenDropped(userId: string, stale: CachedGrants<V>, signal: AbortSignal): void {
    signal.addEventListener('abort', () => {
      queueMicrotask(() => {
        if (stale.link.grants === stale && cache.peek(userId, { allowStale: true }) !== stale) letGo(stale);
      });
    }, { once: true });
  }

  /**
   * A user's own bytes; with a shared part, lru-cache counts only those (the part is charged once, see
   * fitShared), but an entry whose part alone is too large for `maxEntryBytes` is still refused.
   */
  function sizeOfEntry(value: V, userId: string): number {
    const own = options.sizeOf(value) + 2 * userId.length;
    if (shared === undefined) return own;
    const whole = own + shared.bytesOf(value);
    return whole > options.maxEntryBytes ? whole : own;
  }

  /**
   * lru-cache keeps users' own bytes within `maxBytes`; the shared parts come on top, each once:
   * the least recently used users leave (a shared part goes with its last user) until both fit.
   * `keep` (the user just stored or grown) stays: a part alone is never above `maxEntryBytes`, itself
   * within `maxBytes`. Victims are taken from lru-cache's own order in batches and deleted outside
   * its iteration (loads in flight are not among them: they hold nothing yet).
   */
  function fitShared(keep: string | undefined): void {
    if (shared === undefined) return;
    const over = () => cache.calculatedSize + shared.bytes() > options.maxBytes;
    while (over()) {
      const victims: string[] = [];
      for (const userId of cache.rkeys()) {
        if (userId !== keep) victims.push(userId);
        if (victims.length === 64) break;
      }
      if (victims.length === 0) return;
      for (const userId of victims) {
        if (!over()) return;
        cache.delete(userId);
        publishCache('evict', userId);
      }
    }
  }

  /**
   * Rejects when lru-cache aborts the load because its user was invalidated (the generation moved
   * first, see invalidateUser), so the waiters load again at once instead of waiting on an answer
   * they would drop. Any other abort (an eviction) leaves the load to finish and answer them.
   */
  function supersededOn(signal: AbortSignal, mark: GenerationMark): Promise<never> {
    return new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        if (!generations.current(mark)) reject(new LoadSupersededError());
      }, { once: true });
    });
  }

  /** Set by close(): read once per load a request would start, never on a hit. */
  let closed = false;

  const tooOld = (entry: CachedGrants<V>) => clock.now() > entry.freshUntil + maxStale;

  /**
   * The hot path: a fresh entry, read synchronously with no fetch() machinery (one lookup). A stale
   * or loading entry reads as undefined and stays in place; those go through fetch(). Fresh to
   * lru-cache means younger than the entry's ttl, so never older than ttl + maxStale.
   */
  function freshEntry(userId: string): CachedGrants<V> | undefined {
    return cache.get(userId, { allowStale: false });
  }

  async function fetchEntry(userId: string, fresh: boolean, note: CacheReadNote | undefined): Promise<CachedGrants<V> | undefined> {
    const status: LRUCache.Status<string, CachedGrants<V>> = {};
    const entry = await cache.fetch(userId, fresh ? { forceRefresh: true, allowStale: false, status } : { status });
    if (entry !== undefined) {
      const state: CacheState = status.returnedStale === true ? 'stale' : status.fetch === 'hit' ? 'hit' : 'miss';
      if (note !== undefined) note.cache = state;
      publishCache(state, userId);
      return entry;
    }
    // With stale-on-rejection on, a failed load with nothing stale resolves undefined: surface its error.
    // An invalidation while a load is in flight aborts it (LoadSupersededError): the caller loads again.
    if (status.fetchRejected && status.fetchError !== undefined && !status.fetchAborted) throw status.fetchError;
    return undefined;
  }

  /** fetch() with single-flight loads and the stale rules; undefined when the load was aborted. */
  async function usableEntry(userId: string, note: CacheReadNote | undefined): Promise<CachedGrants<V> | undefined> {
    const entry = await fetchEntry(userId, false, note);
    if (entry === undefined || !tooOld(entry)) return entry;
    // Past the stale window: only a fresh answer will do.
    const fresh = await fetchEntry(userId, true, note);
    if (fresh !== undefined && tooOld(fresh)) throw new StaleBeyondLimitError({ cause: failures?.get(userId)?.error });
    return fresh;
  }

  /**
   * The full path. A request that waited through an invalidation of its user takes no answer from
   * that wait, not even a failure (lru-cache rejects a fetch it aborts on delete when nothing stale
   * stands in): it waits on a load begun after the invalidation, which the requests in the same
   * position share. A request that joined a load that failed with nothing stale to serve gets that
   * failure (lru-cache resolves joiners `undefined`): it does not start a load of its own.
   */
  async function fetchValue(userId: string, note: CacheReadNote | undefined): Promise<V> {
    for (let loads = 0; loads < MAX_LOADS_PER_REQUEST; loads++) {
      // Closed: a request whose load close() made moot loads nothing again (the miss path only).
      if (closed) throw new CacheClosedError();
      const mark = generations.begin(userId);
      try {
        const entry = await usableEntry(userId, note);
        if (generations.current(mark)) {
          if (entry !== undefined) return entry.value;
          const failure = generations.failureSince(mark);
          if (failure !== undefined) throw failure.error;
        }
      } catch (error) {
        if (generations.current(mark) && !(error instanceof LoadSupersededError)) throw error;
      } finally {
        generations.end(mark);
      }
    }
    throw new Error('permission load was aborted repeatedly');
  }

  return {
    peek: freshEntry,
    stillFresh(link) {
      const grants = link.grants;
      return grants !== undefined && clock.now() < grants.freshUntil ? grants : undefined;
    },
    get(userId, note) {
      const fresh = freshEntry(userId);
      if (fresh === undefined) return fetchValue(userId, note);
      if (note !== undefined) note.cache = 'hit';
      publishCache('hit', userId);
      return Promise.resolve(fresh.value);
    },
    invalidateUser(userId) {
      generations.invalidate(userId); // first: the aborts below settle the loads it makes moot
      cache.delete(userId);
      failures?.delete(userId);
      publishCache('invalidate', userId);
    },
    invalidateAll() {
      generations.invalidateAll();
      cache.clear();
      failures?.clear();
      publishCache('invalidate', undefined);
    },
    close() {
      closed = true;
      // The generations first: the aborts below settle the loads in flight as moot (see supersededOn).
      // lru-cache's clear() disposes of every entry (their shared parts with them) and aborts the loads.
      generations.invalidateAll();
      cache.clear();
      failures?.clear();
    },
    stats() {
      const sets = shared === undefined ? cache.size : shared.count();
      return { entries: cache.size, users: cache.size, sets, bytes: cache.calculatedSize + (shared?.bytes() ?? 0) };
    },
    fit: (userId) => fitShared(userId),
    dropWhere(matches) {
      const users: string[] = [];
      for (const [userId, entry] of cache.entries()) if (matches(entry.value)) users.push(userId);
      for (const userId of users) {
        cache.delete(userId);
        publishCache('oversize', userId);
      }
    },
    remeasure(userId, value) {
      // Fresh only: a stale entry may have a load in flight over it, which setting it would replace.
      const entry = cache.peek(userId, { allowStale: false });
      if (entry === undefined || entry.value !== value) return false;
      // lru-cache sizes an entry when a new one is set: set a copy (same value, link and ttl). Setting
      // it disposes of the old one, which lets go of the link: point the link at the copy once stored.
      const copy: CachedGrants<V> = { value, link: entry.link, freshUntil: entry.freshUntil };
      cache.set(userId, copy, { noUpdateTTL: true });
      if (cache.peek(userId, { allowStale: true }) === copy) copy.link.grants = copy;
      return true;
    },
  };
}
