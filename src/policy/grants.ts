import type { AuthorizedResource, Effect, PolicyCondition, ResourceType } from '../wire.js';

/** One grant, normalized and ready to match. */
export interface Grant {
  readonly code: string;
  /** Null for a type the guard does not know (or none): such a grant counts only where no type is asked for. */
  readonly type: ResourceType | null;
  /** `ALLOW` only for a plain `ALLOW`; anything else, a missing effect included, is `DENY`. */
  readonly effect: Effect;
  /** The actions the grant covers (an unreadable or empty DENY: `['*']`; an ALLOW that grants nothing: `[]`). */
  readonly actions: readonly string[];
  readonly apiIdentifier: string | null;
  /** The conditions, all of which must hold (a single `condition` object is a list of one). */
  readonly conditions: readonly PolicyCondition[];
  /** True when the grant holds `*`. */
  readonly anyAction: boolean;
  /** Exact action names; case-folded (see {@link foldCase}) for a DENY. */
  readonly actionSet: ReadonlySet<string>;
  /** Prefixes of `<resource>:*` actions, e.g. `ecs:`; case-folded for a DENY. */
  readonly actionPrefixes: readonly string[];
}

/**
 * A user's grants indexed once per fetch: raw entries grouped by resource code in one pass, each
 * code's grants normalized on its first lookup and kept, plus the (few) wildcard codes normalized up
 * front. A decision is a Map lookup; a fetch costs one pass, not a normalization of every grant.
 */
export interface GrantIndex {
  /** Every usable grant, normalized (on first read). */
  readonly grants: readonly Grant[];
  /** Grants whose code is exactly `code`. */
  lookup(code: string): readonly Grant[] | undefined;
  /** Grants with a wildcard code (`*` or `prefix:*`), with the prefix they cover (`''` for `*`). */
  readonly wildcards: ReadonlyArray<{ readonly prefix: string; readonly grant: Grant }>;
  /** True when some grant carries conditions, so a decision may need a condition context. */
  readonly hasConditions: boolean;
  /** Estimated heap bytes this index may hold (raw entries plus their normalized form; see README). */
  readonly bytes: number;
}

// Per-object overheads measured on V8 (Node 20-24), rounded up so the budget is never underestimated.
const INDEX_BYTES = 400;
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
function entryBytes(entry: AuthorizedResource): number {
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

const RESOURCE_TYPES = new Set<string>(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);
const NO_CONDITIONS: readonly PolicyCondition[] = Object.freeze([]);

/**
 * `actions` is documented as an array; a JSON-encoded string is accepted too. Returns the non-empty
 * action names, or null when the value is unreadable.
 */
function readActions(value: unknown): string[] | null {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) return null;
  return list.includes('') ? list.filter((a) => a !== '') : (list as string[]);
}

function readEffect(value: unknown): Effect {
  // Only a plain ALLOW allows. Anything else, a missing effect included (GenAuth marks it required),
  // is treated as DENY: fail closed.
  return typeof value === 'string' && value.toUpperCase() === 'ALLOW' ? 'ALLOW' : 'DENY';
}

function isConditionObject(value: unknown): value is PolicyCondition {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `condition` is documented as an array; GenAuth's own example shows one object. Absent, null or `[]`:
 * no conditions; one object: a list of one; a list of objects: itself. Anything else (a string, a
 * number, a list holding a non-object) is malformed: null. The grant index and normalization both read
 * conditions through here, so the index's `hasConditions` never disagrees with a grant's conditions.
 */
function readConditions(value: unknown): readonly PolicyCondition[] | null {
  if (value === undefined || value === null) return NO_CONDITIONS;
  if (Array.isArray(value)) {
    if (value.length === 0) return NO_CONDITIONS;
    return value.every(isConditionObject) ? value : null;
  }
  return isConditionObject(value) ? [value] : null;
}

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

/** The entry's resource code, or null when the entry is not an object with a non-empty code (skipped). */
function usableCode(entry: AuthorizedResource): string | null {
  const code = typeof entry === 'object' && entry !== null ? entry.resourceCode : undefined;
  return typeof code === 'string' && code !== '' ? code : null;
}

const ANY_ACTION: readonly string[] = Object.freeze(['*']);
const NO_ACTIONS: readonly string[] = Object.freeze([]);

/** Normalizes one upstream entry; returns null for an entry with no usable resource code. */
export function normalizeGrant(entry: AuthorizedResource): Grant | null {
  const code = usableCode(entry);
  if (code === null) return null;
  const effect = readEffect(entry.effect);
  const deny = effect === 'DENY';
  let conditions = readConditions(entry.condition);
  let actions: readonly string[] | null = readActions(entry.actions);
  if (conditions === null) {
    // Malformed conditions: an ALLOW grants nothing, a DENY applies whatever they meant.
    conditions = NO_CONDITIONS;
    if (!deny) actions = NO_ACTIONS;
  }
  // A DENY that names no readable action denies every action on its code; such an ALLOW grants nothing.
  if (actions === null || actions.length === 0) actions = deny ? ANY_ACTION : NO_ACTIONS;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let anyAction = false;
  for (const action of actions) {
    if (action === '*') anyAction = true;
    else if (action.endsWith(':*') && action.length > 2) prefixes.push(deny ? foldCase(action.slice(0, -1)) : action.slice(0, -1));
    else exact.add(deny ? foldCase(action) : action);
  }
  const type = typeof entry.resourceType === 'string' ? entry.resourceType.toUpperCase() : '';
  return {
    code,
    type: RESOURCE_TYPES.has(type) ? (type as ResourceType) : null,
    effect,
    actions,
    apiIdentifier: typeof entry.apiIdentifier === 'string' && entry.apiIdentifier !== '' ? entry.apiIdentifier : null,
    conditions,
    anyAction,
    actionSet: exact,
    actionPrefixes: prefixes,
  };
}

/** Wildcard resource codes GenAuth uses: `*` and `prefix:*`. Returns the covered prefix or null. */
function wildcardPrefix(code: string): string | null {
  if (code === '*') return '';
  if (code.endsWith(':*') && code.length > 2) return code.slice(0, -1);
  return null;
}

class LazyGrantIndex implements GrantIndex {
  readonly wildcards: Array<{ prefix: string; grant: Grant }> = [];
  readonly hasConditions: boolean;
  /** Entries by exact code, built on the second lookup: see `entriesOf`. */
  private raw: Map<string, AuthorizedResource[]> | undefined;
  private scanned = false;
  private readonly normalized = new Map<string, readonly Grant[]>();
  private all: readonly Grant[] | undefined;
  private estimate: number | undefined;

  constructor(private readonly entries: readonly AuthorizedResource[]) {
    let hasConditions = false;
    for (const entry of entries) {
      const code = usableCode(entry);
      if (code === null) continue;
      // Read as normalization reads it: a single condition object counts (the fast path skips conditions).
      if (!hasConditions && (readConditions(entry.condition)?.length ?? 0) > 0) hasConditions = true;
      const prefix = wildcardPrefix(code);
      if (prefix !== null) {
        const grant = normalizeGrant(entry);
        if (grant !== null) this.wildcards.push({ prefix, grant });
      }
    }
    this.hasConditions = hasConditions;
  }

  /** Estimated on first read: only a cache asks, so an uncached load never pays for it. */
  get bytes(): number {
    if (this.estimate === undefined) {
      let bytes = INDEX_BYTES;
      for (const entry of this.entries) if (usableCode(entry) !== null) bytes += entryBytes(entry);
      this.estimate = bytes;
    }
    return this.estimate;
  }

  lookup(code: string): readonly Grant[] | undefined {
    let grants = this.normalized.get(code);
    if (grants === undefined) {
      const entries = this.entriesOf(code);
      if (entries === undefined) return undefined;
      grants = entries.map(normalizeGrant).filter((g): g is Grant => g !== null);
      this.normalized.set(code, grants);
    }
    return grants;
  }

  /**
   * The entries with exactly this (non-wildcard) code. The first lookup scans the list: an index
   * asked once (every index with `cache: false`) never pays for a Map of every code. A second
   * lookup means the index is reused, so it builds the Map and later lookups are O(1).
   */
  private entriesOf(code: string): AuthorizedResource[] | undefined {
    if (this.raw === undefined && !this.scanned) {
      this.scanned = true;
      if (wildcardPrefix(code) !== null) return undefined;
      let found: AuthorizedResource[] | undefined;
      for (const entry of this.entries) if (usableCode(entry) === code) (found ??= []).push(entry);
      return found;
    }
    return this.codes().get(code);
  }

  private codes(): Map<string, AuthorizedResource[]> {
    if (this.raw === undefined) {
      const raw = new Map<string, AuthorizedResource[]>();
      for (const entry of this.entries) {
        const code = usableCode(entry);
        if (code === null || wildcardPrefix(code) !== null) continue;
        const list = raw.get(code);
        if (list === undefined) raw.set(code, [entry]);
        else list.push(entry);
      }
      this.raw = raw;
    }
    return this.raw;
  }

  get grants(): readonly Grant[] {
    if (this.all === undefined) {
      const all: Grant[] = [];
      for (const code of this.codes().keys()) all.push(...(this.lookup(code) ?? []));
      for (const { grant } of this.wildcards) all.push(grant);
      this.all = all;
    }
    return this.all;
  }
}

/** Indexes a grant list once per fetch, so each decision is a Map lookup plus the (few) wildcard codes. */
export function indexGrants(entries: readonly AuthorizedResource[]): GrantIndex {
  return new LazyGrantIndex(entries);
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
