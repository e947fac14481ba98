import type { RedisTierStats } from '../cache/redis/health.js';
import type { ResourceType } from '../genauth/types.js';
import type { RedactedOptions } from '../options.js';
import type { Decision } from '../policy/decide.js';
import type { RequestLike } from '../request.js';
import type { Identity } from '../token/verifier.js';
import type { ApiModeSpec } from './enforce/api.js';
import type { Explainer } from './explain.js';
import type { RouteSpec } from './enforce/route.js';

/** What the guard attaches to a request (`req.genauth`, `ctx.state.genauth`). */
export interface GenAuthContext {
  identity: Identity;
  /** Present once a permission was checked. */
  decision?: Decision;
}

/** What `cacheStats()` reports. */
export interface CacheStats {
  /** Users cached in this process. */
  entries: number;
  /** Estimated bytes charged against `cache.maxBytes`: each user's own record, and each distinct grant set once. */
  bytes: number;
  /** Users cached in this process (the same as `entries`). */
  users: number;
  /** Distinct grant sets those users hold: users whose GenAuth lists are identical share one. */
  sets: number;
  /** The shared Redis tier's counters, when `cache.redis` is set. */
  redis?: RedisTierStats;
}

/** Per-route options. */
export interface RouteOptions {
  /**
   * Only grants of this resource type count. By default (the key left out) the code matches whatever
   * its type; present with the value `undefined` it is a `TypeError` when the route is defined.
   */
  resourceType?: ResourceType;
}

/** Input of {@link Guard.check}: a decision outside HTTP. */
export type CheckInput = { userId: string; resource: string; resourceType?: ResourceType; context?: Record<string, unknown> } & (
  | { action: string }
  | { allOf: readonly string[] }
  | { anyOf: readonly string[] }
);

/**
 * The framework-neutral guard every adapter wraps. `enforce` and `enforceApi` are the whole check of
 * one request: each returns its answer at once when the caches hold everything it needs (a verified
 * token, fresh grants without conditions), else a promise of it. Refusals are GuardErrors, thrown or
 * rejected (400/401/403/503/500), never a value.
 */
export interface Guard {
  /** The resolved options with every secret replaced by `'[redacted]'` (safe to log or serialize). */
  readonly options: RedactedOptions;
  /** The realm of `WWW-Authenticate` challenges. */
  readonly realm: string;
  /**
   * Authenticates the caller and requires the route's permission; without a spec, authenticates only
   * (the context is `{ identity }`). `native` is what a resource function of the spec receives (the
   * framework's request, which the `getToken` and `identity.resolve` hooks receive too); by default the
   * request itself.
   * @example const spec = routeSpec('reports', 'reports:Read'); const { identity, decision } = await guard.enforce(request, spec);
   * @throws GuardError InvalidRequestError (400), MissingTokenError/InvalidTokenError (401),
   * PermissionDeniedError (403), PermissionsUnavailableError/KeysUnavailableError (503), GuardInternalError (500).
   */
  enforce<R = RequestLike>(request: RequestLike, spec?: RouteSpec<R>, native?: R): GenAuthContext | Promise<GenAuthContext>;
  /**
   * API mode for one request: its method and full target (`request.url`, as received) against the
   * user's API grants. `null` for a public path (let it through unauthenticated). Order: a target that
   * cannot be evaluated (400), then the token (401), then the permission (403; 503 on outage).
   * @throws GuardError as {@link Guard.enforce}.
   */
  enforceApi(request: RequestLike, spec: ApiModeSpec, native?: unknown): GenAuthContext | null | Promise<GenAuthContext | null>;
  /**
   * Reads and verifies the bearer token (or `getToken`'s, or takes `identity.resolve`'s identity, either
   * given `native`, by default the request); always a promise. Rejects with a GuardError (400/401/503).
   */
  authenticate(request: RequestLike, native?: unknown): Promise<Identity>;
  /** A decision outside HTTP, with the same semantics as the middleware. Resolves denied decisions too. */
  check(input: CheckInput): Promise<Decision>;
  /**
   * The decision for a route's question (`{ userId, resource, action }`) or an API-mode request
   * (`{ userId, method, path, api? }`), with every grant of the user and why each applied or not. Same
   * grants (cache, loader) and rules as the middleware; the decision is not reported (no decision
   * event, trace or `onDecision` record), while loading the grants is observed as any load is.
   * @example const { allowed, reason, grants } = await guard.explain({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' });
   */
  readonly explain: Explainer;
  /**
   * Forgets one user's cached grants (and verified tokens) on this instance at once. With `cache.redis`,
   * also on every instance sharing the Redis: the promise resolves once the invalidation is recorded
   * there and published, and rejects when it could not be (this instance is invalidated either way).
   * Without it, returns nothing.
   */
  invalidateUser(userId: string): void | Promise<void>;
  /** Forgets every cached grant (and verified token); with `cache.redis`, on every instance, as {@link Guard.invalidateUser}. */
  invalidateAll(): void | Promise<void>;
  /**
   * Revokes a user now: their tokens issued until now (or carrying no `iat`) are a 401 `revoked`,
   * cached or not, for `revocation.ttl`; tokens issued later pass. Also forgets their cached grants.
   * With `cache.redis`, also recorded in Redis and published to every instance: a promise that resolves
   * once it is, and rejects when it could not be (this instance refuses the tokens either way). Without
   * it, returns nothing.
   * @throws TypeError when `userId` is not a non-empty string.
   */
  revokeUser(userId: string): void | Promise<void>;
  /**
   * Resolves once the guard has fetched what its first requests need: the OIDC discovery document and
   * the key set (remote key sources only), the management token (token scheme), an answer from Redis
   * (`cache.redis`) and the grants of `warm.users`. Rejects with a `GuardNotReadyError` whose `reasons`
   * name, for each failed step, the option to check and why (each also logged once). Idempotent:
   * resolves at once after a success; after a failure, the next call tries again.
   * @example await guard.ready(); server.listen(3000);
   * @throws GuardNotReadyError (rejects) naming the options to check.
   */
  ready(): Promise<void>;
  /** Cached users and their estimated bytes; with `cache.redis`, the shared tier's counters. */
  cacheStats(): CacheStats;
  /**
   * Closes the guard's connections (GenAuth's pool; with `cache.redis`, its subscription's duplicate,
   * never your client). From then on it decides nothing: every protected request is a 503
   * `ERR_PERMISSIONS_UNAVAILABLE`, `check()` and `explain()` reject with it (those still waiting on
   * GenAuth or `conditions.context` when it is called too), `ready()` rejects (`closed`). Resolves once the GenAuth calls in flight are answered (at most `genauth.timeout`).
   * Idempotent: a second call resolves with the first.
   */
  close(): Promise<void>;
}
