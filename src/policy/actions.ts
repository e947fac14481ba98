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
 * True when the grant covers `action`: exactly, by `*`, or by `<resource>:*` (never by substring). An
 * ALLOW matches case-sensitively; a DENY case-insensitively, so it covers at least what the same ALLOW
 * would. `folded` is `foldCase(action)` when the caller already has it.
 */
export function grantCoversAction(grant: Grant, action: string, folded?: string): boolean {
  if (grant.anyAction) return true;
  const name = grant.effect === 'DENY' ? (folded ?? foldCase(action)) : action;
  if (grant.actionSet.has(name)) return true;
  for (const prefix of grant.actionPrefixes) if (name.startsWith(prefix)) return true;
  return false;
}
