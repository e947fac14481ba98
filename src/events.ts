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
