/**
 * The bridge's metrics, from the guard's channels: decisions by outcome and reason (every decision,
 * from `genauth-guard:decision`, and failed ones from the decision trace), tokens refused before a
 * decision (`genauth-guard:token`: the 401s, a missing token's included, and the 503 of keys that cannot be fetched), GenAuth load latency,
 * cache lookups and evictions, and the cache's size from the `cacheStats()` of the guards given.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import type { CacheEvent, DecisionEvent, LoadTrace, TokenFailureEvent } from '../events.js';
import { ATTR, METRIC } from './names.js';
import type { CacheStatsSource } from './options.js';
import { errorTypeOf, reasonOfFailure } from './outcome.js';
import { subscribeAll, type Stop } from './subscriptions.js';

/** GenAuth answers in milliseconds to seconds: the HTTP semantic conventions' boundaries, in seconds. */
const DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const LOOKUPS: Readonly<Record<string, Attributes>> = {
  hit: { [ATTR.cache]: 'hit' },
  stale: { [ATTR.cache]: 'stale' },
  miss: { [ATTR.cache]: 'miss' },
};
type Outcome = 'allow' | 'deny' | 'error';
/** Reasons are a handful of fixed words; the cap only bounds memory should that ever change. */
const MAX_REMEMBERED = 64;

/** Creates the instruments and subscribes their handlers; the returned function undoes both. */
export function recordMetrics(meter: Meter, guards: readonly CacheStatsSource[]): Stop {
  const decisions = meter.createCounter(METRIC.decisions, { unit: '{decision}', description: 'Permission decisions, by outcome (allow, deny, error) and reason' });
  const duration = meter.createHistogram(METRIC.genauthDuration, {
    unit: 's',
    description: 'Duration of each GenAuth load attempt (get-user-authorized-resources)',
    advice: { explicitBucketBoundaries: DURATION_BOUNDARIES },
  });
  const refusals = meter.createCounter(METRIC.tokenRefusals, { unit: '{refusal}', description: 'Bearer tokens refused before a decision, by reason (missing: none presented; keys_unavailable: the 503 of keys that cannot be fetched)' });
  const lookups = meter.createCounter(METRIC.cacheLookups, { unit: '{lookup}', description: 'Permission-cache reads, by result (hit, stale, miss)' });
  const evictions = meter.createCounter(METRIC.cacheEvictions, { unit: '{entry}', description: 'Entries pushed out of the permission cache by its max or maxBytes' });

  // The decision handler is on every request's path: its attribute objects are built once per outcome
  // and reason, and found without building a key.
  const remembered: Record<Outcome, Map<string, Attributes>> = { allow: new Map(), deny: new Map(), error: new Map() };
  function decisionAttributes(outcome: Outcome, reason: string): Attributes {
    const known = remembered[outcome];
    let attributes = known.get(reason);
    if (attributes === undefined) {
      attributes = { [ATTR.outcome]: outcome, [ATTR.reason]: reason };
      if (known.size < MAX_REMEMBERED) known.set(reason, attributes);
    }
    return attributes;
  }
  const refusalReasons = new Map<string, Attributes>();
  function refusalAttributes(reason: string): Attributes {
    let attributes = refusalReasons.get(reason);
    if (attributes === undefined) {
      attributes = { [ATTR.tokenReason]: reason };
      if (refusalReasons.size < MAX_REMEMBERED) refusalReasons.set(reason, attributes);
    }
    return attributes;
  }

  const unsubscribe = subscribeAll({
    'genauth-guard:decision': (message) => {
      const event = message as DecisionEvent;
      decisions.add(1, decisionAttributes(event.allowed ? 'allow' : 'deny', event.reason));
    },
    'tracing:genauth-guard:decision:error': (message) => {
      decisions.add(1, decisionAttributes('error', reasonOfFailure((message as { error?: unknown }).error)));
    },
    'genauth-guard:token': (message) => {
      refusals.add(1, refusalAttributes((message as TokenFailureEvent).reason));
    },
    'tracing:genauth-guard:load:asyncEnd': (message) => {
      const load = message as LoadTrace;
      if (load.durationMs === undefined) return;
      const attributes: Attributes = { [ATTR.statusClass]: load.statusClass ?? 'error' };
      if (load.error !== undefined) attributes[ATTR.errorType] = errorTypeOf(load.error);
      duration.record(load.durationMs / 1000, attributes);
    },
    'genauth-guard:cache': (message) => {
      const { kind } = message as CacheEvent;
      const attributes = LOOKUPS[kind];
      if (attributes !== undefined) lookups.add(1, attributes);
      else if (kind === 'evict') evictions.add(1);
    },
  });
  if (guards.length === 0) return unsubscribe;

  // Entries and bytes add up across guards (and processes): up-down counters, not gauges, in OTel's terms.
  const entries = meter.createObservableUpDownCounter(METRIC.cacheEntries, { unit: '{user}', description: 'Users whose grants the guards cache in this process' });
  const size = meter.createObservableUpDownCounter(METRIC.cacheSize, { unit: 'By', description: "The guards' estimate of their cached grants' bytes" });
  const observe = (result: { observe(instrument: typeof entries, value: number): void }) => {
    let users = 0;
    let bytes = 0;
    for (const guard of guards) {
      try {
        const stats = guard.cacheStats();
        users += stats.entries;
        bytes += stats.bytes;
      } catch {
        // A guard that cannot answer (closed) counts for nothing.
      }
    }
    result.observe(entries, users);
    result.observe(size, bytes);
  };
  meter.addBatchObservableCallback(observe, [entries, size]);
  return () => {
    meter.removeBatchObservableCallback(observe, [entries, size]);
    unsubscribe();
  };
}
