/** Action names: the case fold a DENY matches by, and whether a grant covers an action. */
import type { Grant } from './normalize-grant.js';

const ASCII = /^[\x00-\x7f]*$/;

/** One code point folded: upper- then lower-cased until stable (`ẞ` -> `ß` -> `ss`), at most a few rounds. */
function foldCodePoint(char: string): string {
  let folded = char;
  for (let round = 0; round < 4; round++) {
    let next = '';
    for (const c of folded) next += c.toUpperCase().toLowerCase();
    if (next === folded) break;
    folded = next;
  }
  return folded;
}

/**
 * Case-folds an action name for DENY matching, one code point at a time, so that folding a string is
 * folding each of its parts: after folding, a DENY covers at least what the same ALLOW covers exactly,
 * `<resource>:*` prefixes included, and every upper- or lower-cased spelling of it. `toLowerCase` alone
 * is not such a fold: it lower-cases a final sigma by context, and leaves `K` (Kelvin) and `k` apart.
 */
export function foldCase(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let folded = '';
  for (const char of text) folded += foldCodePoint(char);
  return folded;
}

/**
 * A DENY also covers an action by its bare or qualified name (GenAuth names actions both ways: `read`,
 * `books:read`): a bare asked action (`read`, API mode's method actions) is covered by a qualified DENY
 * action ending in `:read` (`books:read`, `book:*:read`) or by any `<resource>:*`; a qualified asked
 * action (`reports:read`) by the bare DENY action `read`. Never one qualifier for another (`ecs:read`
 * does not cover `reports:read`). `name` is folded, as the DENY's actions are.
 */
function denyCoversOtherSpelling(grant: Grant, name: string): boolean {
  const colon = name.lastIndexOf(':');
  if (colon === -1) {
    if (grant.actionPrefixes.length > 0) return true;
    const suffix = `:${name}`;
    for (const own of grant.actionSet) if (own.endsWith(suffix)) return true;
    return false;
  }
  const bare = name.slice(colon + 1);
  return bare !== '' && grant.actionSet.has(bare);
}

/** Where the `:`-separated segment starting at `from` ends. */
function segmentEnd(text: string, from: number): number {
  const colon = text.indexOf(':', from);
  return colon === -1 ? text.length : colon;
}

/** True when `text` holds, from `from` to `to`, exactly a lone `*`. */
function isStarSegment(text: string, from: number, to: number): boolean {
  return to - from === 1 && text.charCodeAt(from) === 42;
}

/** True when `a[aFrom, aTo)` and `b[bFrom, bTo)` are the same text (no substring is made). */
function sameSegment(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let i = 0; i < aTo - aFrom; i++) if (a.charCodeAt(aFrom + i) !== b.charCodeAt(bFrom + i)) return false;
  return true;
}

/**
 * True when the DENY action `pattern` covers `name` segment by segment (both split at `:`), each `*`
 * segment standing for any number of segments, none included: GenAuth's `book:*:read` (read on every
 * book) covers `book:read` and `book:1:read`, `*:read` covers `books:read`, `book:*:*` everything on
 * books. `star` adds a final `*` segment (a `<resource>:*` kept as its prefix). Greedy with one
 * backtrack point, as glob matching: linear in the segments, whatever the stars.
 */
function segmentsCover(pattern: string, name: string, star: boolean): boolean {
  // Positions are segment starts; past the end (length + 1) means every segment was used.
  const patternEnd = star ? pattern.length - 1 : pattern.length;
  let p = 0;
  let n = 0;
  let starAt = -1;
  let starName = -1;
  while (n <= name.length) {
    if (p <= patternEnd) {
      const pEnd = Math.min(segmentEnd(pattern, p), patternEnd);
      if (isStarSegment(pattern, p, pEnd)) {
        p = pEnd + 1;
        starAt = p;
        starName = n;
        continue;
      }
      const nEnd = segmentEnd(name, n);
      if (sameSegment(pattern, p, pEnd, name, n, nEnd)) {
        p = pEnd + 1;
        n = nEnd + 1;
        continue;
      }
    } else if (star) {
      return true;
    }
    if (starAt === -1) return false;
    // The last star takes one more segment of the name.
    starName = segmentEnd(name, starName) + 1;
    n = starName;
    p = starAt;
  }
  // The name is used up: what is left of the pattern must be stars (the added final one is).
  for (; p <= patternEnd; p = Math.min(segmentEnd(pattern, p), patternEnd) + 1) {
    if (!isStarSegment(pattern, p, Math.min(segmentEnd(pattern, p), patternEnd))) return false;
  }
  return true;
}

/** True when a DENY action with a `*` segment (`book:*:read`, `*:read`, `book:*:*`) covers `name` (folded). */
function denyCoversBySegments(grant: Grant, name: string): boolean {
  for (const own of grant.actionSet) if (own.includes('*') && segmentsCover(own, name, false)) return true;
  // A `<resource>:*` also covers `<resource>` itself (its `*` standing for no segment), as a `*` segment does.
  for (const prefix of grant.actionPrefixes) if (segmentsCover(prefix, name, true)) return true;
  return false;
}

/**
 * True when the grant covers `action`: exactly, by `*`, or by `<resource>:*` (never by substring). An
 * ALLOW matches exactly as written. A DENY matches case-insensitively and by the action's bare or
 * qualified name too (`books:read` covers `read`, `read` covers `books:read`), so it covers at least
 * what the same ALLOW would, however GenAuth spells the action. `folded` is `foldCase(action)` when the
 * caller already has it.
 */
export function grantCoversAction(grant: Grant, action: string, folded?: string): boolean {
  if (grant.anyAction) return true;
  const deny = grant.effect === 'DENY';
  const name = deny ? (folded ?? foldCase(action)) : action;
  if (grant.actionSet.has(name)) return true;
  for (const prefix of grant.actionPrefixes) if (name.startsWith(prefix)) return true;
  return deny && (denyCoversOtherSpelling(grant, name) || denyCoversBySegments(grant, name));
}
