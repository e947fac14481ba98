/**
 * C0 and C1 controls, DEL, and UTF-16 surrogates without their pair: no user id holds them, and each
 * would go into GenAuth's query string and the logs (a lone surrogate is even sent as U+FFFD, so two
 * different ids would name one user upstream).
 */
const UNFIT = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when `value` can be sent to GenAuth as a user id: a string of 1 to `maxBytes` UTF-8 bytes, with
 * no control character or lone surrogate, and no whitespace at either end (an id that differs from
 * another only by it could name that other user once trimmed anywhere along the way).
 */
export function isFitUserId(value: unknown, maxBytes: number): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxBytes) return false;
  // Each UTF-16 unit is at most 3 UTF-8 bytes: only a long id needs counting.
  if (value.length * 3 > maxBytes && Buffer.byteLength(value) > maxBytes) return false;
  return !UNFIT.test(value) && value.trim() === value;
}
