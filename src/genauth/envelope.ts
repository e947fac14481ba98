import { GenAuthApiError } from '../errors.js';
import { parseUnambiguousJson } from './duplicate-keys.js';
import { ENVELOPE_KEYS, hasOtherSpelling } from './key-spellings.js';
import type { Envelope } from './types.js';

/** apiCodes meaning the management credentials or signature were refused (GenAuth error-code page). */
const CREDENTIAL_API_CODES = new Set([1300, 1301, 1302, 1303, 1304, 1305, 1306]);
/** apiCode for "user not found". */
export const USER_NOT_FOUND_API_CODE = 2004;
/** apiCode for "user disabled or not a member of this tenant" (its statusCode is not documented). */
export const NOT_A_TENANT_MEMBER_API_CODE = 2120008;

/** Parses `Retry-After` (seconds or HTTP date) into seconds, or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === '') return undefined;
  // Digits too many for a number of seconds (Infinity, or past 2^53) are as unreadable as any other text.
  if (/^\d+$/.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Checks a V3 answer: success is HTTP 200 and body `statusCode` 200. Anything else becomes a
 * {@link GenAuthApiError} whose message never carries the upstream text: `credentials` for HTTP 401 or
 * 403, body 401/403 or a signature apiCode (1300-1306); `bad_envelope` for a 200 body that is not JSON,
 * names a key twice in one object (see duplicate-keys.ts) or spells an envelope key a second way in
 * another case (see key-spellings.ts).
 */
export function readEnvelope<T>(httpStatus: number, text: string, retryAfter: number | undefined, duplicateKeys?: boolean): Envelope<T> & { data: T } {
  // A key named twice in one object has no one meaning (JSON.parse keeps the last): not JSON to us.
  const body = parseUnambiguousJson(text, duplicateKeys);
  const envelope = typeof body === 'object' && body !== null ? (body as Envelope<T>) : undefined;
  const envelopeStatus = typeof envelope?.statusCode === 'number' ? envelope.statusCode : undefined;
  const apiCode = typeof envelope?.apiCode === 'number' ? envelope.apiCode : undefined;
  const details = { httpStatus, envelopeStatus, apiCode, retryAfter };
  if (httpStatus === 429 || envelopeStatus === 429) throw new GenAuthApiError('rate_limited', details);
  // HTTP 401 and 403 refuse the request's credentials, whatever the body (a gateway before GenAuth
  // answers so for an expired or revoked token; a 403 names a key of another pool, or one GenAuth no
  // longer takes): like body 401/403, a set-up problem told to the operator, and a management token
  // GenAuth accepted before is replaced once (management-token.ts, worthReplacing).
  if (httpStatus === 401 || httpStatus === 403) throw new GenAuthApiError('credentials', details);
  // GenAuth answers HTTP 200, errors included; another 2xx is no answer of its own (a 206 holds part of
  // a body, a 203 a proxy's rewrite of it): its body is not used.
  if (httpStatus !== 200) throw new GenAuthApiError('http_status', details);
  // `StatusCode` or `Data` beside `statusCode` or `data`: no one meaning (see key-spellings.ts).
  if (hasOtherSpelling(envelope, ENVELOPE_KEYS)) throw new GenAuthApiError('bad_envelope', details);
  if (envelope === undefined || envelopeStatus === undefined) throw new GenAuthApiError('bad_envelope', details);
  if (envelopeStatus === 200) {
    if (envelope.data === undefined || envelope.data === null) throw new GenAuthApiError('bad_envelope', details);
    return envelope as Envelope<T> & { data: T };
  }
  if (envelopeStatus === 401 || envelopeStatus === 403 || (apiCode !== undefined && CREDENTIAL_API_CODES.has(apiCode))) {
    throw new GenAuthApiError('credentials', details);
  }
  if (envelopeStatus === 404 && apiCode === USER_NOT_FOUND_API_CODE) throw new GenAuthApiError('user_not_found', details);
  throw new GenAuthApiError('error_envelope', details);
}

/** A count as digits in a string (a serializer may write numbers as strings): no sign, point, exponent or space. */
const DIGITS = /^\d+$/;

/**
 * `totalCount` as the spec types it (a number of entries): a non-negative safe integer, or its digits
 * as a string; NaN for anything else.
 */
function countOf(totalCount: unknown): number {
  if (typeof totalCount === 'number') return Number.isSafeInteger(totalCount) && totalCount >= 0 ? totalCount : Number.NaN;
  return typeof totalCount === 'string' && DIGITS.test(totalCount) && Number.isSafeInteger(Number(totalCount)) ? Number(totalCount) : Number.NaN;
}

/**
 * True when a list answer's `totalCount` is present (neither missing nor null) but no count (`'+2'`,
 * `'4.0'`, `2.5`, `-1`, `true`): whether the list is whole is then unknown, and the answer unusable.
 */
export function unreadableCount(totalCount: unknown): boolean {
  return totalCount !== undefined && totalCount !== null && Number.isNaN(countOf(totalCount));
}

/**
 * The `totalCount` of a list answer when it is a count larger than the list sent (GenAuth sent part of
 * the grants), else undefined (see {@link unreadableCount} for one that is no count).
 */
export function missingFromList(listLength: number, totalCount: unknown): number | undefined {
  const total = countOf(totalCount);
  return total > listLength ? total : undefined;
}
