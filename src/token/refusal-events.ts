/**
 * Tells `genauth-guard:token` of a refusal made before any token is verified: a request that presents
 * none. Only the refusal path calls it, and it builds nothing unless someone subscribes (the verifier
 * tells its own refusals: verifier.ts).
 */
import { MissingTokenError } from '../errors.js';
import { moreChannels, type TokenFailureEvent } from '../events.js';

/**
 * The 401 `ERR_MISSING_TOKEN`, told first as reason `missing` so that a request without a token is
 * counted like every other token refused (the reason only: there is no token, and nothing of the
 * request is in it).
 */
export function missingTokenError(realm: string): MissingTokenError {
  if (moreChannels.token.hasSubscribers) moreChannels.token.publish({ reason: 'missing' } satisfies TokenFailureEvent);
  return new MissingTokenError(realm);
}
