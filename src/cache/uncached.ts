import { CacheClosedError, type PermissionCache } from './permission-cache.js';

/** Loads of one request: a first one, and fresh ones after invalidations (bounded against an invalidation storm). */
const MAX_LOADS_PER_REQUEST = 8;

interface Load<V> {
  /** Dropped when settled: see `start`. */
  promise: Promise<V> | undefined;
  /** Set when the user is invalidated while this load runs: its answer may predate the change. */
  invalidated: boolean;
}

const IGNORE_TTL = () => {};

/**
 * `cache: false`: nothing is kept between requests, every request asks GenAuth. Requests for the
 * same user that arrive while a load is running share it (one upstream call, not one per request),
 * and an invalidation during that load makes them load again (whether it succeeds or fails), as the
 * cache does; a request that arrives after the invalidation never joins it.
 */
export function createUncachedPermissions<V>(load: (userId: string, setTtl: (ms: number) => void, current: () => boolean) => Promise<V>): PermissionCache<V> {
  const running = new Map<string, Load<V>>();
  // Set by close(): requests that waited on a load it made moot start none again.
  let closed = false;

  function start(userId: string): Load<V> {
    const entry: Load<V> = { promise: undefined, invalidated: false };
    const promise = load(userId, IGNORE_TTL, () => !entry.invalidated);
    entry.promise = promise;
    running.set(userId, entry);
    const done = () => {
      // A deleted Map slot may keep its value until the table is rehashed: drop the settled promise
      // (and the grant list it holds) first, or every answer outlives its request (docs/bench.md).
      entry.promise = undefined;
      if (running.get(userId) === entry) running.delete(userId);
    };
    promise.then(done, done);
    return entry;
  }

  async function get(userId: string): Promise<V> {
    for (let attempt = 0; attempt < MAX_LOADS_PER_REQUEST; attempt++) {
      if (closed) throw new CacheClosedError();
      const entry = running.get(userId) ?? start(userId);
      try {
        const value = await (entry.promise as Promise<V>);
        if (!entry.invalidated) return value;
      } catch (error) {
        // A load begun before an invalidation answers nothing, not even with its failure.
        if (!entry.invalidated) throw error;
      }
    }
    throw new Error('permission load was invalidated repeatedly');
  }

  function invalidate(entry: Load<V> | undefined): void {
    if (entry !== undefined) entry.invalidated = true;
  }

  function invalidateAll(): void {
    for (const entry of running.values()) invalidate(entry);
    running.clear();
  }

  return {
    peek: () => undefined,
    stillFresh: () => undefined,
    get,
    invalidateUser(userId) {
      invalidate(running.get(userId));
      running.delete(userId);
    },
    invalidateAll,
    close() {
      closed = true;
      invalidateAll();
    },
    stats: () => ({ entries: 0, bytes: 0, users: 0, sets: 0 }),
    fit: () => {},
    dropWhere: () => {},
    remeasure: () => false,
  };
}
