/**
 * The management token (`POST get-management-token`): fetched once, refreshed early, single-flight,
 * dropped when GenAuth refuses it so the next call fetches a new one. A token due for refresh but not
 * expired keeps serving while the refresh runs, and after a failed refresh, until it expires. A token
 * scoped to another user pool than the configured one is never used (see {@link scopedPoolId}). The
 * endpoint's refusal of the credentials, like a token of another pool, is kept
 * {@link UNPROVEN_TOKEN_HOLD_MS} rather than asked again by every load.
 */
import { GenAuthApiError } from '../errors.js';
import { poolIdKey } from './pool-id.js';
import type { Clock } from '../options/types.js';
import { Deadline } from './deadline.js';
import { readEnvelope } from './envelope.js';
import { isB64Token } from '../token/bearer.js';

export const TOKEN_PATH = '/api/v3/get-management-token';

export interface ManagementToken {
  readonly value: string;
  /** When to fetch a new one, on the guard's clock. */
  readonly refreshAt: number;
  /** When it expires, on the guard's clock (counted from when it was asked for): never used from then on. */
  readonly expiresAt: number;
  /** When it was fetched, on the guard's clock. */
  readonly fetchedAt: number;
}

/** One upstream answer, as the client's `call` gives it. */
export interface UpstreamAnswer {
  status: number;
  text: string;
  retryAfter: number | undefined;
}

export interface ManagementTokensOptions {
  /** The configured pool (`genauth.userPoolId`): a token whose `scoped_userpool_id` names another is refused. */
  userPoolId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Deadline of one token request, ms. */
  timeout: number;
  clock: Clock;
  /** Sends a JSON POST to `path`. */
  post(path: string, body: string, deadline: Deadline): Promise<UpstreamAnswer>;
  /** A refresh made in the background (the held token still valid) failed: no call sees its error. */
  refreshFailed?(error: unknown): void;
}

export interface ManagementTokens {
  /**
   * A token not yet expired. One due for refresh is still given while a refresh (shared by every
   * caller) runs in the background; without a valid token, callers wait for the fetch, or, within
   * {@link UNPROVEN_TOKEN_HOLD_MS} of the endpoint refusing the credentials or giving a token of another
   * pool, are rejected with that verdict again (no request).
   */
  get(deadline: Deadline): Promise<ManagementToken>;
  /** The token held now, if any. */
  current(): ManagementToken | undefined;
  /** Forgets `used` if it is still the one held (GenAuth refused it): the next `get` fetches anew. */
  drop(used: ManagementToken): void;
  /** GenAuth answered a call made with `used`: a later refusal of it is a revocation or an expiry. */
  accepted(used: ManagementToken): void;
  /**
   * Whether `used`, refused by GenAuth, is worth a new token now: it was accepted before (revoked or
   * expired since), or it was fetched {@link UNPROVEN_TOKEN_HOLD_MS} ago or more. A token refused from
   * its first call is kept that long: GenAuth refuses the credentials themselves (a wrong user pool,
   * say), and a new token for every load would only add a token request and a second call to each.
   */
  worthReplacing(used: ManagementToken): boolean;
}

/**
 * How long a token GenAuth has refused from its first call is kept before another is fetched, ms; and
 * how long after the token endpoint refused the credentials (HTTP 401/403, body 401/403, a credential
 * apiCode, "user not found") or gave a token scoped to another user pool none is asked for: every load
 * fails as it did, told the same verdict. An outage of the token endpoint is not held.
 */
export const UNPROVEN_TOKEN_HOLD_MS = 5_000;

/**
 * After a background refresh fails (the held token still valid), how long before the next is tried,
 * ms (or the endpoint's Retry-After, when longer): a dozen tries in the last minute, not one per load.
 */
export const REFRESH_RETRY_MS = 5_000;

export function createManagementTokens(options: ManagementTokensOptions): ManagementTokens {
  const { clock } = options;
  let token: ManagementToken | undefined;
  let pending: Promise<ManagementToken> | undefined;
  // No background refresh before this (clock ms): the last one failed.
  let refreshRetryAt = 0;
  // The token endpoint's last verdict on the credentials, kept until `until` (clock ms): it refused them
  // (`credentials`), or gave a token scoped to another pool (`pool_mismatch`). Like a token refused from
  // its first call, it is kept UNPROVEN_TOKEN_HOLD_MS, not asked again on every load (GenAuth
  // rate-limits the endpoint). An outage of the endpoint (5xx, a timeout, no connection) is no
  // verdict: the next load asks again, within genauth.retries and the retry budget.
  let verdict: { error: GenAuthApiError; until: number } | undefined;
  const answered = new WeakSet<ManagementToken>();

  async function fetchToken(deadline: Deadline): Promise<ManagementToken> {
    const body = JSON.stringify({ accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret });
    // Its lifetime counts from the request, not the answer: never later than GenAuth's own count.
    const requestedAt = clock.now();
    const answer = await options.post(TOKEN_PATH, body, deadline);
    const { data } = readTokenEnvelope(answer);
    // Sent as `Bearer <token>`: one that is no b64token (a JWT is) could never be sent (undici refuses
    // CR LF or NUL in a header) or would be refused, and kept it would fail every call until it expired.
    // With the answer's statuses: a problem without one means no answer came (an outage), and this is an answer.
    if (typeof data.access_token !== 'string' || !isB64Token(data.access_token)) throw new GenAuthApiError('bad_envelope', { httpStatus: answer.status, envelopeStatus: 200 });
    // Scoped to another pool (a wrong genauth.userPoolId, a key of another pool): every call made with it
    // would be refused, or answered for the pool the header names by a token that is not that pool's.
    const scoped = scopedPoolId(data.access_token);
    if (scoped !== undefined && poolIdKey(scoped) !== poolIdKey(options.userPoolId)) throw new GenAuthApiError('pool_mismatch');
    const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 7200;
    // Refresh a minute early (or at 90% of a short lifetime) so no call races the expiry.
    const margin = Math.min(60, lifetime * 0.1);
    const fetchedAt = clock.now();
    return { value: data.access_token, refreshAt: fetchedAt + (lifetime - margin) * 1000, expiresAt: requestedAt + lifetime * 1000, fetchedAt };
  }

  /** Single-flight: concurrent callers share one token request; its own deadline bounds it. */
  function refresh(): Promise<ManagementToken> {
    if (pending === undefined) {
      const own = new Deadline(options.timeout, clock);
      pending = fetchToken(own)
        .then(
          (fresh) => {
            token = fresh;
            refreshRetryAt = 0;
            verdict = undefined;
            return fresh;
          },
          (error: unknown) => {
            const retryAfter = error instanceof GenAuthApiError && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0;
            refreshRetryAt = clock.now() + Math.max(REFRESH_RETRY_MS, retryAfter);
            if (error instanceof GenAuthApiError && (error.kind === 'credentials' || error.kind === 'pool_mismatch')) {
              verdict = { error, until: clock.now() + UNPROVEN_TOKEN_HOLD_MS };
            }
            throw error;
          },
        )
        .finally(() => {
          own.clear();
          pending = undefined;
        });
    }
    return pending;
  }

  return {
    get(deadline) {
      const now = clock.now();
      if (token !== undefined && now < token.refreshAt) return Promise.resolve(token);
      if (token !== undefined && now < token.expiresAt) {
        // Due for refresh but still valid: it serves while the refresh runs, and if the refresh fails
        // (the token endpoint blipped in the token's last minute) until it expires, tried again later.
        if (pending === undefined && now >= refreshRetryAt) refresh().catch((error: unknown) => options.refreshFailed?.(error));
        return Promise.resolve(token);
      }
      // No valid token: fail closed, the caller waits for one (or, just told the credentials are refused
      // or the pool is another, is told so again, with the same statuses, and no request is made).
      if (verdict !== undefined && now < verdict.until) return Promise.reject(heldVerdict(verdict.error));
      return withDeadline(refresh(), deadline);
    },
    current: () => token,
    drop(used) {
      if (token === used) token = undefined;
    },
    accepted: (used) => void answered.add(used),
    worthReplacing: (used) => answered.has(used) || clock.now() - used.fetchedAt >= UNPROVEN_TOKEN_HOLD_MS,
  };
}

/** A remembered verdict of the token endpoint, told again: same kind and statuses, a new error. */
function heldVerdict(error: GenAuthApiError): GenAuthApiError {
  const { httpStatus, envelopeStatus, apiCode, retryAfter } = error;
  return new GenAuthApiError(error.kind, { httpStatus, envelopeStatus, apiCode, retryAfter });
}

/**
 * The token answer's envelope. "User not found" here is about the access key, never about the user a
 * request is for: it is a refusal of the credentials (an outage, 503), not a user without grants (403).
 */
function readTokenEnvelope(answer: UpstreamAnswer): { data: { access_token?: unknown; expires_in?: unknown } } {
  try {
    return readEnvelope<{ access_token?: unknown; expires_in?: unknown }>(answer.status, answer.text, answer.retryAfter);
  } catch (error) {
    if (!(error instanceof GenAuthApiError) || error.kind !== 'user_not_found') throw error;
    const { httpStatus, envelopeStatus, apiCode, retryAfter } = error;
    throw new GenAuthApiError('credentials', { httpStatus, envelopeStatus, apiCode, retryAfter });
  }
}

/**
 * The user pool a management token is scoped to: its `scoped_userpool_id` claim, read without
 * verifying it (as the official Java, Python and Go SDKs read it, to send as the pool header). Undefined
 * when the token is not a JWT whose payload is a JSON object, or the claim is missing, not a string or
 * blank: GenAuth's token format is not guaranteed, and such a token is used as before.
 */
export function scopedPoolId(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const claim = (payload as { scoped_userpool_id?: unknown }).scoped_userpool_id;
  return typeof claim === 'string' && claim.trim() !== '' ? claim : undefined;
}

/** Rejects with a timeout error when `deadline` passes before `promise` settles. */
function withDeadline<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  if (deadline.expired) return Promise.reject(new GenAuthApiError('timeout'));
  return new Promise<T>((resolve, reject) => {
    const waiter = { expire: () => reject(new GenAuthApiError('timeout')) };
    deadline.watch(waiter);
    promise.then(
      (value) => {
        deadline.unwatch(waiter);
        resolve(value);
      },
      (error: unknown) => {
        deadline.unwatch(waiter);
        reject(error);
      },
    );
  });
}
