/**
 * The texts a DENY's action or resource code may stand for. GenAuth documents actions as an array of
 * names and codes as `type:identifier`, with `*` only as a whole segment; it says nothing of
 * surrounding whitespace, commas or a `*` among other characters, nor whether its server trims or
 * splits them. A DENY is read as widely as it could be meant (as a condition's values are): read as
 * written only, a DENY of `' disk:Delete'`, `'disk:Stop,disk:Delete'` or `'disk:Del*'` lapsed for
 * `disk:Delete` beside an ALLOW of `disk:*`. An ALLOW keeps the literal reading (it grants no more).
 */
import { TRIMS, untrimmable } from './trims.js';

/**
 * Past this many readings (thousands of names joined by commas: a garbled or hostile answer), a DENY
 * is read as `*`, every action or code: it fails closed, and the work stays bounded however long the
 * text (it was quadratic in the number of names: seconds for a few thousand).
 */
export const MAX_DENY_READINGS = 256;
const EVERYTHING: readonly string[] = Object.freeze(['*']);

/**
 * `text` as written, each comma-separated part of it, and each of those trimmed every way (see
 * `TRIMS`), without repeats or empty texts; `[text]` at once for the usual plain name; `['*']` past
 * {@link MAX_DENY_READINGS}. Index time only.
 */
export function denyReadings(text: string): readonly string[] {
  const comma = text.includes(',');
  if (!comma && untrimmable(text)) return [text];
  const parts = comma ? text.split(',', MAX_DENY_READINGS + 1) : [];
  if (parts.length > MAX_DENY_READINGS) return EVERYTHING;
  const readings = new Set<string>();
  for (const part of [text, ...parts]) {
    for (const form of [part, ...TRIMS.map((trim) => trim(part))]) if (form !== '') readings.add(form);
  }
  return readings.size > MAX_DENY_READINGS ? EVERYTHING : [...readings];
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
