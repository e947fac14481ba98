/**
 * Keys of GenAuth's answer spelt a second way in another case (`List` beside `list`, `Data` beside
 * `data`, `ſtatusCode` beside `statusCode`: see key-fold.ts). JSON.parse keeps both keys and the guard
 * reads one; a case-insensitive reader (Jackson's, Go's) would read the other, so such an answer has no one
 * meaning. Unlike an entry's fields (entry-readings.ts keeps each DENY reading of an entry), an
 * envelope or its `data` is not read several ways: the answer is refused whole, a 503.
 */
import { foldKey } from '../key-fold.js';

/** The envelope keys the guard reads. */
export const ENVELOPE_KEYS: readonly string[] = ['statusCode', 'apiCode', 'data'];
/** The keys of a list answer's `data` the guard reads. */
export const LIST_KEYS: readonly string[] = ['list', 'totalCount'];

/**
 * True when `value` is an object holding one of `keys` in a case other than the documented
 * one, the documented spelling present or not (read by a case-insensitive reader, either decides).
 * Once per answer, never per request: it walks the object's few keys.
 */
export function hasOtherSpelling(value: unknown, keys: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || keys.includes(key)) continue;
    const folded = foldKey(key);
    if (keys.some((documented) => documented.toLowerCase() === folded)) return true;
  }
  return false;
}
