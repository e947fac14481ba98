import { createGenAuthClient } from '../genauth/client.js';
import { redactOptions, resolveOptions, type GuardOptions } from '../options.js';
import { normalizeRequirement, type Decision, type NormalizedRequirement, type Requirement } from '../policy/decide.js';
import { createMemoryRevocations } from '../token/revocations.js';
import { createTokenVerifier } from '../token/verifier.js';
import { createAuthorizer } from './authorize.js';
import { createApiEnforcer } from './enforce/api.js';
import { createCallers } from './enforce/caller.js';
import { createRouteEnforcer } from './enforce/route.js';
import { createExplainer } from './explain.js';
import { createDecisionObserver } from './observe.js';
import { createGrantStore, type UserGrantsLink } from './grant-store.js';
import type { CheckInput, Guard } from './types.js';

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
  const revocations = createMemoryRevocations({ ...options.revocation, now: options.now });
  const verifier = createTokenVerifier<UserGrantsLink>(options.jwt, options.identity, options, revocations);
  const client = createGenAuthClient(options.genauth, options);
  const store = createGrantStore(options, client);
  const observer = createDecisionObserver(options);
  const authorizer = createAuthorizer(options, store, observer);
  const callers = createCallers(verifier, store.cache, realm);

  function check(input: CheckInput): Promise<Decision> {
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

  return {
    // Secrets stay in this closure (and the client's and verifier's); the public object shows none.
    options: redactOptions(options),
    realm,
    enforce: createRouteEnforcer(callers, authorizer, realm, observer),
    enforceApi: createApiEnforcer(callers, store, authorizer, realm, observer),
    authenticate(request) {
      try {
        return Promise.resolve(callers.identify(request));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    check,
    explain: createExplainer(store, authorizer),
    invalidateUser(userId) {
      store.cache.invalidateUser(userId);
      verifier.forgetUser(userId);
    },
    invalidateAll() {
      store.cache.invalidateAll();
      verifier.forgetAll();
    },
    revokeUser(userId) {
      if (typeof userId !== 'string' || userId === '') throw new TypeError('genauth-guard: revokeUser() needs a non-empty userId');
      // Recorded first: a token verified from here on is checked against it, cached ones are dropped.
      const recorded = revocations.revoke(userId, options.now());
      store.cache.invalidateUser(userId);
      verifier.forgetUser(userId);
      return recorded;
    },
    cacheStats: () => store.cache.stats(),
    close: () => client.close(),
  };
}
