import { createGenAuthClient } from '../genauth/client.js';
import { redactOptions, resolveOptions, type GuardOptions } from '../options.js';
import { normalizeRequirement, type Decision, type NormalizedRequirement, type Requirement } from '../policy/decide.js';
import { createMemoryRevocations } from '../token/revocations.js';
import { createTokenVerifier } from '../token/verifier.js';
import { createAuthorizer } from './authorize.js';
import { createApiEnforcer } from './enforce/api.js';
import { createCallers } from './enforce/caller.js';
import { createRouteEnforcer } from './enforce/route.js';
import { createExplainer, type ExplainInput, type Explainer } from './explain.js';
import { createDecisionObserver } from './observe.js';
import { createGrantStore, type UserGrantsLink } from './grant-store.js';
import { createIdentityLookups } from './identity-lookups.js';
import { closedError, stillOpenStep, withLifecycle, type Lifecycle } from './lifecycle.js';
import { createReadiness } from './readiness.js';
import { claimProblem, createSetupProblems, genauthProblem, isSetupMistake, keySourceOption, keySourceProblem, redisPermissionProblem } from './setup-problems.js';
import { createSharedRevocations } from './shared-revocations.js';
import { watchTenantMembers } from './tenant-watch.js';
import type { CheckInput, Guard } from './types.js';

/**
 * The promise of a shared invalidation, marked as handled: a caller that does not await it (the
 * method returned void before the shared tier) never gets an unhandled rejection; one that awaits it
 * still sees the failure (the warning and the event are sent either way).
 */
function observed(promise: Promise<void>): Promise<void> {
  promise.catch(() => {});
  return promise;
}

function requirementOf(input: CheckInput): Requirement {
  if ('action' in input) return input.action;
  if ('allOf' in input) return { allOf: input.allOf };
  return { anyOf: input.anyOf };
}

/**
 * Creates the core guard: token verification, the user's grants (cached) and the decision, behind the
 * few methods adapters call. Validates options now.
 * @example const guard = createGuard({ genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } });
 * @throws TypeError naming the option when the configuration is wrong.
 */
export function createGuard(input: GuardOptions): Guard {
  const options = resolveOptions(input);
  const { realm } = options;
  // Each subsystem gets its own slice of the options and the shared settings it names.
  // Set-up mistakes (wrong host, key source, credentials, issuer, audience) are logged once, naming the option.
  const problems = createSetupProblems(options.logger, options.clock);
  // The key source the user configured: the option a key-source problem names.
  const keyOption = keySourceOption(options.jwt);
  const client = createGenAuthClient(options.genauth, {
    ...options,
    failed(error) {
      const problem = genauthProblem(error);
      if (isSetupMistake(problem)) problems.report(problem);
    },
  });
  // With a tenant: a run of users GenAuth refuses as outside it is told as a set-up problem.
  const store = createGrantStore(
    options,
    options.genauth.tenantId === undefined ? client : watchTenantMembers(client, (problem) => problems.report(problem)),
    // A command Redis's ACL refuses the shared tier: a set-up problem, said once (not an outage).
    (command) => problems.report(redisPermissionProblem([command])),
  );
  // With a shared tier, revocations are recorded in Redis too and reach every instance.
  const revocationOptions = { ...options.revocation, now: options.now };
  const shared =
    store.shared === undefined
      ? undefined
      : createSharedRevocations(revocationOptions, store.shared, options.logger, options.clock, {
          maxUnsubscribed: options.cache === false ? false : options.cache.redisMaxUnsubscribed,
          retryAfter: options.retryAfter,
          // Down past the bound: nothing cached is trusted any more (forgetAll is hoisted; it runs later).
          expired: () => forgetAll(),
        });
  const revocations = shared?.store ?? createMemoryRevocations(revocationOptions);
  // No verifier when identity.resolve names the caller: no token is read then.
  const jwt = options.jwt;
  const verifier =
    jwt === undefined
      ? undefined
      : createTokenVerifier<UserGrantsLink>(jwt, options.identity, options, revocations, {
          keysFailed(error) {
            const problem = keySourceProblem(error, keyOption);
            if (isSetupMistake(problem)) problems.report(problem);
          },
          claimRefused: (claim) => problems.report(claimProblem(claim, claim === 'iss' ? jwt.issuer : jwt.audience)),
          verified: () => problems.verified(),
          get anyVerified() {
            return problems.anyVerified;
          },
        });
  const observer = createDecisionObserver(options);
  // Set by close(): from then on every request, check() and explain() is refused (lifecycle.ts).
  const lifecycle: Lifecycle = { closed: false };
  const authorizer = createAuthorizer(options, store, observer, lifecycle);
  // identity.resolve with a shared store: whose revocation record this instance has read (see identity-lookups.ts).
  const lookups = options.identity.resolve === undefined ? undefined : createIdentityLookups(revocations);
  const callers = createCallers(verifier, store.cache, options, revocations, lifecycle, lookups, shared?.missed);

  /** This instance's part of an invalidation: the user's grants, verified tokens and read record. */
  function forgetUser(userId: string): void {
    store.cache.invalidateUser(userId);
    verifier?.forgetUser(userId);
    lookups?.forgetUser(userId);
  }
  function forgetAll(): void {
    store.cache.invalidateAll();
    verifier?.forgetAll();
    lookups?.forgetAll();
  }
  // With a shared tier: other instances' invalidations, and everything dropped when the subscription
  // comes back after a drop (an invalidation may have been missed meanwhile).
  const subscription = store.shared?.subscribe({
    user: forgetUser,
    all: forgetAll,
    // Until resynced, records other instances publish may never arrive: a waiting request reads its user's.
    lost: () => shared?.lost(),
    resync() {
      shared?.resynced();
      forgetAll();
    },
    // Another instance's revocation: refused here too, and the user's cached grants and tokens dropped.
    revoked(userId, at) {
      shared?.learn(userId, at);
      forgetUser(userId);
    },
  });

  const ready = createReadiness(
    {
      loadKeys: async () => verifier?.loadKeys(),
      keyOption,
      loadManagementToken: () => client.ready(),
      pingRedis: store.shared === undefined ? undefined : () => (store.shared as NonNullable<typeof store.shared>).ping(),
      warmUsers: options.warm.users,
      tenant: options.genauth.tenantId !== undefined,
      loadUser: (userId) => store.grants(userId),
      closed: () => lifecycle.closed,
    },
    problems,
  );
  // Warm-up starts now; its failure is logged (and a later ready() tries again and rejects with it).
  if (options.warm.users.length > 0) ready().catch(() => {});

  function check(input: CheckInput): Promise<Decision> {
    if (lifecycle.closed) return Promise.reject(closedError(options.retryAfter));
    if (typeof input?.userId !== 'string' || input.userId === '') {
      return Promise.reject(new TypeError('genauth-guard: check() needs a non-empty userId'));
    }
    let requirement: NormalizedRequirement;
    try {
      requirement = normalizeRequirement(requirementOf(input));
    } catch (error) {
      return Promise.reject(error);
    }
    return authorizer.authorize(input.userId, input.resource, requirement, { resourceType: input.resourceType }, { context: input.context }, observer?.begin());
  }

  const explainer = createExplainer(store, authorizer);
  /** An explanation made while the guard closed (it waited on GenAuth or conditions.context) is not given either. */
  const stillOpen = stillOpenStep(lifecycle, options.retryAfter);

  return withLifecycle<Guard>({
    // Secrets stay in this closure (and the client's and verifier's); the public object shows none.
    options: redactOptions(options),
    realm,
    enforce: createRouteEnforcer(callers, authorizer, realm, observer),
    enforceApi: createApiEnforcer(callers, store, authorizer, realm, observer),
    authenticate(request, native) {
      try {
        return Promise.resolve(callers.identify(request, native));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    check,
    explain: ((input: ExplainInput) => (lifecycle.closed ? Promise.reject(closedError(options.retryAfter)) : explainer(input).then(stillOpen))) as Explainer,
    // Applied here at once; with a shared tier, also recorded in Redis and published to every instance.
    invalidateUser(userId) {
      forgetUser(userId);
      return store.shared === undefined ? undefined : observed(store.shared.invalidateUser(userId));
    },
    invalidateAll() {
      forgetAll();
      return store.shared === undefined ? undefined : observed(store.shared.invalidateAll());
    },
    ready,
    cacheStats: () => (store.shared === undefined ? store.cache.stats() : { ...store.cache.stats(), redis: { ...store.shared.stats } }),
    close() {
      lifecycle.closed = true;
      problems.close();
      subscription?.close();
      shared?.close();
      // A closed guard holds nothing: its caches are emptied, and what was loading when it closed (grants,
      // a token's verification) is kept nowhere, here or in Redis; its requests get the 503.
      store.cache.close();
      verifier?.close();
      lookups?.forgetAll();
      return client.close();
    },
    revokeUser(userId) {
      if (typeof userId !== 'string' || userId === '') throw new TypeError('genauth-guard: revokeUser() needs a non-empty userId');
      // Recorded first: a token verified from here on is checked against it, cached ones are dropped.
      const recorded = revocations.revoke(userId, options.now());
      forgetUser(userId);
      // With a shared tier: resolves once recorded in Redis and published (the local record stands either way).
      return recorded === undefined ? undefined : observed(recorded);
    },
  }, lifecycle);
}
