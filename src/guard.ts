import {
  GenAuthApiError,
  GuardInternalError,
  PermissionDeniedError,
  PermissionsUnavailableError,
  isGuardError,
} from './errors.js';
import { createPermissionCache, StaleBeyondLimitError, type CachedGrants, type PermissionCache } from './cache/permission-cache.js';
import { createUncachedPermissions } from './cache/uncached.js';
import { createGenAuthClient, type GenAuthClient } from './genauth/client.js';
import type { ResourceType } from './genauth/types.js';
import { redactOptions, resolveOptions, type GuardOptions, type RedactedOptions } from './options.js';
import { decide, decideRemembered, normalizeRequirement, type ConditionCheck, type Decision, type NormalizedRequirement, type Requirement } from './policy/decide.js';
import { indexGrants, type GrantIndex } from './policy/grants.js';
import { evaluateConditions, type ConditionContext } from './policy/conditions.js';
import { baseConditionContext } from './condition-context.js';
import { channels, type DecisionEvent } from './events.js';
import type { RequestLike } from './request.js';
import { bearerToken, plainBearerToken, readAuthorization } from './token/bearer.js';
import { createTokenVerifier, type Identity, type VerifiedToken } from './token/verifier.js';

/** How long "this user does not exist" is remembered, in ms. */
const UNKNOWN_USER_TTL = 5_000;

/** What the guard attaches to a request (`req.genauth`, `ctx.state.genauth`). */
export interface GenAuthContext {
  identity: Identity;
  /** Present once a permission was checked. */
  decision?: Decision;
}

/** Per-route options. */
export interface RouteOptions {
  /** Only grants of this resource type count. By default the code matches whatever its type. */
  resourceType?: ResourceType;
}

/** What policy conditions are evaluated against. */
export interface DecisionEnvironment {
  request?: RequestLike;
  identity?: Identity;
  /** Extra condition context keys (merged last). */
  context?: Record<string, unknown>;
}

/** Input of {@link Guard.check}: a decision outside HTTP. */
export type CheckInput = { userId: string; resource: string; resourceType?: ResourceType; context?: Record<string, unknown> } & (
  | { action: string }
  | { allOf: readonly string[] }
  | { anyOf: readonly string[] }
);

/** The framework-neutral guard every adapter wraps. */
export interface Guard {
  /** The resolved options with every secret replaced by `'[redacted]'` (safe to log or serialize). */
  readonly options: RedactedOptions;
  /** Reads and verifies the bearer token. Throws a GuardError (400/401/503). */
  authenticate(request: RequestLike): Promise<Identity>;
  /**
   * The hot path: the identity of a token verified before, with no promise. Throws the same 400/401
   * errors as `authenticate` for a missing or malformed header; undefined when verification is needed.
   */
  authenticateCached(request: RequestLike): Identity | undefined;
  /**
   * `authenticate` without a promise when it can be: the identity of a cached token, or of an HS*
   * token the synchronous check accepts; otherwise a promise of jose's verdict. Throws, or rejects,
   * with the same errors as `authenticate`.
   */
  identify(request: RequestLike): Identity | Promise<Identity>;
  /**
   * The hot path: a decision from fresh cached grants without conditions, with no promise;
   * undefined when grants must be loaded or conditions evaluated (use `authorize`).
   */
  authorizeCached(userId: string, resource: string, requirement: NormalizedRequirement, route?: RouteOptions): Decision | undefined;
  /** The user's indexed grants, from the cache or GenAuth. Throws a 503 GuardError on outage. */
  permissions(userId: string): Promise<GrantIndex>;
  /** Decides for a known user. Resolves a Decision (allowed or not); throws only on outage. */
  authorize(
    userId: string,
    resource: string,
    requirement: NormalizedRequirement,
    route?: RouteOptions,
    environment?: DecisionEnvironment,
  ): Promise<Decision>;
  /** authenticate + authorize; throws PermissionDeniedError (403) on denial. */
  protect(request: RequestLike, resource: string, requirement: NormalizedRequirement, route?: RouteOptions): Promise<GenAuthContext>;
  /** The condition evaluator for one request (context from the guard, the user's function, `environment`). */
  conditionCheck(userId: string, environment?: DecisionEnvironment): Promise<ConditionCheck>;
  /** A decision outside HTTP, with the same semantics as the middleware. */
  check(input: CheckInput): Promise<Decision>;
  /** Forgets one user's cached grants. */
  invalidateUser(userId: string): void;
  /** Forgets every cached grant. */
  invalidateAll(): void;
  /** Cached users and their estimated bytes. */
  cacheStats(): { entries: number; bytes: number };
  /** Closes connections to GenAuth. */
  close(): Promise<void>;
}

function requirementOf(input: CheckInput): Requirement {
  if ('action' in input) return input.action;
  if ('allOf' in input) return { allOf: input.allOf };
  return { anyOf: input.anyOf };
}

/** Creates the core guard. Validates options now: a mistake throws a `TypeError` naming the option. */
export function createGuard(input: GuardOptions): Guard {
  const options = resolveOptions(input);
  // Each subsystem gets its own slice of the options and the shared settings it names.
  const verifier = createTokenVerifier(options.jwt, options.identity, options);
  const client: GenAuthClient = createGenAuthClient(options.genauth, options);
  const { genauth } = options;

  async function load(userId: string, setTtl: (ms: number) => void): Promise<GrantIndex> {
    try {
      const list = await client.getUserAuthorizedResources({
        userId,
        userIdType: genauth.userIdType,
        namespace: genauth.namespace,
        resourceType: genauth.resourceType,
      });
      return indexGrants(list);
    } catch (error) {
      // A user GenAuth does not know has no permissions: deny (403), remembered briefly.
      if (error instanceof GenAuthApiError && error.kind === 'user_not_found') {
        setTtl(UNKNOWN_USER_TTL);
        return indexGrants([]);
      }
      throw error;
    }
  }

  const cache: PermissionCache =
    options.cache === false
      ? createUncachedPermissions(load)
      : createPermissionCache({
          ...options.cache,
          clock: options.clock,
          load,
        });

  async function permissions(userId: string): Promise<GrantIndex> {
    try {
      return await cache.get(userId);
    } catch (error) {
      if (isGuardError(error)) throw error;
      if (error instanceof StaleBeyondLimitError && error.cause instanceof GenAuthApiError) error = error.cause;
      const retryAfter =
        error instanceof GenAuthApiError && error.retryAfter !== undefined ? Math.max(error.retryAfter, 1) : options.retryAfter;
      throw new PermissionsUnavailableError(retryAfter, { cause: error });
    }
  }

  async function authorize(
    userId: string,
    resource: string,
    requirement: NormalizedRequirement,
    route?: RouteOptions,
    environment?: DecisionEnvironment,
  ): Promise<Decision> {
    if (typeof resource !== 'string' || resource === '') {
      throw new GuardInternalError({ cause: new TypeError('genauth-guard: the resource must be a non-empty string') });
    }
    const index = await permissions(userId);
    let decision: Decision;
    if (!index.hasConditions) {
      decision = decide(index, resource, requirement, { resourceType: route?.resourceType });
    } else {
      decision = decide(index, resource, requirement, {
        resourceType: route?.resourceType,
        conditions: await conditionCheck(userId, environment),
      });
    }
    publishDecision(userId, resource, decision);
    return decision;
  }

  /** Built only when the user's grants carry conditions. */
  async function conditionCheck(userId: string, environment: DecisionEnvironment | undefined): Promise<ConditionCheck> {
    const context = baseConditionContext(options, userId, environment?.request);
    const provider = options.conditions.context;
    if (provider !== undefined) {
      try {
        Object.assign(context, await provider({ request: environment?.request, userId, claims: environment?.identity?.claims }));
      } catch (cause) {
        throw new GuardInternalError({ cause });
      }
    }
    if (environment?.context !== undefined) Object.assign(context, environment.context);
    const frozen = context as ConditionContext;
    return (grant) => evaluateConditions(grant.conditions, frozen);
  }

  function publishDecision(userId: string, resource: string, decision: Decision): void {
    if (channels.decision.hasSubscribers) {
      channels.decision.publish({ userId, resource, actions: decision.actions, allowed: decision.allowed, reason: decision.reason } satisfies DecisionEvent);
    }
  }

  /**
   * The request's token, or the identity of a token already verified when the header is its plain
   * `Bearer <token>`: that one is found without the header's full syntax check (the token passed it
   * when it was verified), which every other header goes through. The header is read once. Throws
   * (400/401) for a missing, repeated or malformed header.
   */
  function tokenOrKnownIdentity(request: RequestLike): string | VerifiedToken {
    const header = readAuthorization(request);
    const plain = plainBearerToken(header);
    return (plain === undefined ? undefined : verifier.peekRecord(plain)) ?? bearerToken(header, options.realm);
  }

  /**
   * The token record identify() last served from the token cache. An adapter's hot path calls
   * authorizeCached() right after identify(), so the record links the token to its user's cached
   * grants, and a repeated request skips the grant cache's lookup. Any record of the same user will
   * do: a live, fresh entry is the one the cache holds for that user.
   */
  let lastKnown: VerifiedToken | undefined;

  /** Every LINK_REFRESH-th use of a link looks the grants up again, so lru-cache still sees them used. */
  const LINK_REFRESH = 16;

  function freshGrants(userId: string): CachedGrants | undefined {
    const known = lastKnown;
    if (known === undefined || known.identity.userId !== userId) return cache.peek(userId);
    const link = known.grants;
    const linked = link !== undefined && ++known.linkUses < LINK_REFRESH ? cache.stillFresh(link) : undefined;
    if (linked !== undefined) return linked;
    const cached = cache.peek(userId);
    known.grants = cached?.link;
    known.linkUses = 0;
    return cached;
  }

  function identityOf(found: string | VerifiedToken): Identity | Promise<Identity> {
    if (typeof found === 'string') {
      lastKnown = undefined;
      return verifier.verifyNow(found);
    }
    lastKnown = found;
    return found.identity;
  }

  const guard: Guard = {
    // Secrets stay in this closure (and the client's and verifier's); the public object shows none.
    options: redactOptions(options),
    authenticateCached: (request) => {
      const found = tokenOrKnownIdentity(request);
      return typeof found === 'string' ? verifier.peek(found) : found.identity;
    },
    authorizeCached(userId, resource, requirement, route) {
      const cached = freshGrants(userId);
      if (cached === undefined || cached.index.hasConditions || typeof resource !== 'string' || resource === '') return undefined;
      const decision = decideRemembered(cached, resource, requirement, route?.resourceType);
      publishDecision(userId, resource, decision);
      return decision;
    },
    identify: (request) => identityOf(tokenOrKnownIdentity(request)),
    authenticate: (request) => {
      try {
        return Promise.resolve(guard.identify(request));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    permissions,
    authorize,
    conditionCheck,
    async protect(request, resource, requirement, route) {
      const identity = await guard.authenticate(request);
      const decision = await authorize(identity.userId, resource, requirement, route, { request, identity });
      if (!decision.allowed) throw new PermissionDeniedError(resource, requirement.actions, options.realm);
      return { identity, decision };
    },
    check(input) {
      if (typeof input?.userId !== 'string' || input.userId === '') {
        return Promise.reject(new TypeError('genauth-guard: check() needs a non-empty userId'));
      }
      let requirement: NormalizedRequirement;
      try {
        requirement = normalizeRequirement(requirementOf(input));
      } catch (error) {
        return Promise.reject(error);
      }
      return authorize(input.userId, input.resource, requirement, { resourceType: input.resourceType }, { context: input.context });
    },
    invalidateUser: (userId) => {
      cache.invalidateUser(userId);
      verifier.forgetUser(userId);
    },
    invalidateAll: () => {
      cache.invalidateAll();
      verifier.forgetAll();
    },
    cacheStats: () => cache.stats(),
    close: () => client.close(),
  };
  return guard;
}
