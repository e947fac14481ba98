import type { AuthorizedResource, Effect, PolicyCondition, ResourceType } from '../genauth/types.js';

/** One grant, normalized and ready to match. */
export interface Grant {
  readonly code: string;
  readonly type: ResourceType;
  readonly effect: Effect;
  readonly actions: readonly string[];
  readonly apiIdentifier: string | null;
  readonly conditions: readonly PolicyCondition[];
  /** True when the grant holds `*`. */
  readonly anyAction: boolean;
  /** Exact action names. */
  readonly actionSet: ReadonlySet<string>;
  /** Prefixes of `<resource>:*` actions, e.g. `ecs:`. */
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

/** Estimated bytes of one entry, raw and normalized, read from the raw entry without normalizing it. */
function entryBytes(entry: AuthorizedResource): number {
  const strings = textLength(entry.resourceCode) + textLength(entry.apiIdentifier) + textLength(entry.description);
  let bytes = RAW_ENTRY_BYTES + GRANT_BYTES + 4 * strings;
  const actions = entry.actions;
  if (Array.isArray(actions)) for (const action of actions) bytes += ACTION_BYTES + 4 * textLength(action);
  else bytes += 4 * textLength(actions) + 8 * ACTION_BYTES;
  if (Array.isArray(entry.condition)) {
    for (const c of entry.condition) bytes += CONDITION_BYTES + 4 * (textLength(c?.param) + textLength(c?.operator) + textLength(c?.value));
  }
  return bytes;
}

const RESOURCE_TYPES = new Set<string>(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);
const NO_CONDITIONS: readonly PolicyCondition[] = Object.freeze([]);

/** `actions` is documented as an array; a JSON-encoded string is accepted too. Null: unreadable. */
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
  return list as string[];
}

function readEffect(value: unknown): Effect {
  if (value === undefined || value === null) return 'ALLOW';
  // Anything that is not plainly ALLOW is treated as DENY: fail closed.
  return typeof value === 'string' && value.toUpperCase() === 'ALLOW' ? 'ALLOW' : 'DENY';
}

/** The entry's resource code, or null when the entry is not an object with a non-empty code (skipped). */
function usableCode(entry: AuthorizedResource): string | null {
  const code = typeof entry === 'object' && entry !== null ? entry.resourceCode : undefined;
  return typeof code === 'string' && code !== '' ? code : null;
}

/** Normalizes one upstream entry; returns null for an entry with no usable resource code. */
export function normalizeGrant(entry: AuthorizedResource): Grant | null {
  const code = usableCode(entry);
  if (code === null) return null;
  const effect = readEffect(entry.effect);
  let actions = readActions(entry.actions);
  // An unreadable DENY still denies everything it names; an unreadable ALLOW grants nothing.
  if (actions === null) actions = effect === 'DENY' ? ['*'] : [];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let anyAction = false;
  for (const action of actions) {
    if (action === '*') anyAction = true;
    else if (action.endsWith(':*') && action.length > 2) prefixes.push(action.slice(0, -1));
    else exact.add(action);
  }
  const type = typeof entry.resourceType === 'string' ? entry.resourceType.toUpperCase() : '';
  return {
    code,
    type: (RESOURCE_TYPES.has(type) ? type : 'DATA') as ResourceType,
    effect,
    actions,
    apiIdentifier: typeof entry.apiIdentifier === 'string' && entry.apiIdentifier !== '' ? entry.apiIdentifier : null,
    conditions: Array.isArray(entry.condition) ? entry.condition : NO_CONDITIONS,
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
      if (Array.isArray(entry.condition) && entry.condition.length > 0) hasConditions = true;
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

/** True when the grant covers `action`: exactly, by `*`, or by `<resource>:*` (never by substring). */
export function grantCoversAction(grant: Grant, action: string): boolean {
  if (grant.anyAction || grant.actionSet.has(action)) return true;
  for (const prefix of grant.actionPrefixes) if (action.startsWith(prefix)) return true;
  return false;
}
