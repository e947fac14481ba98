/**
 * The names the OpenTelemetry bridge records under, in OpenTelemetry's semantic-convention style:
 * lower case, `.` between namespaces, `_` inside a word, units in UCUM (`s`, `By`, `{decision}`),
 * never a unit in a name. Standard attributes (`error.type`, `http.request.method`, `user.id`,
 * `url.path`) are used where one fits; the rest sit under `genauth_guard.`.
 */

/** The instrumentation scope (tracer and meter name). */
export const SCOPE_NAME = 'genauth-guard';
/** The package's version, recorded as the scope's version (a test keeps it equal to package.json's). */
export const SCOPE_VERSION = '0.1.0';

/** Span names. */
export const SPAN = Object.freeze({
  /** One GenAuth load attempt (`SpanKind.CLIENT`). */
  load: 'genauth-guard.load',
  /** One decision, from the caches or after waiting for grants or conditions (`SpanKind.INTERNAL`). */
  decision: 'genauth-guard.decision',
});

/** Metric names. */
export const METRIC = Object.freeze({
  /** Counter, `{decision}`: every decision, by outcome and reason. */
  decisions: 'genauth_guard.decisions',
  /** Histogram, seconds: each GenAuth load attempt. */
  genauthDuration: 'genauth_guard.genauth.duration',
  /** Counter, `{refusal}`: bearer tokens refused before a decision, by reason (`missing`: none presented; `keys_unavailable` is the 503). */
  tokenRefusals: 'genauth_guard.token.refusals',
  /** Counter, `{lookup}`: permission-cache reads, by result (hit, stale, miss). */
  cacheLookups: 'genauth_guard.cache.lookups',
  /** Counter, `{entry}`: entries pushed out by `cache.max` / `cache.maxBytes`. */
  cacheEvictions: 'genauth_guard.cache.evictions',
  /** Observable up-down counter, `{user}`: users cached by the guards passed in. */
  cacheEntries: 'genauth_guard.cache.entries',
  /** Observable up-down counter, `By`: the guards' estimate of their cached grants' bytes. */
  cacheSize: 'genauth_guard.cache.size',
});

/** Attribute keys. */
export const ATTR = Object.freeze({
  /** `allow`, `deny` or `error`. */
  outcome: 'genauth_guard.decision.outcome',
  /** `allowed`, `denied`, `no_grant`, `unmapped_method`, `revoked` (outcome `deny`), or the error code of a failed decision. */
  reason: 'genauth_guard.decision.reason',
  /** Why a token was refused: an `invalid_token` reason (`expired`, `bad_signature`, ...), `missing` (none presented) or `keys_unavailable`. */
  tokenReason: 'genauth_guard.token.reason',
  /** The resource code, or the canonical path (no query) in API mode. */
  resource: 'genauth_guard.resource',
  /** How the decision found its grants: `hit`, `stale` or `miss`. */
  cache: 'genauth_guard.cache.result',
  /** 0 for the first attempt of a load, 1 for the first retry, ... */
  attempt: 'genauth_guard.attempt',
  /** `2xx`, `4xx`, `5xx`, or the failure's kind when GenAuth gave no status (`timeout`, `network`, ...). */
  statusClass: 'genauth_guard.status_class',
  /** Semantic convention: the failure's kind (`http_status`, `timeout`, ...) or an error code; `_OTHER` else. */
  errorType: 'error.type',
  /** Semantic convention: the GenAuth endpoint's path, never its query. */
  urlPath: 'url.path',
  /** Semantic convention: API mode's method, upper-cased. */
  method: 'http.request.method',
  /** Semantic convention: the user id, only with `recordUserId: true`. */
  userId: 'user.id',
});
