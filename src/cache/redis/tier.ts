/**
 * The shared tier: users' grants in Redis behind every instance's in-process cache, and the
 * invalidations that reach every instance. Reads and writes are best effort (a failure is a miss, and
 * the request goes on to GenAuth); the guarantee is in the marks: an entry is written only while the
 * user's mark is the one its load read (a compare-and-set on Redis, see scripts.ts), and used only
 * when it was loaded under the scope's current global mark, so an answer loaded before an
 * invalidation is never stored, nor used, after it.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../options/types.js';
import { bounded, failureOf, RedisTierError, type TierCommand } from './bounded.js';
import type { RedisTierClient } from './client.js';
import { byteLength, decodeEntry, encodeEntry, type IgnoredReason, type SharedEntry } from './entry.js';
import { createTierHealth, type RedisTierStats } from './health.js';
import { tierKeys, type TierScope, type UserKeys } from './keys.js';
import { encodeMessage } from './messages.js';
import { INVALIDATE_ALL, INVALIDATE_USER, READ_GLOBAL, READ_USER, RESTORE_REVOKED, REVOKE_USER, WRITE_USER } from './scripts.js';
import { subscribeToInvalidations, type InvalidationHandlers, type Subscription } from './subscription.js';

export interface SharedTierSettings {
  client: RedisTierClient;
  prefix: string;
  /** Deadline of each Redis call (ms). */
  timeout: number;
  /** How often the subscription's heartbeat is published (ms), or false for none (see subscription.ts). */
  heartbeat: number | false;
  scope: TierScope;
  /** Freshness of grants (ms): with `maxStale`, how long an entry is kept in Redis. */
  ttl: number;
  maxStale: number;
  /** The bound of an entry, as of a GenAuth body (`genauth.maxResponseBytes`). */
  maxBytes: number;
  /** The key entries are sealed with (see seal.ts). */
  sealingKey: Buffer;
  logger: { warn(message: string): void } | false;
  clock: Clock;
  /** Wall-clock ms: entries carry their fetch time, which every instance reads. */
  now: () => number;
  /** Told each command Redis's ACL refuses (NOPERM): a set-up problem, not an outage. */
  refused?: (command: TierCommand) => void;
}

/** What a load read from Redis: the marks a later write is checked against, and the entry if usable. */
export interface SharedRead {
  readonly keys: UserKeys;
  readonly mark: string;
  readonly globalMark: string;
  /** The user's entry, when Redis held one of ours loaded under the current global mark. */
  readonly entry: SharedEntry | undefined;
}

/** A write: `stored`, skipped because an invalidation of the user or of everyone came since the read, or `unknown` (Redis failed). */
export type WriteOutcome = 'stored' | 'user-invalidated' | 'all-invalidated' | 'unknown';

export interface SharedTier {
  /** The user's marks and entry; undefined when Redis could not be read in time. Never rejects. */
  read(userId: string): Promise<SharedRead | undefined>;
  /** Writes what GenAuth returned (fetched at `fetchedAt`), unless an invalidation came since `read`. Never rejects. */
  write(read: SharedRead, list: readonly unknown[], fetchedAt: number): Promise<WriteOutcome>;
  /** Counts a local miss answered from Redis (`hit`) or not. */
  counted(outcome: 'hit' | 'miss'): void;
  /** An entry whose list does not read as a GenAuth list. */
  ignored(reason: IgnoredReason): void;
  /** Records the user's invalidation and publishes it; rejects with a RedisTierError when it could not. */
  invalidateUser(userId: string): Promise<void>;
  invalidateAll(): Promise<void>;
  /**
   * Records that the user's tokens issued at or before `at` (ms) are revoked, for `ttl` ms (the later
   * of a stored time and `at` is kept), invalidates their grants, and publishes the record; resolves
   * the recorded time. Rejects with a RedisTierError when it could not.
   */
  revokeUser(userId: string, at: number, ttl: number): Promise<number>;
  /** The user's revocation time in Redis; undefined when there is none, null when Redis could not say in time. Never rejects. */
  readRevocation(userId: string): Promise<number | undefined | null>;
  /** The scope's epoch (created when absent: Redis lost its keys); undefined when Redis could not say in time. Never rejects. */
  epoch(): Promise<string | undefined>;
  /**
   * Records again a revocation this instance holds, for `ttl` ms, when Redis holds none as late (it lost
   * it), and publishes it then, so an instance that read the user's record in between learns it too.
   * Rejects with a RedisTierError when it could not.
   */
  restoreRevocation(userId: string, at: number, ttl: number): Promise<void>;
  /**
   * For `guard.ready()`: one bounded call of each command the tier runs on the client (GET, EVAL and
   * PUBLISH of a probe, which other instances ignore), and the subscription's last SUBSCRIBE. Rejects
   * with a RedisTierError: `denied` naming every command the ACL refused, else the first failure.
   */
  ping(): Promise<void>;
  /** Starts the subscription (once). */
  subscribe(handlers: InvalidationHandlers): Subscription;
  readonly stats: RedisTierStats;
}

/** Longer than any load lasts: a mark only has to outlive the loads that read it. */
const MARK_EXTRA_MS = 60_000;

/** Users whose invalidation Redis refused, remembered at most; past it the oldest is folded into the scope's. */
const MAX_REFUSED_USERS = 10_000;

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;

export function createSharedTier(settings: SharedTierSettings): SharedTier {
  const { client, timeout, maxBytes, now } = settings;
  const names = tierKeys(settings.prefix, settings.scope);
  const health = createTierHealth(settings.logger, settings.clock, settings.refused);
  const instance = randomUUID();
  const lifetime = settings.ttl + settings.maxStale;
  const markTtl = String(Math.ceil(lifetime + MARK_EXTRA_MS));
  /** A bounded call of `command`; a refusal by the ACL is also told as a set-up problem. */
  const call = <T>(command: TierCommand, run: () => Promise<T>) =>
    bounded(client, timeout, run, command).catch((error: unknown) => {
      if (failureOf(error) === 'denied') health.refused(command);
      throw error;
    });

  /**
   * Invalidations Redis refused (out of memory, the client reconnecting): this instance applied them,
   * but the entry they could not delete is still in Redis, and this instance's next miss would read
   * it back. So an entry fetched at or before such an invalidation began (wall clock, as `fetchedAt`)
   * is not used here. Kept while such an entry may live in Redis (`lifetime`), bounded: the oldest
   * user past the bound is folded into the scope's time (refusing more, never less).
   */
  const refused = new Map<string, number>();
  let refusedAll = -Infinity;
  function distrust(userId: string | undefined, at: number): void {
    if (userId === undefined) refusedAll = Math.max(refusedAll, at);
    else {
      const previous = refused.get(userId);
      refused.delete(userId);
      refused.set(userId, Math.max(at, previous ?? at));
    }
    const oldest = now() - lifetime;
    for (const [user, time] of refused) {
      if (time >= oldest && refused.size <= MAX_REFUSED_USERS) break;
      refused.delete(user);
      if (time >= oldest) refusedAll = Math.max(refusedAll, time);
    }
  }
  /** The entry predates an invalidation of its user, or of everyone, that Redis refused. */
  function distrusted(userId: string, entry: SharedEntry): boolean {
    return entry.fetchedAt <= refusedAll || entry.fetchedAt <= (refused.get(userId) ?? -Infinity);
  }

  function readGlobal(): Promise<unknown> {
    return call('EVAL', () => client.eval(READ_GLOBAL, { keys: [names.globalMark], arguments: [randomUUID()] }));
  }

  /** The entry of a READ_USER reply when usable; an ignored one is counted and said once. */
  function entryOf(reply: unknown[], keys: UserKeys, globalMark: string): SharedEntry | undefined {
    const state = textOf(reply[1]);
    if (state === 'foreign' || state === 'oversized') health.ignored(state);
    if (state !== 'entry') return undefined;
    const decoded = decodeEntry(reply[2], { scope: names.scope, user: keys.user }, maxBytes, settings.sealingKey);
    if (typeof decoded === 'string') {
      health.ignored(decoded);
      return undefined;
    }
    // Loaded before an invalidateAll: not an error, just no longer the user's grants.
    return decoded.globalMark === globalMark ? decoded : undefined;
  }

  async function publish(message: Parameters<typeof encodeMessage>[0]): Promise<void> {
    await call('PUBLISH', () => client.publish(names.channel, encodeMessage(message)));
  }

  /**
   * Runs an invalidation's Redis steps; a failure is warned about and rejects (the instance itself is
   * already invalidated, and does not read back the entries it could not delete: see `refused`).
   */
  async function recorded(userId: string | undefined, steps: () => Promise<void>): Promise<void> {
    const began = now();
    try {
      await steps();
      health.succeeded();
    } catch (error) {
      distrust(userId, began);
      const reason = failureOf(error);
      health.failed(reason);
      health.invalidationFailed(reason);
      throw error instanceof RedisTierError ? error : new RedisTierError(reason);
    }
  }

  return {
    stats: health.stats,
    async read(userId) {
      const keys = names.user(userId);
      try {
        const [global, reply] = await Promise.all([
          readGlobal(),
          call('EVAL', () => client.eval(READ_USER, { keys: [keys.entry, keys.mark], arguments: [String(maxBytes), randomUUID(), markTtl] })),
        ]);
        health.succeeded();
        const globalMark = textOf(global);
        const mark = Array.isArray(reply) ? textOf(reply[0]) : undefined;
        if (globalMark === undefined || mark === undefined) return undefined;
        const entry = entryOf(reply as unknown[], keys, globalMark);
        return { keys, mark, globalMark, entry: entry !== undefined && distrusted(userId, entry) ? undefined : entry };
      } catch (error) {
        health.failed(failureOf(error));
        return undefined;
      }
    },
    async write(read, list, fetchedAt) {
      const value = encodeEntry({ scope: names.scope, user: read.keys.user }, { fetchedAt, globalMark: read.globalMark, list }, settings.sealingKey);
      // The key expires when the entry may no longer be served, stale or not: fetch time + ttl + maxStale.
      const life = Math.ceil(fetchedAt + lifetime - now());
      const store = byteLength(value) <= maxBytes && life > 0;
      const [written, global] = await Promise.allSettled([
        store ? call('EVAL', () => client.eval(WRITE_USER, { keys: [read.keys.entry, read.keys.mark], arguments: [read.mark, value, String(life)] })) : Promise.resolve(undefined),
        // Read after GenAuth answered: an invalidateAll since the read makes this answer moot.
        call('GET', () => client.get(names.globalMark)),
      ]);
      if (global.status === 'fulfilled' && textOf(global.value) !== read.globalMark) return 'all-invalidated';
      if (written.status === 'fulfilled' && store && Number(written.value) === 0) return 'user-invalidated';
      const failed = [written, global].find((result) => result.status === 'rejected');
      if (failed !== undefined) {
        health.failed(failureOf(failed.reason));
        return 'unknown';
      }
      health.succeeded();
      if (!store) return 'unknown';
      health.stats.writes++;
      return 'stored';
    },
    counted(outcome) {
      if (outcome === 'hit') health.stats.hits++;
      else health.stats.misses++;
    },
    ignored: (reason) => health.ignored(reason),
    invalidateUser(userId) {
      const keys = names.user(userId);
      return recorded(userId, async () => {
        await call('EVAL', () => client.eval(INVALIDATE_USER, { keys: [keys.entry, keys.mark], arguments: [randomUUID(), markTtl] }));
        await publish({ from: instance, user: userId });
      });
    },
    invalidateAll() {
      return recorded(undefined, async () => {
        await call('EVAL', () => client.eval(INVALIDATE_ALL, { keys: [names.globalMark], arguments: [randomUUID()] }));
        await publish({ from: instance, all: true });
      });
    },
    async revokeUser(userId, at, ttl) {
      const keys = names.user(userId);
      // Whole ms (a test clock may give fractions); rounded up, so never a token less is refused.
      at = Math.ceil(at);
      let recordedAt = at;
      await recorded(userId, async () => {
        const reply = await call('EVAL', () =>
          client.eval(REVOKE_USER, { keys: [keys.revoked, keys.entry, keys.mark], arguments: [String(at), String(Math.ceil(ttl)), randomUUID(), markTtl] }),
        );
        const stored = Number(textOf(reply));
        if (Number.isSafeInteger(stored) && stored > at) recordedAt = stored;
        await publish({ from: instance, revoked: userId, at: recordedAt });
      });
      return recordedAt;
    },
    async readRevocation(userId) {
      try {
        const at = Number(textOf(await call('GET', () => client.get(names.user(userId).revoked))));
        health.succeeded();
        return Number.isSafeInteger(at) && at > 0 ? at : undefined;
      } catch (error) {
        health.failed(failureOf(error));
        return null;
      }
    },
    async epoch() {
      try {
        const token = textOf(await call('EVAL', () => client.eval(READ_GLOBAL, { keys: [names.epoch], arguments: [randomUUID()] })));
        health.succeeded();
        return token;
      } catch (error) {
        health.failed(failureOf(error));
        return undefined;
      }
    },
    async restoreRevocation(userId, at, ttl) {
      at = Math.ceil(at);
      const set = await call('EVAL', () => client.eval(RESTORE_REVOKED, { keys: [names.user(userId).revoked], arguments: [String(at), String(Math.ceil(ttl))] }));
      if (Number(set) === 1) await publish({ from: instance, revoked: userId, at });
    },
    async ping() {
      const checks = await Promise.allSettled([
        call('GET', () => client.get(names.globalMark)),
        call('EVAL', () => client.eval(READ_GLOBAL, { keys: [names.globalMark], arguments: [randomUUID()] })),
        call('PUBLISH', () => client.publish(names.channel, encodeMessage({ from: instance, probe: randomUUID() }))),
      ]);
      const failures = checks.flatMap((check) => (check.status === 'rejected' ? [check.reason as unknown] : []));
      const refused = failures.flatMap((error) => (error instanceof RedisTierError && error.reason === 'denied' ? error.commands : []));
      if (health.subscribeRefused) refused.push('SUBSCRIBE');
      if (refused.length > 0) throw new RedisTierError('denied', refused);
      if (failures.length > 0) throw failures[0];
    },
    subscribe(handlers) {
      return subscribeToInvalidations({ client, channel: names.channel, instance, handlers, health, timeout, heartbeat: settings.heartbeat });
    },
  };
}
