/**
 * The texts a DENY's action or resource code may stand for. GenAuth documents actions as an array of
 * names and codes as `type:identifier`, with `*` only as a whole segment; it says nothing of
 * whitespace, commas, empty segments or a `*` or `?` among other characters, nor whether its server
 * trims, splits or globs them. A DENY is read as widely as it could be meant (as a condition's values
 * are): read as written only, a DENY of `' disk:Delete'`, `'disk:Stop,disk:Delete'`, `'disk:Del*'`,
 * `'disk:De?ete'`, `'disk: Delete'` or `'disk:9:'` lapsed for `disk:Delete` (on `disk:9`) beside an
 * ALLOW of `disk:*`. An ALLOW keeps the literal reading (it grants no more).
 */
import { TRIMS, untrimmable } from './trims.js';

/**
 * Past this many readings (thousands of names joined by commas: a garbled or hostile answer), a DENY
 * is read as `*`, every action or code: it fails closed, and the work stays bounded however long the
 * text (it was quadratic in the number of names: seconds for a few thousand).
 */
export const MAX_DENY_READINGS = 256;
/**
 * Past this many characters, a DENY that could be read another way is read as `*` too: each step of
 * {@link denyReadings} costs time in the text's length (a tenth of a second for a few hundred KB of
 * padded segments), and no name GenAuth documents is that long. A plain name is read as written.
 */
export const MAX_DENY_TEXT_LENGTH = 8192;
const EVERYTHING: readonly string[] = Object.freeze(['*']);

/**
 * `text` as written, each comma-separated part of it, each of those trimmed every way (see `TRIMS`),
 * each of those with every segment trimmed the same ways, each of those with its `?` segments made `*`
 * (see {@link globReading}), and each of those with its empty segments read both ways (see
 * {@link emptySegmentReadings}); without repeats or empty texts; `[text]` at once for the usual plain
 * name; `['*']` past {@link MAX_DENY_READINGS} or {@link MAX_DENY_TEXT_LENGTH}. Index time only.
 */
export function denyReadings(text: string): readonly string[] {
  const comma = text.includes(',');
  if (!comma && plain(text)) return [text];
  if (text.length > MAX_DENY_TEXT_LENGTH) return EVERYTHING;
  const parts = comma ? text.split(',', MAX_DENY_READINGS + 1) : [];
  if (parts.length > MAX_DENY_READINGS) return EVERYTHING;
  // Sets, each step adding to the readings before it: a hostile text of many commas or segments makes
  // many readings, and arrays' look-ups (or expanding one reading twice) would be quadratic.
  let readings = new Set([text, ...parts]);
  for (const step of STEPS) {
    const next = new Set<string>();
    for (const reading of readings) {
      next.add(reading);
      for (const other of step(reading)) next.add(other);
    }
    if (next.size > MAX_DENY_READINGS + 1) return EVERYTHING;
    readings = next;
  }
  readings.delete('');
  return readings.size > MAX_DENY_READINGS ? EVERYTHING : [...readings];
}

/** Each step's other readings of a text (none when it has nothing that step reads). */
const STEPS: ReadonlyArray<(text: string) => readonly string[]> = [
  (text) => (untrimmable(text) ? [] : TRIMS.map((trim) => trim(text))),
  (text) => (segmentsUntrimmable(text) ? [] : TRIMS.map((trim) => text.split(':').map(trim).join(':'))),
  (text) => (text.includes('?') ? [globReading(text)] : []),
  emptySegmentReadings,
];

/** True when no step can read `text` another way: the usual plain name. */
function plain(text: string): boolean {
  return untrimmable(text) && segmentsUntrimmable(text) && !text.includes('?') && !hasEmptySegment(text);
}

/** True when no trim changes a `:`-separated segment of `text`: the characters beside each `:` are printable ASCII. */
function segmentsUntrimmable(text: string): boolean {
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    if (i > 0 && !printable(text.charCodeAt(i - 1))) return false;
    if (i < text.length - 1 && !printable(text.charCodeAt(i + 1))) return false;
  }
  return true;
}

function printable(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}

function hasEmptySegment(text: string): boolean {
  return text.startsWith(':') || text.endsWith(':') || text.includes('::');
}

/**
 * `text` with each segment holding a `?` (a one-character glob to some readers) made a whole `*`
 * segment: it then covers what a `*` there covers, every glob reading of it included.
 */
function globReading(text: string): string {
  return text
    .split(':')
    .map((segment) => (segment.includes('?') ? '*' : segment))
    .join(':');
}

/**
 * An empty segment (`disk:9:`, `:disk`, `disk::9`) read as nothing there (`disk:9`) and as a `*`
 * segment (`disk:9:*`: everything under it, as a prefix would be meant); none for a text without one.
 */
function emptySegmentReadings(text: string): readonly string[] {
  if (!hasEmptySegment(text)) return [];
  const segments = text.split(':');
  return [segments.filter((segment) => segment !== '').join(':'), segments.map((segment) => (segment === '' ? '*' : segment)).join(':')];
}

/** True when every one of `actions` may be read as no text at all (blank, trimmed): such a DENY names no action. */
export function namesNoAction(actions: readonly string[]): boolean {
  return actions.every((action) => TRIMS.some((trim) => trim(action) === ''));
}

/**
 * A DENY action with each `:`-separated segment that holds a `*` among other characters made a whole
 * `*` segment (`disk:Del*` -> `disk:*`, `d*:Delete` -> `*:Delete`, `**` -> `*`), as a DENY's code is
 * read (see `codeWildcard`): every glob reading of it is covered, the literal one included.
 */
export function widenedStars(action: string): string {
  if (!action.includes('*')) return action;
  return action
    .split(':')
    .map((segment) => (segment.includes('*') ? '*' : segment))
    .join(':');
}
