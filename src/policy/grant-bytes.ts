/**
 * Heap bytes a user's grants may hold in the cache, estimated from the raw entries, so the cache's byte
 * budget holds. `npm run bench` measures the real figure against this estimate (docs/bench.md).
 */
import type { AuthorizedResource } from '../wire.js';

// Per-object overheads measured on V8 (Node 20-24), rounded up so the budget is never underestimated.
export const INDEX_BYTES = 400;
const GRANT_BYTES = 420;
const ACTION_BYTES = 60;
const CONDITION_BYTES = 160;
// The raw entry (parsed JSON) is kept besides its normalized form.
const RAW_ENTRY_BYTES = 200;

function textLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 16;
}

function valueLength(value: unknown): number {
  if (!Array.isArray(value)) return textLength(value);
  let length = 16;
  for (const item of value) length += 8 + textLength(item);
  return length;
}

/** Estimated bytes of one condition item (or of whatever stands where one should be). */
function conditionItemBytes(item: unknown): number {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 4 * valueLength(item);
  const c = item as Record<string, unknown>;
  return CONDITION_BYTES + 4 * (textLength(c.param) + textLength(c.operator) + valueLength(c.value));
}

/** Estimated bytes of one entry, raw and normalized, read from the raw entry without normalizing it. */
export function entryBytes(entry: AuthorizedResource): number {
  const strings =
    textLength(entry.resourceCode) + textLength(entry.resourceType) + textLength(entry.effect) + textLength(entry.apiIdentifier) + textLength(entry.description);
  let bytes = RAW_ENTRY_BYTES + GRANT_BYTES + 4 * strings;
  const actions = entry.actions;
  if (Array.isArray(actions)) for (const action of actions) bytes += ACTION_BYTES + 4 * textLength(action);
  else bytes += 4 * textLength(actions) + 8 * ACTION_BYTES;
  // Counted in every shape it may arrive in (list, one object, junk): the raw entry keeps it in memory.
  const condition: unknown = entry.condition;
  if (Array.isArray(condition)) for (const item of condition) bytes += 8 + conditionItemBytes(item);
  else if (condition !== undefined && condition !== null) bytes += conditionItemBytes(condition);
  return bytes;
}

// The compact form (indexGrantsCompact): no raw entry, action sets shared within a list.
/**
 * A Grant object, its slot in the list of all grants, and its code's Map entry, whose value it is when
 * it is the code's only grant (was 240 while every code had an array: 56 B less measured per grant).
 */
const COMPACT_GRANT_BYTES = 184;
/** The array of a code with several grants (trimmed to size) and its element store, slots aside. */
const CODE_LIST_BYTES = 64;
/** A wildcard grant's record (`{ prefix, pattern, grant }`) and its slot. */
const WILDCARD_BYTES = 64;
/** One action shape: its Set, prefix list and actions array (one per distinct effect and actions in a list). */
const SHAPE_BYTES = 320;
/** One action name in a shape: its slot in the array and in the Set's table, and the string. */
const SHAPE_ACTION_BYTES = 64;

/** Heap bytes of a string: its header and one or two bytes per character (V8 stores Latin-1 text in one). */
export function stringBytes(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return 24 + 2 * text.length;
  return 24 + text.length;
}

/** Estimated heap bytes of one grant in the compact form, its action shape aside (see {@link shapeBytes}). */
export function compactGrantBytes(grant: { code: string; apiIdentifier: string | null; conditions: readonly unknown[] }): number {
  let bytes = COMPACT_GRANT_BYTES + stringBytes(grant.code) + (grant.apiIdentifier === null ? 0 : stringBytes(grant.apiIdentifier));
  for (const item of grant.conditions) bytes += 8 + conditionItemBytes(item);
  return bytes;
}

/** Estimated heap bytes of a wildcard grant's record: its prefix, and its pattern when it is not the code itself. */
export function wildcardBytes(wildcard: { prefix: string; pattern: string | undefined; grant: { code: string } }): number {
  const pattern = wildcard.pattern === undefined || wildcard.pattern === wildcard.grant.code ? 0 : stringBytes(wildcard.pattern);
  return WILDCARD_BYTES + stringBytes(wildcard.prefix) + pattern;
}

/** One entry of an index's DENY codes by folded code: the Map slot and the array of codes. */
const FOLDED_DENY_BYTES = 96;

/** Estimated heap bytes of one DENY code in the folded-code Map: its slot, and the folded string when it is not the code. */
export function foldedDenyBytes(folded: string, code: string): number {
  return FOLDED_DENY_BYTES + (folded === code ? 0 : stringBytes(folded));
}

/** Estimated heap bytes of the array holding a code's grants when it has several (`count`). */
export function codeListBytes(count: number): number {
  return CODE_LIST_BYTES + 8 * count;
}

/** Estimated heap bytes of one action shape shared by a list's grants. */
export function shapeBytes(actions: readonly string[]): number {
  let bytes = SHAPE_BYTES;
  for (const action of actions) bytes += SHAPE_ACTION_BYTES + 2 * stringBytes(action);
  return bytes;
}
