/** Operator warnings (the client's, and the shape of the grants it sent): each says what to fix, and repeats at most once a minute. */
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

/** A warning to `logger` (none when it is `false`) at most once a minute; its text is built only when it is sent. */
export function throttledWarning(logger: { warn(message: string): void } | false, clock: Clock): (message: () => string) => void {
  const due = throttle(clock, WARNING_INTERVAL_MS);
  return (message) => {
    if (logger !== false && due()) logger.warn(message());
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

/** A key shown as sent when it is plain (letters, digits, `_ . $ -`, at most 64): never control characters or a long text. */
const PLAIN_KEY = /^[\w.$-]{1,64}$/;

/** Warnings about the shape of the grants GenAuth sent, told when a grant set is indexed. */
export interface GrantShapeWarnings {
  /** An entry carried conditions under `key`, not `condition`: it was read fail-closed. */
  conditionKey(key: string): void;
  /** An entry spelt the documented `field` twice, in two cases: its ALLOW was dropped (only its DENY readings count). */
  fieldSpeltTwice(field: string): void;
}

/** Grant-shape warnings to `logger` (none when it is `false`), throttled. */
export function createGrantShapeWarnings(logger: { warn(message: string): void } | false, clock: Clock): GrantShapeWarnings {
  const warn = throttledWarning(logger, clock);
  const warnSpelt = throttledWarning(logger, clock);
  return {
    conditionKey(key) {
      warn(
        () =>
          `genauth-guard: GenAuth sent a permission entry with conditions under ${PLAIN_KEY.test(key) ? `"${key}"` : 'a key'} ` +
          'other than "condition", which the guard does not read: it cannot evaluate them, so such an ALLOW grants nothing ' +
          'and such a DENY applies unconditionally. Check how the GenAuth deployment sends conditions.',
      );
    },
    fieldSpeltTwice(field) {
      // `field` is one of ours (the documented name), never the spelling GenAuth sent.
      warnSpelt(
        () =>
          `genauth-guard: GenAuth sent a permission entry spelling the field "${field}" twice, in two cases (such an entry has no one ` +
          'meaning): only its DENY readings count, so its ALLOW was dropped and grants nothing. Check how the GenAuth deployment, ' +
          'or a proxy before it, writes permission entries.',
      );
    },
  };
}

export interface OperatorWarnings {
  /** GenAuth sent `listLength` grants of `totalCount`. */
  partialList(listLength: number, totalCount: number): void;
  /** GenAuth refused the management credentials (or the signature). */
  credentials(error: GenAuthApiError): void;
}

/** Warnings to `logger` (none when it is `false`), each throttled on its own. */
export function createOperatorWarnings(logger: { warn(message: string): void } | false, clock: Clock): OperatorWarnings {
  const partialList = throttledWarning(logger, clock);
  const credentials = throttledWarning(logger, clock);
  return {
    partialList(listLength, totalCount) {
      partialList(
        () =>
          `genauth-guard: GenAuth sent a partial permission list (${listLength} of totalCount ${totalCount}); a DENY may be missing, ` +
          'so such users are answered 503. Set genauth.acceptPartialLists: true to use partial lists as sent.',
      );
    },
    credentials(error) {
      credentials(
        () =>
          `genauth-guard: ${credentialsRefused(error)}; ` +
          'check genauth.userPoolId, accessKeyId, accessKeySecret, host and headerPrefix. Requests are answered 503 until this is fixed.',
      );
    },
  };
}

/**
 * The warning for an answer holding entries of another type than `genauth.resourceType` asked for
 * (policy/asked-type.ts), at most once a minute: what was done with them, in our words (no user, no
 * upstream value).
 */
export function createAskedTypeWarning(logger: { warn(message: string): void } | false, clock: Clock): (asked: string, allowsDropped: number, deniesKept: number) => void {
  const warn = throttledWarning(logger, clock);
  const entries = (count: number) => (count === 1 ? 'entry' : 'entries');
  return (asked, allowsDropped, deniesKept) => {
    warn(
      () =>
        `genauth-guard: GenAuth answered permission entries of another resourceType than genauth.resourceType "${asked}" asked for: ` +
        `${allowsDropped} ALLOW ${entries(allowsDropped)} dropped (they grant nothing), ${deniesKept} DENY ${entries(deniesKept)} kept (they deny whatever type a route asks for). ` +
        'GenAuth, or a proxy before it, did not filter as asked: check genauth.host.',
    );
  };
}
