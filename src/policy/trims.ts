/** The ways surrounding whitespace in GenAuth's text may be read: conditions' values, DENY actions and codes. */

/** Java's `Character.isWhitespace` (what `String.strip()` removes): no no-break spaces, four separators below U+0020 that JavaScript keeps. */
const JAVA_WHITESPACE = /^[\t-\r\u001c-\u0020\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+|[\t-\r\u001c-\u0020\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+$/g;
/** What Java's `String.trim()` removes: every unit up to U+0020, control characters included. */
const JAVA_TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;

/**
 * The ways surrounding whitespace may be read: kept, or trimmed as JavaScript's `trim()`, Java's
 * `trim()` or Java's `strip()` trims it (GenAuth's console or server may do either, or neither).
 */
export const TRIMS: ReadonlyArray<(text: string) => string> = [
  (text) => text.trim(),
  (text) => text.replace(JAVA_TRIM, ''),
  (text) => text.replace(JAVA_WHITESPACE, ''),
];

/**
 * Whether no reading in {@link TRIMS} can change `text`: empty, or both ends printable ASCII (U+0021 to
 * U+007E), which no trim removes. Others (a space, a control character, any non-ASCII end) are trimmed
 * each way to find out. It spares the common case three trims and their arrays on every evaluation.
 */
export function untrimmable(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f;
}
