/** The client's operator warnings: each says what to fix, and repeats at most once a minute. */
import type { GenAuthApiError } from '../errors.js';
import type { Clock } from '../options/types.js';

/** Operator warnings repeat at most this often (ms), not once per request. */
export const WARNING_INTERVAL_MS = 60_000;

/** True at most once per `intervalMs` of `clock`. */
export function throttle(clock: Clock, intervalMs: number): () => boolean {
  let last = -Infinity;
  return () => {
    const at = clock.now();
    if (at - last < intervalMs) return false;
    last = at;
    return true;
  };
}

/**
 * What GenAuth's refusal of the management credentials showed, in our words: its HTTP status unless a
 * 2xx, and the body's `statusCode` and `apiCode` when it had them (a gateway's 401 has neither). For
 * the operator warning and the set-up problem alike.
 */
export function credentialsRefused(error: GenAuthApiError): string {
  const shown = [
    error.httpStatus === undefined || (error.httpStatus >= 200 && error.httpStatus <= 299) ? undefined : `HTTP ${error.httpStatus}`,
    error.envelopeStatus === undefined ? undefined : `statusCode ${error.envelopeStatus}`,
    error.apiCode === undefined ? undefined : `apiCode ${error.apiCode}`,
  ].filter((part) => part !== undefined);
  return `GenAuth refused the management credentials${shown.length === 0 ? '' : ` (${shown.join(', ')})`}`;
}

export interface OperatorWarnings {
  /** GenAuth sent `listLength` grants of `totalCount`. */
  partialList(listLength: number, totalCount: number): void;
  /** GenAuth refused the management credentials (or the signature). */
  credentials(error: GenAuthApiError): void;
}

/** Warnings to `logger` (none when it is `false`), each throttled on its own. */
export function createOperatorWarnings(logger: { warn(message: string): void } | false, clock: Clock): OperatorWarnings {
  const partialList = throttle(clock, WARNING_INTERVAL_MS);
  const credentials = throttle(clock, WARNING_INTERVAL_MS);
  return {
    partialList(listLength, totalCount) {
      if (logger === false || !partialList()) return;
      logger.warn(
        `genauth-guard: GenAuth sent a partial permission list (${listLength} of totalCount ${totalCount}); a DENY may be missing, ` +
          'so such users are answered 503. Set genauth.acceptPartialLists: true to use partial lists as sent.',
      );
    },
    credentials(error) {
      if (!credentials() || logger === false) return;
      logger.warn(
        `genauth-guard: ${credentialsRefused(error)}; ` +
          'check genauth.userPoolId, accessKeyId, accessKeySecret, host and headerPrefix. Requests are answered 503 until this is fixed.',
      );
    },
  };
}
