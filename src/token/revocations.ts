/**
 * Revoked users: "every token of this user issued at or before this time is refused". The verifier
 * reads the records synchronously (on the cached path too); `revoke` writes one. This module keeps them
 * in process memory; a store shared by many instances (Redis) implements the same interface and keeps
 * its local view here, so a lookup never waits on the network.
 */
import type { Identity } from './verifier.js';

/** Where revocations are recorded and read. */
export interface RevocationStore {
  /**
   * False while no record is kept: the verifier then skips every lookup (one property read per
   * request). Kept as a plain property, not a getter, for that read's sake.
   */
  readonly active: boolean;
  /** Ms since the epoch: the user's tokens issued at or before it are revoked. Undefined when none are. */
  revokedBefore(userId: string): number | undefined;
  /**
   * Records that the user's tokens issued at or before `at` (ms since the epoch) are revoked; a later
   * record wins. A shared store resolves once the record is stored and published.
   */
  revoke(userId: string, at: number): void | Promise<void>;
  /**
   * A shared store: reads the user's record into the local copy. The verifier awaits it before it
   * accepts a token it has not cached; with `identity.resolve`, the first request for a user awaits it.
   * Resolves true when the store answered (record or none), false when it could not say in time (the
   * caller then decides on the local copy). Rejects with a 503 GuardError when it could not say and the
   * local copy may no longer be trusted (the shared store's `cache.redisMaxUnsubscribed` passed): the
   * caller fails closed.
   */
  lookUp?(userId: string): Promise<boolean>;
}

/** The in-process store, which can also list what it holds (a shared store records it again in a Redis that lost it). */
export interface MemoryRevocationStore extends RevocationStore {
  /** Each user's record still kept: its time and the ms it has left (the watermark is not listed). */
  held(): Array<{ userId: string; at: number; left: number }>;
}

/** What the in-process store needs: how long and how many records it keeps, and the wall clock. */
export interface MemoryRevocationOptions {
  /** How long a record is kept, in ms. */
  ttl: number;
  /** Most records; past it the oldest is folded into a watermark for every user. */
  max: number;
  /** Wall-clock ms since the epoch (records expire on it, as the tokens they refuse do). */
  now: () => number;
}

interface RevocationRecord {
  at: number;
  expires: number;
}

/**
 * The in-process store. Records expire after `ttl`; a lookup drops an expired one. When more than
 * `max` users are revoked, the oldest record is dropped and its time raises a watermark that applies
 * to every user until that record would have expired: nothing revoked is ever let through early.
 */
export function createMemoryRevocations({ ttl, max, now }: MemoryRevocationOptions): MemoryRevocationStore {
  // A Map keeps insertion order: the first entry is the oldest record (re-recording moves it last).
  const records = new Map<string, RevocationRecord>();
  let watermark: RevocationRecord | undefined;

  const store = {
    active: false,
    revokedBefore(userId: string): number | undefined {
      const time = now();
      if (watermark !== undefined && watermark.expires <= time) watermark = undefined;
      let record = records.get(userId);
      if (record !== undefined && record.expires <= time) {
        records.delete(userId);
        record = undefined;
      }
      store.active = records.size > 0 || watermark !== undefined;
      if (watermark === undefined) return record?.at;
      return record === undefined ? watermark.at : Math.max(record.at, watermark.at);
    },
    revoke(userId: string, at: number): void {
      const previous = records.get(userId);
      records.delete(userId);
      records.set(userId, { at: Math.max(at, previous?.at ?? at), expires: now() + ttl });
      while (records.size > max) fold();
      store.active = true;
    },
    held() {
      const time = now();
      const kept: Array<{ userId: string; at: number; left: number }> = [];
      for (const [userId, record] of records) if (record.expires > time) kept.push({ userId, at: record.at, left: record.expires - time });
      return kept;
    },
  };

  /** Drops the oldest record into the watermark: the later time, the later expiry. */
  function fold(): void {
    const [oldestId, oldest] = records.entries().next().value as [string, RevocationRecord];
    records.delete(oldestId);
    watermark =
      watermark === undefined ? { ...oldest } : { at: Math.max(watermark.at, oldest.at), expires: Math.max(watermark.expires, oldest.expires) };
  }

  return store;
}

/**
 * Whether a verified token is revoked: its user has a record and the token's `iat` is not after it (a
 * token without `iat` counts as issued before every record). `iat` is in whole seconds, so a token
 * issued in the same second as the revocation is refused too (fail closed).
 */
export function isRevoked(store: RevocationStore, identity: Identity): boolean {
  const before = store.revokedBefore(identity.userId);
  if (before === undefined) return false;
  const iat = identity.claims.iat;
  return typeof iat !== 'number' || iat * 1000 <= before;
}
