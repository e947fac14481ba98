/**
 * Keys of GenAuth's answers as a case-insensitive reader compares them. Once per key of an answer,
 * never per request.
 */

const COMBINING_DOT_ABOVE = '\u0307';
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * `key` upper- then lower-cased, so that besides ASCII case U+017F LONG S reads as `s`, U+0131 DOTLESS
 * I and U+0130 DOTTED I as `i` (the dot JavaScript's lower-casing adds is dropped) and U+212A KELVIN
 * SIGN as `k`, as Go's `encoding/json` or Java's `equalsIgnoreCase` match them: a superset of their
 * folds, the side that fails closed for every caller (a key is taken for a second spelling, or for a
 * condition, more often, never less).
 */
export function foldKey(key: string): string {
  return key.toUpperCase().toLowerCase().replaceAll(COMBINING_DOT_ABOVE, '');
}

/** True when `key` holds a character outside ASCII (only such a key folds other than by ASCII case). */
export function beyondAscii(key: string): boolean {
  return NON_ASCII.test(key);
}
