import diagnostics from 'node:diagnostics_channel';

/**
 * Observability through `node:diagnostics_channel`: nothing is built or published unless someone
 * subscribes, so the hot path pays one property read per event.
 *
 * @example
 * import diagnostics from 'node:diagnostics_channel';
 * diagnostics.subscribe('genauth-guard:decision', (event) => metrics.count(event.allowed ? 'allow' : 'deny'));
 */
export const channels = Object.freeze({
  /** `{ userId, resource, actions, allowed, reason }` after every permission decision. */
  decision: diagnostics.channel('genauth-guard:decision'),
  /** `{ path, outcome: 'ok' | <failure kind>, durationMs, attempt }` after every GenAuth call attempt. */
  upstream: diagnostics.channel('genauth-guard:upstream'),
  /** `{ eventName, status, invalidatedUsers, revokedUsers, invalidatedAll }` after every webhook delivery. */
  webhook: diagnostics.channel('genauth-guard:webhook'),
  /**
   * `{ event, reason? }` when the shared Redis tier changes state or ignores an entry: `unavailable`
   * (at most once a minute), `available`, `subscribed`, `resynced`, `ignored-entry`, `invalidation-failed`.
   */
  redis: diagnostics.channel('genauth-guard:redis'),
});

export interface DecisionEvent {
  userId: string;
  resource: string;
  actions: readonly string[];
  allowed: boolean;
  reason: string;
}

export interface UpstreamEvent {
  path: string;
  outcome: string;
  durationMs: number;
  attempt: number;
}

export interface WebhookEvent {
  /** The delivery's event, once its secret was right and its body readable. */
  eventName: string | undefined;
  /** The status answered (204 handled or ignored, 4xx refused, 503 not recorded). */
  status: number;
  invalidatedUsers: number;
  revokedUsers: number;
  invalidatedAll: boolean;
}

/** What happened to the shared Redis tier (never a key, a value or Redis's own error text). */
export interface RedisTierEvent {
  /**
   * `unavailable`: a Redis call failed or timed out, or the subscription dropped; requests go on from the
   * in-process cache and GenAuth (published at most once a minute). `available`: a call succeeded again
   * after that. `subscribed`: the invalidation subscription is up (first time). `resynced`: it came back
   * after a drop, and local grants and verified tokens were dropped. `ignored-entry`: an entry read from
   * Redis was oversized, foreign or corrupt and was treated as a miss. `invalidation-failed`: an
   * `invalidateUser`/`invalidateAll` could not be recorded or published.
   */
  event: 'unavailable' | 'available' | 'subscribed' | 'resynced' | 'ignored-entry' | 'invalidation-failed';
  /** `timeout`, `error`, `not-ready`, `subscription` for failures; `oversized`, `unauthenticated`, `foreign`, `corrupt`, `list` for ignored entries. */
  reason?: string;
}
