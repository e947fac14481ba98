/** Resolves the `cache` group: the permission cache, or `false` for none. */
import { isRedisTierClient, type RedisTierClient } from '../cache/redis/client.js';
import { fail, LONGEST_TIMER_MS, optionalBoolean, optionalString, positiveNumber, strictObject, timerDuration, timerDurationOrFalse } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedCacheOptions } from './resolved.js';

/** `cache` with its defaults, or `false`; throws a TypeError naming the option on a mistake. */
export function resolveCache(value: unknown): ResolvedCacheOptions | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) fail('cache', 'must be an object or false');
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.cache, 'cache');
  const maxBytes = wholeCount(input.maxBytes, 'cache.maxBytes', 64 * 1024 * 1024);
  const maxEntryBytes = wholeCount(input.maxEntryBytes, 'cache.maxEntryBytes', Math.min(4 * 1024 * 1024, maxBytes));
  if (maxEntryBytes > maxBytes) fail('cache.maxEntryBytes', 'must not exceed cache.maxBytes');
  // Whole milliseconds, rounded up (lru-cache takes integer ttls only): never shorter than asked.
  const ttl = Math.ceil(positiveNumber(input.ttl, 'cache.ttl', 60_000));
  const redisTimeout = timerDuration(input.redisTimeout, 'cache.redisTimeout', 100);
  return Object.freeze({
    ttl,
    // No count by default: the byte budget binds (a user sharing a grant set costs a few hundred bytes).
    max: wholeCount(input.max, 'cache.max', Number.POSITIVE_INFINITY),
    maxBytes,
    maxEntryBytes,
    maxStale: positiveNumber(input.maxStale, 'cache.maxStale', 300_000, true),
    staleWhileRevalidate: optionalBoolean(input.staleWhileRevalidate, 'cache.staleWhileRevalidate', true),
    errorTtl: Math.ceil(positiveNumber(input.errorTtl, 'cache.errorTtl', 1_000, true)),
    redis: resolveRedisClient(input.redis),
    redisPrefix: resolveRedisPrefix(input.redisPrefix),
    redisTimeout,
    redisMaxUnsubscribed: resolveMaxUnsubscribed(input.redisMaxUnsubscribed, ttl),
    redisHeartbeat: resolveHeartbeat(input.redisHeartbeat, redisTimeout),
  });
}

/** A count or size (`fallback` when undefined), rounded down: at least 1, since 0 would mean no bound to lru-cache. */
function wholeCount(value: unknown, path: string, fallback: number): number {
  const count = Math.floor(positiveNumber(value, path, fallback));
  if (count < 1) fail(path, 'must be at least 1');
  return count;
}

/** ms, or `false` (no bound); `ttl` by default (a timer waits it: a longer ttl gives the longest a timer waits). */
function resolveMaxUnsubscribed(value: unknown, ttl: number): number | false {
  return timerDurationOrFalse(value, 'cache.redisMaxUnsubscribed', Math.min(ttl, LONGEST_TIMER_MS));
}

/**
 * ms, or `false` (no heartbeat). A heartbeat not heard back by the next one means the subscription is
 * down, and its PUBLISH alone may take `redisTimeout`: so an interval must be longer than that. By
 * default 5 s, or twice `redisTimeout` when that is longer (a default never refuses another option).
 */
function resolveHeartbeat(value: unknown, redisTimeout: number): number | false {
  if (value === undefined) return Math.min(Math.max(5000, 2 * redisTimeout), LONGEST_TIMER_MS);
  const ms = timerDurationOrFalse(value, 'cache.redisHeartbeat', 0);
  if (ms !== false && ms <= redisTimeout) fail('cache.redisHeartbeat', 'must be longer than cache.redisTimeout (a heartbeat is published within it and must be heard back before the next)');
  return ms;
}

/** The user's own client, taken as is (it is not an options object of ours: its keys are not checked). */
function resolveRedisClient(value: unknown): RedisTierClient | undefined {
  if (value === undefined) return undefined;
  if (!isRedisTierClient(value)) fail('cache.redis', 'must be a node-redis v6 client (createClient() or createCluster())');
  return value;
}

function resolveRedisPrefix(value: unknown): string {
  const prefix = optionalString(value, 'cache.redisPrefix', 'genauth-guard:');
  if (prefix.length > 200 || !/^[\x21-\x7e]+$/.test(prefix)) fail('cache.redisPrefix', 'must be at most 200 printable ASCII characters, no spaces');
  return prefix;
}
