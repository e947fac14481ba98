/**
 * Tells `genauth-guard:token` of refused tokens: {@link publishTokenRefusal} is the one publisher (the
 * verifier tells its own refusals through it: verifier.ts), and the builders below tell the refusals
 * made without the verifier: a request that presents no token, and what a `getToken` or
 * `identity.resolve` hook returned that cannot stand. Only the refusal paths call these, and nothing is
 * built unless someone subscribes. The reason only: never the token, the hook's value or anything of the request.
 */
import { InvalidTokenError, MissingTokenError, type InvalidTokenReason } from '../errors.js';
import { moreChannels, type TokenFailureEvent } from '../events.js';

/** Publishes `{ reason }` on `genauth-guard:token`; free (no object built) while nobody subscribes. */
export function publishTokenRefusal(reason: TokenFailureEvent['reason']): void {
  if (moreChannels.token.hasSubscribers) moreChannels.token.publish({ reason } satisfies TokenFailureEvent);
}

/** The 401 `ERR_MISSING_TOKEN`, told first as reason `missing`: counted like every other token refused. */
export function missingTokenError(realm: string): MissingTokenError {
  publishTokenRefusal('missing');
  return new MissingTokenError(realm);
}

/** The 401 `invalid_token` of a hook's value, told first by its reason, as the verifier tells a header's. */
export function hookRefusalError(reason: InvalidTokenReason, realm: string): InvalidTokenError {
  publishTokenRefusal(reason);
  return new InvalidTokenError(reason, realm);
}
