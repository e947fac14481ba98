/**
 * What the user's hooks return, checked as strictly as a header: `getToken`'s token (verified after,
 * like a header's) and `identity.resolve`'s user id (trusted, but bounded like a claim).
 */
import { GuardInternalError } from '../errors.js';
import { hookRefusalError, missingTokenError } from './refusal-events.js';
import { isFitUserId } from './identity.js';
import { isRevoked, type RevocationStore } from './revocations.js';
import type { Identity } from './verifier.js';

/** An identity another layer established carries no claims. */
const NO_CLAIMS = Object.freeze({});

/** None, or a promise: the hooks are synchronous, and one that returns a promise is a bug (500), not a caller to refuse. */
function isAbsent(value: unknown): boolean {
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    // Refused unread, but handled: an async hook's rejection left unhandled would crash the process.
    // Only a promise: calling another thenable's then may start what it stands for (a query builder).
    if (value instanceof Promise) value.catch(ignore);
    throw new GuardInternalError();
  }
  return value === undefined || value === null || value === '';
}

function ignore(): void {}

/**
 * The token a `getToken` hook returned: none is a 401 `ERR_MISSING_TOKEN`, anything but a string a 401
 * `malformed`, a promise a 500. Its form and signature are the verifier's to check, as a header's are.
 */
export function hookToken(value: unknown, realm: string): string {
  if (isAbsent(value)) throw missingTokenError(realm);
  if (typeof value !== 'string') throw hookRefusalError('malformed', realm);
  return value;
}

/**
 * The identity an `identity.resolve` hook returned: none is a 401 `ERR_MISSING_TOKEN`; a value that is
 * not a fit user id (a string of at most `maxLength` bytes, no control character, no surrounding
 * space) a 401 `identity_claim`; a promise a 500; a revoked user a 401 `revoked` (no `iat`: every
 * record applies).
 */
export function layerIdentity(value: unknown, maxLength: number, realm: string, revocations: RevocationStore): Identity {
  if (isAbsent(value)) throw missingTokenError(realm);
  if (!isFitUserId(value, maxLength)) throw hookRefusalError('identity_claim', realm);
  const identity: Identity = Object.freeze({ userId: value, claims: NO_CLAIMS });
  if (revocations.active && isRevoked(revocations, identity)) throw hookRefusalError('revoked', realm);
  return identity;
}
