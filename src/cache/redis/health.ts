/**
 * The tier's state as operators see it: one warning through `logger` and one `genauth-guard:redis`
 * event when Redis becomes unusable (at most once a minute, however many requests meet it), an event
 * when it answers again, and counters for `cacheStats()`. Never a key, a value or Redis's error text.
 */
import { channels, type RedisTierEvent } from '../../events.js';
import type { Clock } from '../../options/types.js';
import type { RedisFailure, TierCommand } from './bounded.js';
import type { IgnoredReason } from './entry.js';

/** Operator messages repeat at most this often (ms). */
const WARNING_INTERVAL_MS = 60_000;

/** The shared tier's counters (`cacheStats().redis`). */
export interface RedisTierStats {
  /** Local misses answered from Redis. */
  hits: number;
  /** Local misses Redis had no usable entry for (GenAuth was asked). */
  misses: number;
  /** GenAuth answers written to Redis. */
  writes: number;
  /** Entries read from Redis and ignored (oversized, foreign, corrupt, or a list that does not read). */
  ignored: number;
  /** Redis calls that failed, timed out, or were skipped while the client was not ready. */
  failures: number;
  /** The invalidation subscription is up. */
  subscribed: boolean;
}

export interface TierHealth {
  readonly stats: RedisTierStats;
  /** A Redis call answered. */
  succeeded(): void;
  /**
   * A Redis call did not (or the subscription dropped: reason `subscription`). `refusedByAcl`: Redis's
   * ACL refused it (NOPERM; by default for reason `denied`), told by `refused` as a set-up problem, so
   * the outage warning, whose cure is a reconnect, is not logged for it (its event still is).
   */
  failed(reason: RedisFailure | 'subscription', refusedByAcl?: boolean): void;
  /** An entry from Redis was not used. */
  ignored(reason: IgnoredReason): void;
  /** An invalidation could not be recorded or published. */
  invalidationFailed(reason: RedisFailure): void;
  subscribed(resync: boolean): void;
  /**
   * The subscription dropped: invalidations from other instances may be missed until it is back.
   * `refusedByAcl`: it cannot be proved because the ACL refuses a command (see `failed`).
   */
  unsubscribed(refusedByAcl?: boolean): void;
  /** Redis's ACL refused the user `command` (NOPERM): a set-up problem, handed to the guard's record. */
  refused(command: TierCommand): void;
  /** The last set-up of the subscription was refused SUBSCRIBE (until one succeeds): for `ready()`. */
  readonly subscribeRefused: boolean;
}

function publish(event: RedisTierEvent): void {
  if (channels.redis.hasSubscribers) channels.redis.publish(event);
}

/** `refused`: told each command the ACL refuses (the guard's set-up problems log it once, and again at most once a minute). */
export function createTierHealth(
  logger: { warn(message: string): void } | false,
  clock: Clock,
  refused: (command: TierCommand) => void = () => {},
): TierHealth {
  const stats: RedisTierStats = { hits: 0, misses: 0, writes: 0, ignored: 0, failures: 0, subscribed: false };
  let down = false;
  let subscribeRefused = false;
  let lastWarning = -Infinity;
  let lastInvalidationWarning = -Infinity;
  const lastIgnored = new Map<IgnoredReason, number>();

  /** At most once per interval per key. */
  function due(last: number): boolean {
    return clock.now() - last >= WARNING_INTERVAL_MS;
  }

  return {
    stats,
    succeeded() {
      if (!down) return;
      down = false;
      publish({ event: 'available' });
    },
    failed(reason, refusedByAcl = reason === 'denied') {
      if (reason !== 'subscription') stats.failures++;
      if (down || !due(lastWarning)) return;
      down = true;
      lastWarning = clock.now();
      publish({ event: 'unavailable', reason });
      // A refusal by the ACL is the set-up problem redis_permission (logged through `refused`): no
      // reconnect cures it, so this line would send the operator waiting for one.
      if (logger !== false && !refusedByAcl) {
        logger.warn(
          `genauth-guard: the shared Redis tier is unavailable (${reason}); requests are answered from the in-process cache and GenAuth ` +
            'until it answers again (the client reconnects by itself), except a request that waited on its decision while the ' +
            "invalidation subscription was down or not yet up: once it is up, that request is answered 503 if Redis does not give its user's revocation record; " +
            "and once the subscription has been down longer than cache.redisMaxUnsubscribed, every request whose user's revocation record Redis does not give is answered 503.",
        );
      }
    },
    ignored(reason) {
      stats.ignored++;
      publish({ event: 'ignored-entry', reason });
      if (!due(lastIgnored.get(reason) ?? -Infinity)) return;
      lastIgnored.set(reason, clock.now());
      if (logger !== false) logger.warn(`genauth-guard: ignored a permission entry read from Redis (${reason}); it was treated as a miss.`);
    },
    invalidationFailed(reason) {
      publish({ event: 'invalidation-failed', reason });
      if (!due(lastInvalidationWarning)) return;
      lastInvalidationWarning = clock.now();
      if (logger !== false) {
        logger.warn(`genauth-guard: an invalidation could not be recorded in Redis (${reason}); other instances may keep the grants until their ttl.`);
      }
    },
    subscribed(resync) {
      stats.subscribed = true;
      subscribeRefused = false;
      publish({ event: resync ? 'resynced' : 'subscribed' });
    },
    unsubscribed(refusedByAcl = false) {
      stats.subscribed = false;
      this.failed('subscription', refusedByAcl);
    },
    refused(command) {
      if (command === 'SUBSCRIBE') subscribeRefused = true;
      refused(command);
    },
    get subscribeRefused() {
      return subscribeRefused;
    },
  };
}
