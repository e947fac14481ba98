/** Action names: the case fold a DENY matches by, and whether a grant covers an action. */
import type { Grant } from './normalize-grant.js';
import { segmentsCover } from './segments.js';

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
  // One pass, no regular expression: text already folded (lower-case ASCII, the usual code or action)
  // is returned as it is, without a new string (a DENY's match folds the asked code on every decision);
  // other ASCII text is lower-cased, and the rest folded one code point at a time.
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return foldEach(text);
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  return upper ? text.toLowerCase() : text;
}

function foldEach(text: string): string {
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
