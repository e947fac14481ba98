/**
 * The management token (`POST get-management-token`): fetched once, refreshed early, single-flight,
 * dropped when GenAuth refuses it so the next call fetches a new one.
 */
import { GenAuthApiError } from '../errors.js';
import type { Clock } from '../options/types.js';
import { Deadline } from './deadline.js';
import { readEnvelope } from './envelope.js';

export const TOKEN_PATH = '/api/v3/get-management-token';

export interface ManagementToken {
  readonly value: string;
  /** When to fetch a new one, on the guard's clock. */
  readonly refreshAt: number;
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
  accessKeyId: string;
  accessKeySecret: string;
  /** Deadline of one token request, ms. */
  timeout: number;
  clock: Clock;
  /** Sends a JSON POST to `path`. */
  post(path: string, body: string, deadline: Deadline): Promise<UpstreamAnswer>;
}

export interface ManagementTokens {
  /** A token that is not due for refresh, fetching one (shared by concurrent callers) when needed. */
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

/** How long a token GenAuth has refused from its first call is kept before another is fetched, ms. */
export const UNPROVEN_TOKEN_HOLD_MS = 5_000;

export function createManagementTokens(options: ManagementTokensOptions): ManagementTokens {
  const { clock } = options;
  let token: ManagementToken | undefined;
  let pending: Promise<ManagementToken> | undefined;
  const answered = new WeakSet<ManagementToken>();

  async function fetchToken(deadline: Deadline): Promise<ManagementToken> {
    const body = JSON.stringify({ accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret });
    const answer = await options.post(TOKEN_PATH, body, deadline);
    const { data } = readTokenEnvelope(answer);
    if (typeof data.access_token !== 'string' || data.access_token === '') throw new GenAuthApiError('bad_envelope');
    const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 7200;
    // Refresh a minute early (or at 90% of a short lifetime) so no call races the expiry.
    const margin = Math.min(60, lifetime * 0.1);
    const fetchedAt = clock.now();
    return { value: data.access_token, refreshAt: fetchedAt + (lifetime - margin) * 1000, fetchedAt };
  }

  return {
    get(deadline) {
      if (token !== undefined && clock.now() < token.refreshAt) return Promise.resolve(token);
      // Single-flight: concurrent callers share one token request; its own deadline bounds it.
      if (pending === undefined) {
        const own = new Deadline(options.timeout, clock);
        pending = fetchToken(own)
          .then((fresh) => {
            token = fresh;
            return fresh;
          })
          .finally(() => {
            own.clear();
            pending = undefined;
          });
      }
      return withDeadline(pending, deadline);
    },
    current: () => token,
    drop(used) {
      if (token === used) token = undefined;
    },
    accepted: (used) => void answered.add(used),
    worthReplacing: (used) => answered.has(used) || clock.now() - used.fetchedAt >= UNPROVEN_TOKEN_HOLD_MS,
  };
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
