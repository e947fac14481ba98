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
  /**
   * `{ userId, resource, actions, allowed, reason }` after every permission decision; a request whose
   * user was revoked while its decision waited is told as `allowed: false, reason: 'revoked'`.
   */
  decision: diagnostics.channel('genauth-guard:decision'),
  /** `{ path, outcome: 'ok' | <failure kind>, durationMs, attempt }` after every GenAuth call attempt. */
  upstream: diagnostics.channel('genauth-guard:upstream'),
  /**
   * `{ eventName, status, invalidatedUsers, revokedUsers, invalidatedAll }` after every webhook delivery,
   * refused ones included (see also `genauth-guard:webhook:received`, `:rejected`, `:invalidation`).
   */
  webhook: diagnostics.channel('genauth-guard:webhook'),
  /**
   * `{ event, reason? }` when the shared Redis tier changes state or ignores an entry: `unavailable`
   * (at most once a minute), `available`, `subscribed`, `resynced`, `ignored-entry`, `invalidation-failed`.
   */
  redis: diagnostics.channel('genauth-guard:redis'),
});

export interface DecisionEvent {
  userId: string;
  /** The resource code; in API mode, the canonical path (no query). */
  resource: string;
  actions: readonly string[];
  allowed: boolean;
  /** `allowed`, `denied`, `no_grant`, `unmapped_method`, or `revoked` (the user revoked while the decision waited: a 401). */
  reason: string;
  /** API mode only: the method, upper-cased. */
  method?: string;
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
  /** The status answered (204 handled or ignored, 4xx refused, 503 not recorded, or made by a closed guard without a shared store). */
  status: number;
  invalidatedUsers: number;
  revokedUsers: number;
  invalidatedAll: boolean;
  /** Set when a readable delivery was answered 204 without acting on it for this reason; else absent. */
  ignored?: WebhookIgnoredReason;
}

/**
 * Why a readable webhook delivery was not acted on (`WebhookEvent.ignored`): `other_user_pool`, it
 * names a user pool (`x-authing-userpool-id`, `x-genauth-userpool-id` or `data.userPoolId`) other than
 * `genauth.userPoolId` (compared trimmed and in any letter case; a value that is not a string names none).
 */
export type WebhookIgnoredReason = 'other_user_pool';

/** What happened to the shared Redis tier (never a key, a value or Redis's own error text). */
export interface RedisTierEvent {
  /**
   * `unavailable`: a Redis call failed or timed out, or the subscription dropped; requests go on from the
   * in-process cache and GenAuth (published at most once a minute), except a request that waited on its
   * decision while the subscription was down or not yet up, answered 503 when Redis does not give its
   * user's revocation record once the subscription is up, and, once the subscription has been down
   * longer than `cache.redisMaxUnsubscribed`, a request whose user's record Redis does not give (503
   * too; the local caches are dropped then). `available`: a call succeeded again
   * after that. `subscribed`: the invalidation subscription is up (first time). `resynced`: it came back
   * after a drop, and local grants and verified tokens were dropped. `ignored-entry`: an entry read from
   * Redis was oversized, foreign or corrupt and was treated as a miss. `invalidation-failed`: an
   * `invalidateUser`/`invalidateAll` could not be recorded or published.
   */
  event: 'unavailable' | 'available' | 'subscribed' | 'resynced' | 'ignored-entry' | 'invalidation-failed';
  /**
   * `timeout`, `error`, `not-ready`, `denied` (Redis's ACL refused the command: NOPERM), `subscription` for failures;
   * `oversized`, `unauthenticated`, `foreign`, `corrupt`, `list` for ignored entries.
   */
  reason?: string;
}

// ---- Decision traces, GenAuth load traces, cache, retry budget and token events (issue 21) ----

/**
 * Tracing channels (`node:diagnostics_channel` TracingChannel): `tracing:<name>:start`, `:end`,
 * `:asyncStart`, `:asyncEnd` and `:error`, in Node's and OpenTelemetry's convention. Each publishes
 * one context object per operation, filled in as it goes.
 */
export const tracing = Object.freeze({
  // Both type parameters are the context: @types/node 26 swapped their order (context first, then
  // store), and the same type in both places compiles under either.
  /** One GenAuth load attempt: {@link LoadTrace}. */
  load: diagnostics.tracingChannel<LoadTrace, LoadTrace>('genauth-guard:load'),
  /**
   * Every decision: {@link DecisionTrace}. One that waits (grants loaded, conditions evaluated) is traced
   * with `tracePromise`; one made at once from fresh cached grants with `traceSync` (`synchronous: true`).
   */
  decision: diagnostics.tracingChannel<DecisionTrace, DecisionTrace>('genauth-guard:decision'),
});

/** The cache, retry-budget and token channels. */
export const moreChannels = Object.freeze({
  /** {@link CacheEvent}: hit, stale served, miss, eviction, invalidation, an entry refused for its size. */
  cache: diagnostics.channel('genauth-guard:cache'),
  /** {@link RetryRefusedEvent}: a failed GenAuth call the retry budget did not let retry. */
  retryRefused: diagnostics.channel('genauth-guard:retry-refused'),
  /** {@link TokenFailureEvent}: a bearer token refused, or none presented, by reason. */
  token: diagnostics.channel('genauth-guard:token'),
  /** {@link WebhookReceivedEvent}: a delivery whose secret was right and whose body was read. */
  webhookReceived: diagnostics.channel('genauth-guard:webhook:received'),
  /** {@link WebhookRejectedEvent}: a delivery answered 4xx or 5xx, by reason. */
  webhookRejected: diagnostics.channel('genauth-guard:webhook:rejected'),
  /** {@link WebhookInvalidationEvent}: one invalidation a delivery was mapped to, once made. */
  webhookInvalidation: diagnostics.channel('genauth-guard:webhook:invalidation'),
});

/** A webhook delivery received (`genauth-guard:webhook:received`): its secret was right and its body read. */
export interface WebhookReceivedEvent {
  /** The event's name (`user:updated`, ...); undefined when the body named none. */
  eventName: string | undefined;
}

/** Why a webhook delivery was refused: by its answer's status, or a user event naming no user the guard can identify. */
export type WebhookRejectReason =
  | 'method_not_allowed'
  | 'bad_secret'
  | 'too_large'
  | 'unsupported_media_type'
  | 'malformed'
  | 'unidentified_user'
  | 'not_recorded'
  | 'internal';

/** A webhook delivery refused (`genauth-guard:webhook:rejected`): never the secret or the body. */
export interface WebhookRejectedEvent {
  /** Known once the secret was right and the body readable. */
  eventName: string | undefined;
  status: number;
  reason: WebhookRejectReason;
}

/** One invalidation a delivery was mapped to (`genauth-guard:webhook:invalidation`), published once made. */
export interface WebhookInvalidationEvent {
  eventName: string;
  kind: 'invalidateUser' | 'revokeUser' | 'invalidateAll';
  /** The user concerned; undefined for `invalidateAll`. */
  userId: string | undefined;
  /**
   * Whether it is held where it counts, as the delivery's answer says: false when the shared store
   * (`cache.redis`) could not record it (this instance made it anyway), or when the guard was closed
   * (`close()`) and no shared store recorded it (made only in the closed instance's memory, which ends
   * with it). The delivery is then a 503 `not_recorded` (GenAuth delivers it again); a user event naming
   * no user the guard can identify stays a 400. True when recorded in the shared store, or made by an
   * open guard without one.
   */
  recorded: boolean;
}

/** The context of one GenAuth load attempt (`genauth-guard:load`). */
export interface LoadTrace {
  /** The GenAuth path called, without its query (never the user id). */
  endpoint: string;
  /** 0 for the first attempt, 1 for the first retry, ... */
  attempt: number;
  /** `2xx`, `4xx`, `5xx`, or the failure's kind when GenAuth gave no status (`timeout`, `network`, ...). Set on end. */
  statusClass?: string;
  /** Milliseconds (guard's clock) the attempt took. Set on end. */
  durationMs?: number;
  /** Set by Node on failure: a GenAuthApiError, whose message names its kind only. */
  error?: unknown;
}

/** The context of one decision (`genauth-guard:decision` tracing channel). */
export interface DecisionTrace {
  userId: string;
  /**
   * The resource code (route mode) or the canonical path (API mode). For a decision that failed before
   * it was made (the resource function threw or returned no string: a 500), what it returned when a
   * string (a code the guard refused), else `''`.
   */
  resource: string;
  /** API mode: the method, upper-cased. */
  method?: string;
  /** Set on end. */
  allowed?: boolean;
  /**
   * Set on end: `allowed`, `denied`, `no_grant`, `unmapped_method`; `revoked` (with `allowed: false`)
   * when the user was revoked while the decision waited, the request then answered 401 `revoked`.
   */
  reason?: string;
  /**
   * Set by Node when the decision failed (a 503 or 500 GuardError), a resource the guard could not decide
   * on included (traced as a decision that throws at once: start, error, end). A refusal (403) is a result, not an error.
   */
  error?: unknown;
  /**
   * True when the decision was made at once from fresh cached grants (traced with `traceSync`: only
   * `start` and `end`, and `error` if it threw, fire; close a span on `end`). Absent for a decision
   * that waits (traced with `tracePromise`: close on `asyncEnd`).
   */
  synchronous?: true;
}

/** What the permission cache did (`genauth-guard:cache`). */
export interface CacheEvent {
  kind: 'hit' | 'stale' | 'miss' | 'evict' | 'invalidate' | 'oversize';
  /** The user concerned; undefined for an invalidation of every user. */
  userId: string | undefined;
}

/** A retry the retry budget refused (`genauth-guard:retry-refused`). */
export interface RetryRefusedEvent {
  path: string;
  /** The attempt that failed and was not retried. */
  attempt: number;
  /** Its failure kind (`http_status`, `network`, ...). */
  outcome: string;
}

/** A token refused (`genauth-guard:token`), by its reason only: never the token. */
export interface TokenFailureEvent {
  /**
   * The `invalid_token` reason (401), `keys_unavailable` (503: the key set cannot be fetched), or
   * `missing` (401 `ERR_MISSING_TOKEN`: no token presented, in the header or by a `getToken` or
   * `identity.resolve` hook).
   */
  reason: string;
}
