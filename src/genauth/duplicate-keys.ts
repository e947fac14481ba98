/**
 * Whether a JSON text names a key twice in one object. JSON.parse keeps the last of such keys, so
 * `"effect":"DENY", ..., "effect":"ALLOW"` reads as an ALLOW and `"condition":[...], "condition":null`
 * as a grant without conditions, where a reader keeping the first (or refusing the text) sees the
 * restriction: the text has no one meaning, and the client refuses it as it refuses text that is not
 * JSON. One pass over the text; strings are skipped with indexOf, keys compared decoded. About half
 * the time JSON.parse takes on the same text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Keys an object holds in a list up to this many, then in a Set: no quadratic walk of a huge object. */
const LIST_KEYS = 16;

/** The keys seen so far in one open object. */
type Keys = string[] | Set<string>;

/** The index of the quote that ends the string opened at `start` (one not escaped by an odd run of backslashes). */
function stringEnd(text: string, start: number): number {
  let at = start;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at === -1) return text.length;
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
}

/** The key between the quotes at `start` and `end`, escapes decoded as JSON.parse decodes them (a bad escape: as written). */
function keyAt(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return raw;
  }
}

/** Adds `key` to `keys`; false when it was there already. `keys` may come back as a new Set. */
function added(keys: Keys, key: string): Keys | false {
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return false;
    keys.push(key);
    return keys.length > LIST_KEYS ? new Set(keys) : keys;
  }
  if (keys.has(key)) return false;
  keys.add(key);
  return keys;
}

/**
 * True when some object of `text` names a key twice. Exact for a text JSON.parse accepts; any other
 * text is scanned to its end without throwing (it is refused as not JSON anyway).
 */
export function hasDuplicateKey(text: string): boolean {
  // One slot per open container, innermost last: an object's keys so far, or null for an array.
  const open: Array<Keys | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = open[open.length - 1];
      if (expectKey && top != null) {
        const keys = added(top, keyAt(text, i, end));
        if (keys === false) return true;
        open[open.length - 1] = keys;
      }
      expectKey = false;
      i = end;
    } else if (c === OPEN_OBJECT) {
      open.push([]);
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      open.push(null);
      expectKey = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = open[open.length - 1] != null;
    }
  }
  return false;
}

/**
 * The value of a JSON text read as having one meaning: undefined when it is not JSON or names a key
 * twice in one object. `duplicateKeys`: the caller already scanned the text (a long one, in a turn of
 * its own). GenAuth's answers and webhook deliveries are read through it.
 */
export function parseUnambiguousJson(text: string, duplicateKeys?: boolean): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return (duplicateKeys ?? hasDuplicateKey(text)) ? undefined : value;
}
