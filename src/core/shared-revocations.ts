/**
 * Revoked users with a shared Redis tier: the in-process store stays the copy every lookup reads
 * (synchronously, on the cached path too); a revocation is also recorded in Redis and published, so
 * every instance adds it to its copy at once (see guard.ts), and a token verified by jose for the first
 * time on an instance has its user's record read from Redis first, so an instance started after a
 * revocation refuses the token too (a token in the verified-token cache does not wait on Redis);
 * with `identity.resolve`, the first request for each user does (identity-lookups.ts). A record
 * published while the subscription is down never arrives, and a resync learns none: so a request
 * that waited on its decision while the subscription was down, or across its return, has its user's
 * record read again (`missed`). How long the instance keeps deciding on its own copy while it cannot
 * hear is bounded (`cache.redisMaxUnsubscribed`): past the bound, still down, it drops what it cached
 * (`expired`, again at each bound while down) and a read Redis does not answer fails closed (503)
 * everywhere a record is read. See
 * docs/many-instances.md.
 */
import type { SharedTier } from '../cache/redis/tier.js';
import { PermissionsUnavailableError } from '../errors.js';
import { throttledWarning } from '../genauth/warnings.js';
import type { Clock } from '../options/types.js';
import { createMemoryRevocations, type MemoryRevocationOptions, type RevocationStore } from '../token/revocations.js';

/** What a request that waited on its decision asks: may a record published meanwhile have been missed? */
export interface MissedRevocations {
  /** A mark of the subscription's state now (a number): taken when a request starts to wait. */
  mark(): number;
  /**
   * Undefined when no record published since `since` (a `mark`) can have been missed: the
   * subscription was live throughout. Else reads the user's record into the local copy; resolves
   * true once it is there, or when Redis did not answer while the subscription is still down, within
   * `cache.redisMaxUnsubscribed` (the local copy decides, as it does every request then), false when
   * Redis did not answer after the subscription came back, or while it has been down past that bound:
   * what was missed is unknown (the caller fails closed).
   */
  recheck(userId: string, since: number): Promise<boolean> | undefined;
}

export interface SharedRevocations {
  /** What the verifier reads: the local copy, whose `revoke` also records in Redis and publishes. */
  readonly store: RevocationStore;
  /** A record another instance published: added to the local copy only. */
  learn(userId: string, at: number): void;
  /** The subscription dropped (records published from now on may be missed). */
  lost(): void;
  /** The subscription is up, or back: records are heard again. */
  resynced(): void;
  readonly missed: MissedRevocations;
  /** Stops the bound's timer (the guard is closed). */
  close(): void;
}

/** The bound on deciding while the subscription is down (see createSharedRevocations). */
export interface UnsubscribedBound {
  /** ms (`cache.redisMaxUnsubscribed`), or false: no bound. */
  readonly maxUnsubscribed: number | false;
  /** The 503's Retry-After (s). */
  readonly retryAfter: number;
  /** The bound passed, still down (and each bound again while it stays down): drop every local grant, verified token and read record. */
  expired(): void;
}

/**
 * The operator's line for the 503 `recheck` leads to (the tier's own warning, sent when Redis first
 * fails, tells of the outage, not of this): at most once a minute.
 */
const UNVERIFIED_WARNING =
  'genauth-guard: a request was answered 503 ERR_PERMISSIONS_UNAVAILABLE: it waited on its decision while the Redis invalidation ' +
  "subscription was down or not yet up, and once it was up Redis did not answer the read of the user's revocation record, so a " +
  'revocation published meanwhile may have been missed. Such requests are answered 503 until Redis answers these reads ' +
  '(check that Redis is reachable within cache.redisTimeout and that the guard\'s Redis user may GET).';

/** The line for a 503 of the bound (at most once a minute). */
const UNHEARD_WARNING =
  'genauth-guard: a request was answered 503 ERR_PERMISSIONS_UNAVAILABLE: the Redis invalidation subscription has been down ' +
  "longer than cache.redisMaxUnsubscribed and Redis did not answer the read of the user's revocation record, so a revocation " +
  'made on another instance meanwhile cannot be ruled out. Such requests are answered 503 until the subscription is back or ' +
  'Redis answers these reads (check that Redis is reachable, and that the guard\'s Redis user may GET and SUBSCRIBE).';

/**
 * Reads of one lookUp when each is answered across a drop (a resync, the bound); past it the lookUp
 * counts as unanswered (the caller keeps nothing for long: see RevocationStore.lookUp).
 */
const MAX_LOOKUP_READS = 3;

/** Records restored at once when Redis lost them (each one EVAL, and a PUBLISH when Redis held none). */
const RESTORE_BATCH = 32;
/** Wait before the epoch is read again when Redis did not answer (or a restore failed) while live (ms). */
const EPOCH_RETRY_MS = 1_000;

export function createSharedRevocations(
  options: MemoryRevocationOptions,
  tier: SharedTier,
  logger: { warn(message: string): void } | false,
  clock: Clock,
  bound: UnsubscribedBound,
): SharedRevocations {
  // The memory store object itself is handed out, so `active` stays the plain property the verifier reads.
  const store = createMemoryRevocations(options);
  const remember = store.revoke.bind(store);
  store.revoke = (userId, at) => {
    // The local record first: this instance refuses the token whatever Redis does.
    remember(userId, at);
    return tier.revokeUser(userId, at, options.ttl).then((recorded) => {
      if (recorded > at) remember(userId, recorded);
    });
  };
  /** Reads the user's record from Redis into the local copy; false when Redis did not answer. */
  async function read(userId: string): Promise<boolean> {
    const at = await tier.readRevocation(userId);
    if (typeof at === 'number') remember(userId, at);
    return at !== null;
  }
  const warnUnheard = throttledWarning(logger, clock);
  // Drops of everything the instance knew (a resync, the bound): a lookUp answered across one reads again.
  let drops = 0;
  /**
   * The store's lookUp (a token verified for the first time, identity.resolve's first request): as
   * `read`, but a read answered across a drop (a resync, the bound) is made again, after it (else the
   * verifier kept the token for `tokenCache.maxAge` on an answer older than a record the resync vouches
   * for), and past the bound a read Redis does not answer rejects with the 503, so the verifier and
   * the identity lookups, which take an unanswered read as the local copy's word, fail closed too.
   */
  store.lookUp = async (userId) => {
    for (let reads = 1; ; reads++) {
      const before = drops;
      const answered = await read(userId);
      // The instance dropped what it knew while this read was answered (a resync, or the bound): Redis
      // may have answered before a record this instance never heard, and what the caller keeps from
      // this answer (a verified token) would outlive the drop. Read again, after it.
      if (answered && before !== drops && reads < MAX_LOOKUP_READS) continue;
      if (answered && before === drops) return true;
      break;
    }
    if (!unheardTooLong) return false;
    warnUnheard(() => UNHEARD_WARNING);
    throw new PermissionsUnavailableError(bound.retryAfter);
  };

  // Odd while the subscription is down (from the start until it is first up), even while it is live:
  // a request that starts at one generation and ends at another, or at an odd one, may have missed a record.
  let generation = 1;
  const live = () => generation % 2 === 0;
  const warnUnverified = throttledWarning(logger, clock);

  // The bound: set while the subscription has been down (from the start, or since a loss) longer
  // than `maxUnsubscribed`; cleared when it is back.
  let unheardTooLong = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  function startBound(): void {
    if (bound.maxUnsubscribed === false || closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (live() || closed) return;
      unheardTooLong = true;
      drops++;
      // What was cached may predate a revocation this instance never heard: every request reads again.
      bound.expired();
      // And again every `maxUnsubscribed` while still down: what is cached after this drop (read from
      // Redis then) would otherwise decide, unheard, until it expires (cache.ttl), whatever the bound.
      startBound();
    }, bound.maxUnsubscribed);
    timer.unref?.();
  }
  startBound();

  const missed: MissedRevocations = {
    mark: () => generation,
    recheck(userId, since) {
      if (since === generation && live()) return undefined;
      // Unanswered while still down, within the bound: the local copy decides. Unanswered once live
      // again (at another generation: the request waited across a resync), or down past the bound:
      // unknown, the caller fails closed.
      return read(userId).then((answered) => {
        if (answered) return true;
        if (live()) warnUnverified(() => UNVERIFIED_WARNING);
        else if (unheardTooLong) warnUnheard(() => UNHEARD_WARNING);
        else return true;
        return false;
      });
    },
  };

  /**
   * Redis restarted empty (persistence off) loses the revocation records with every other key: an
   * instance that never heard a revocation (started after it, or deaf when it was published) would
   * read none and admit the user. So at each resync (a restart drops every subscription) the instance
   * reads the scope's epoch, a token Redis keeps until it loses its keys; when it is new, the instance
   * records again every record it holds (RESTORE_REVOKED, published when Redis had none). Until then,
   * and when Redis does not answer, it tries again while the subscription stays up.
   */
  let epoch: string | undefined;
  let checking = false;
  let checkAgain = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  function checkEpoch(): void {
    clearTimeout(retry);
    retry = undefined;
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = true;
    void epochChecked().then((done) => {
      checking = false;
      if (closed || !live()) return;
      if (checkAgain || !done) {
        checkAgain = false;
        retry = setTimeout(checkEpoch, done ? 0 : EPOCH_RETRY_MS);
        retry.unref?.();
      }
    });
  }
  /** True once the epoch was read (and, when new, every held record restored); false to try again. */
  async function epochChecked(): Promise<boolean> {
    const now = await tier.epoch();
    if (now === undefined) return false;
    if (now === epoch) return true;
    const before = epoch;
    epoch = now;
    // The first read (this instance's first subscription): nothing to compare with.
    if (before === undefined) return true;
    const held = store.held();
    let restored = true;
    for (let i = 0; i < held.length && !closed; i += RESTORE_BATCH) {
      const batch = held.slice(i, i + RESTORE_BATCH).map(({ userId, at, left }) => tier.restoreRevocation(userId, at, left));
      for (const outcome of await Promise.allSettled(batch)) if (outcome.status === 'rejected') restored = false;
    }
    // Not all recorded: the next check restores again (a record Redis already holds is left alone).
    if (!restored) epoch = before;
    return restored;
  }

  return {
    store,
    learn: remember,
    lost() {
      if (!live()) return;
      generation++;
      clearTimeout(retry);
      retry = undefined;
      startBound();
    },
    resynced() {
      if (!live()) generation++;
      drops++;
      clearTimeout(timer);
      timer = undefined;
      unheardTooLong = false;
      checkEpoch();
    },
    missed,
    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(retry);
      timer = retry = undefined;
    },
  };
}
