import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AuthorizedResource } from '../wire.js';
import { codeWildcard, isWildcardCode, type CodeWildcard } from './code-wildcards.js';
import { codeListBytes, compactGrantBytes, entryBytes, INDEX_BYTES, shapeBytes, wildcardBytes } from './grant-bytes.js';
import { normalizeGrant, readConditions, readEffect, strayConditionKey, usableCode, type ActionShapes, type Grant } from './normalize-grant.js';

/**
 * A user's grants indexed once per fetch: raw entries grouped by resource code in one pass, each
 * code's grants normalized on its first lookup and kept, plus the (few) wildcard codes normalized up
 * front. A decision is a Map lookup; a fetch costs one pass, not a normalization of every grant.
 * An index {@link indexGrants} makes is read-only all the way down: the index, its lists (`grants`,
 * `wildcards`, what `lookup` and `exact` return), the wildcard records and the grants themselves are
 * frozen, and a grant's `actionSet` refuses writes (`Set.prototype.add.call` included): writing to any
 * of them throws a `TypeError`, since later decisions (and, for a cached set, other users') read them.
 */
export interface GrantIndex {
  /** Every usable grant, normalized (on first read). */
  readonly grants: readonly Grant[];
  /**
   * Grants whose code is exactly `code`, as an array. An index that keeps a code's only grant alone
   * wraps it in a new array per call: the decision path reads {@link GrantIndex.exact} instead.
   */
  lookup(code: string): readonly Grant[] | undefined;
  /**
   * Grants whose code is exactly `code`, as the index keeps them: a code's only grant may come alone,
   * several come as an array, in order (`Array.isArray` tells them apart). What `decide()` reads: no
   * array is made per call.
   */
  exact(code: string): CodeGrants | undefined;
  /**
   * Grants with a wildcard code (`*`, an ALLOW's `prefix:*`, a DENY's code with any `*`), with how they
   * cover codes: the prefix every covered code starts with (`''` for `*`) and, for a DENY, the pattern
   * its `*` segments are matched by (see `codeWildcard`).
   */
  readonly wildcards: ReadonlyArray<WildcardGrant>;
  /** True when some grant carries conditions, so a decision may need a condition context. */
  readonly hasConditions: boolean;
  /** Estimated heap bytes this index may hold (raw entries plus their normalized form; see docs/memory.md). */
  readonly bytes: number;
}

/**
 * A code's grants as an index may keep them: its only grant alone (most codes have one, and a
 * one-element array per code was about a fifth of a cached set's heap), or several in order.
 */
export type CodeGrants = Grant | readonly Grant[];

/** True when the code has several grants (an array), false for a lone grant. */
export function isGrantList(grants: CodeGrants): grants is readonly Grant[] {
  return Array.isArray(grants);
}

/** How many grants a code's set holds (0 for none). */
export function grantCount(grants: CodeGrants | undefined): number {
  if (grants === undefined) return 0;
  return isGrantList(grants) ? grants.length : 1;
}

/** The grant at `position` (below {@link grantCount}) of a code's set. */
export function grantAt(grants: CodeGrants, position: number): Grant {
  return isGrantList(grants) ? (grants[position] as Grant) : grants;
}

/** A code's set as an array (a new one for a lone grant): for readers off the decision path. */
export function grantList(grants: CodeGrants | undefined): readonly Grant[] {
  if (grants === undefined) return [];
  return isGrantList(grants) ? grants : [grants];
}

/** A grant with a wildcard code, and how its code covers codes. */
export interface WildcardGrant extends CodeWildcard {
  readonly grant: Grant;
}

/** The wildcard record of a normalized grant, or null when its code covers exactly itself. */
function wildcardGrant(grant: Grant): WildcardGrant | null {
  const wildcard = codeWildcard(grant.code, grant.effect === 'DENY');
  // One shape for every record: the decision path reads them in a loop. Frozen: see GrantIndex.
  return wildcard === null ? null : Object.freeze({ prefix: wildcard.prefix, pattern: wildcard.pattern, grant });
}

/** True when the entry's grant is a wildcard grant (kept out of the exact codes). */
function isWildcardEntry(entry: AuthorizedResource, code: string): boolean {
  return isWildcardCode(code, readEffect(entry.effect) === 'DENY');
}

/** The first key an index's entries carried conditions under other than `condition`, kept for the few that had one. */
const strayKeys = new WeakMap<GrantIndex, string>();

/**
 * The first key, other than `condition`, under which an entry of the index carried conditions (see
 * `strayConditionKey`: such a grant is read fail-closed), or undefined. Found while the index was
 * built, so for the operator warning, once per grant set.
 */
export function strayConditionKeyOf(index: GrantIndex): string | undefined {
  return strayKeys.get(index);
}

/**
 * What the decision path reads of an index: `exact()` and `wildcards`, as the index holds them. An
 * index of ours keeps them apart from what it hands out (see {@link heldGrants}): its public lists are
 * frozen, and V8 (Node 20) indexes a frozen array several times slower than a plain one, so the
 * decision path reads the plain ones, which no app can reach. An index of an app's own is its own.
 */
export interface HeldGrants {
  exact(code: string): CodeGrants | undefined;
  readonly wildcards: ReadonlyArray<WildcardGrant>;
}

const NO_WILDCARDS: ReadonlyArray<WildcardGrant> = Object.freeze([]);

/** A frozen copy of `list` (the shared frozen empty list for none): what an index hands out. */
const handedOut = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? (NO_WILDCARDS as readonly T[]) : Object.freeze(list.slice()));

/** The state of a lazy index, read by the decision path (see {@link HeldGrants}); never handed out. */
class LazyHeld implements HeldGrants {
  readonly wildcards: WildcardGrant[] = [];
  readonly hasConditions: boolean;
  /** Entries by exact code, built on the second lookup: see `entriesOf`. */
  private raw: Map<string, AuthorizedResource[]> | undefined;
  private scanned = false;
  private readonly normalized = new Map<string, Grant[]>();
  private estimate: number | undefined;
  /** The first key other than `condition` an entry carried conditions under (see {@link strayConditionKeyOf}). */
  readonly strayKey: string | undefined;

  constructor(readonly entries: readonly AuthorizedResource[]) {
    let hasConditions = false;
    let strayKey: string | undefined;
    for (const entry of entries) {
      const code = usableCode(entry);
      if (code === null) continue;
      const stray = strayConditionKey(entry);
      // Read as normalization reads it: a single condition object counts (the fast path skips conditions);
      // an entry with a stray condition key keeps none (it is read fail-closed).
      if (stray !== undefined) strayKey ??= stray;
      else if (!hasConditions && (readConditions(entry.condition)?.length ?? 0) > 0) hasConditions = true;
      if (isWildcardEntry(entry, code)) {
        const grant = normalizeGrant(entry, undefined, stray);
        const wildcard = grant === null ? null : wildcardGrant(grant);
        if (wildcard !== null) this.wildcards.push(wildcard);
      }
    }
    this.hasConditions = hasConditions;
    this.strayKey = strayKey;
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

  exact(code: string): Grant[] | undefined {
    let grants = this.normalized.get(code);
    if (grants === undefined) {
      const entries = this.entriesOf(code);
      if (entries === undefined) return undefined;
      grants = entries.map((entry) => normalizeGrant(entry)).filter((g): g is Grant => g !== null);
      this.normalized.set(code, grants);
    }
    return grants;
  }

  /**
   * The entries of non-wildcard grants with exactly this code (an ALLOW of `ecs:*:disk` is one, a
   * DENY of it is a wildcard). The first lookup scans the list: an index asked once (every index
   * with `cache: false`) never pays for a Map of every code. A second lookup means the index is
   * reused, so it builds the Map and later lookups are O(1).
   */
  private entriesOf(code: string): AuthorizedResource[] | undefined {
    if (this.raw === undefined && !this.scanned) {
      this.scanned = true;
      let found: AuthorizedResource[] | undefined;
      for (const entry of this.entries) if (usableCode(entry) === code && !isWildcardEntry(entry, code)) (found ??= []).push(entry);
      return found;
    }
    return this.codes().get(code);
  }

  codes(): Map<string, AuthorizedResource[]> {
    if (this.raw === undefined) {
      const raw = new Map<string, AuthorizedResource[]>();
      for (const entry of this.entries) {
        const code = usableCode(entry);
        if (code === null || isWildcardEntry(entry, code)) continue;
        const list = raw.get(code);
        if (list === undefined) raw.set(code, [entry]);
        else list.push(entry);
      }
      this.raw = raw;
    }
    return this.raw;
  }
}

/**
 * The index {@link indexGrants} returns: frozen, its lists frozen copies of what the decision path
 * reads (kept in a private field), so nothing an app holding it writes changes a decision.
 */
class LazyGrantIndex implements GrantIndex {
  readonly #held: LazyHeld;
  /** Frozen copies of the lists handed out, by code (made on the first lookup() of a code). */
  #lists: Map<string, readonly Grant[]> | undefined;
  #all: readonly Grant[] | undefined;
  readonly wildcards: ReadonlyArray<WildcardGrant>;
  readonly hasConditions: boolean;

  constructor(entries: readonly AuthorizedResource[]) {
    this.#held = new LazyHeld(entries);
    this.wildcards = handedOut(this.#held.wildcards);
    this.hasConditions = this.#held.hasConditions;
    if (this.#held.strayKey !== undefined) strayKeys.set(this, this.#held.strayKey);
    Object.freeze(this);
  }

  /** What the decision path reads (see {@link heldGrants}). */
  static held(index: LazyGrantIndex): HeldGrants {
    return index.#held;
  }

  get bytes(): number {
    return this.#held.bytes;
  }

  lookup(code: string): readonly Grant[] | undefined {
    let list = this.#lists?.get(code);
    if (list === undefined) {
      const held = this.#held.exact(code);
      if (held === undefined) return undefined;
      list = handedOut(held);
      (this.#lists ??= new Map()).set(code, list);
    }
    return list;
  }

  exact(code: string): readonly Grant[] | undefined {
    return this.lookup(code);
  }

  get grants(): readonly Grant[] {
    if (this.#all === undefined) {
      const all: Grant[] = [];
      for (const code of this.#held.codes().keys()) all.push(...(this.#held.exact(code) ?? []));
      for (const { grant } of this.#held.wildcards) all.push(grant);
      this.#all = Object.freeze(all);
    }
    return this.#all;
  }
}

/** The state of a compact index, read by the decision path (see {@link HeldGrants}); never handed out. */
class CompactHeld implements HeldGrants {
  constructor(
    private readonly byCode: ReadonlyMap<string, CodeGrants>,
    readonly wildcards: ReadonlyArray<WildcardGrant>,
  ) {}

  exact(code: string): CodeGrants | undefined {
    return this.byCode.get(code);
  }
}

/**
 * A grant list normalized up front into its smallest form, for a cache that keeps it: no raw entry is
 * kept (their descriptions and unused fields go), grants naming the same actions share one action
 * set, and a code's grants are one Map value: its only grant alone, several in an array. Same grants,
 * same order as {@link LazyGrantIndex}. Made by a {@link CompactIndexBuilder}. Frozen, handing out
 * frozen copies of its lists, as {@link LazyGrantIndex}.
 */
class CompactGrantIndex implements GrantIndex {
  readonly #held: CompactHeld;
  /** Frozen copies of the lists handed out, by code (made on the first lookup() of a code). */
  #lists: Map<string, readonly Grant[]> | undefined;
  readonly wildcards: ReadonlyArray<WildcardGrant>;

  constructor(
    held: CompactHeld,
    readonly grants: readonly Grant[],
    readonly hasConditions: boolean,
    readonly bytes: number,
  ) {
    this.#held = held;
    this.wildcards = handedOut(held.wildcards);
    Object.freeze(this);
  }

  /** What the decision path reads (see {@link heldGrants}). */
  static held(index: CompactGrantIndex): HeldGrants {
    return index.#held;
  }

  lookup(code: string): readonly Grant[] | undefined {
    const held = this.#held.exact(code);
    if (held === undefined) return undefined;
    return isGrantList(held) ? this.#list(code, held) : Object.freeze([held]);
  }

  exact(code: string): CodeGrants | undefined {
    const held = this.#held.exact(code);
    return held !== undefined && isGrantList(held) ? this.#list(code, held) : held;
  }

  #list(code: string, held: readonly Grant[]): readonly Grant[] {
    let list = this.#lists?.get(code);
    if (list === undefined) (this.#lists ??= new Map()).set(code, (list = handedOut(held)));
    return list;
  }
}

/**
 * What the decision path reads of `index`: for an index of ours, its plain lists (kept from the app:
 * only this module reaches them); for an app's own index, the index itself.
 */
export function heldGrants(index: GrantIndex): HeldGrants {
  if (index instanceof CompactGrantIndex) return CompactGrantIndex.held(index);
  if (index instanceof LazyGrantIndex) return LazyGrantIndex.held(index);
  return index;
}

/** Builds a compact index entry by entry: all at once, or in slices between event-loop turns. */
class CompactIndexBuilder {
  private readonly shapes: ActionShapes = new Map();
  private readonly byCode = new Map<string, Grant | Grant[]>();
  private readonly wildcards: WildcardGrant[] = [];
  private hasConditions = false;
  private strayKey: string | undefined;
  private bytes = INDEX_BYTES;

  /** Adds `entries[from, to)`, in order. */
  add(entries: readonly AuthorizedResource[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const entry = entries[i]!;
      const stray = strayConditionKey(entry);
      const grant = normalizeGrant(entry, this.shapes, stray);
      if (grant === null) continue;
      if (stray !== undefined) this.strayKey ??= stray;
      this.bytes += compactGrantBytes(grant);
      if (grant.conditions.length > 0) this.hasConditions = true;
      const wildcard = wildcardGrant(grant);
      if (wildcard !== null) {
        this.bytes += wildcardBytes(wildcard);
        this.wildcards.push(wildcard);
        continue;
      }
      const held = this.byCode.get(grant.code);
      // An array only from a code's second grant on: most codes have one.
      if (held === undefined) this.byCode.set(grant.code, grant);
      else if (Array.isArray(held)) held.push(grant);
      else this.byCode.set(grant.code, [held, grant]);
    }
  }

  finish(): CompactGrantIndex {
    const { byCode, wildcards } = this;
    let bytes = this.bytes;
    for (const shape of this.shapes.values()) bytes += shapeBytes(shape.actions);
    for (const [code, held] of byCode) {
      if (!Array.isArray(held)) continue;
      // Copied to its exact size: push() left room for up to 17 more grants.
      byCode.set(code, held.slice());
      bytes += codeListBytes(held.length);
    }
    const all: Grant[] = [];
    for (const held of byCode.values()) for (let i = 0; i < grantCount(held); i++) all.push(grantAt(held, i));
    for (const { grant } of wildcards) all.push(grant);
    const index = new CompactGrantIndex(new CompactHeld(byCode, wildcards), Object.freeze(all), this.hasConditions, bytes);
    if (this.strayKey !== undefined) strayKeys.set(index, this.strayKey);
    return index;
  }
}

/** Indexes a grant list once per fetch, so each decision is a Map lookup plus the (few) wildcard codes. */
export function indexGrants(entries: readonly AuthorizedResource[]): GrantIndex {
  return new LazyGrantIndex(entries);
}

/**
 * Indexes a grant list that a cache keeps (and users may share): every grant normalized at once into
 * the smallest form, the raw entries let go. `bytes` is its estimated heap, exact up to rounding.
 */
export function indexGrantsCompact(entries: readonly AuthorizedResource[]): GrantIndex {
  const builder = new CompactIndexBuilder();
  builder.add(entries, 0, entries.length);
  return builder.finish();
}

/** Entries indexed per event-loop turn by {@link indexGrantsCompactLater}: about a millisecond's work. */
export const INDEX_SLICE = 1_000;

/**
 * {@link indexGrantsCompact} for a long list, `slice` entries per event-loop turn, so that indexing
 * 10,000 grants (over 10 ms) does not hold up every other request as one stretch. The same index.
 */
export async function indexGrantsCompactLater(entries: readonly AuthorizedResource[], slice: number = INDEX_SLICE): Promise<GrantIndex> {
  const builder = new CompactIndexBuilder();
  for (let from = 0; from < entries.length; from += slice) {
    await nextTurn();
    builder.add(entries, from, Math.min(from + slice, entries.length));
  }
  return builder.finish();
}

/** Wildcard records of an app's own index already checked: frozen ones only (a writable one may change). */
const checkedRecords = new WeakSet<object>();

function refuse(what: string): never {
  throw new TypeError(`genauth-guard: ${what} (build the index with indexGrants(), or copy its wildcard records as they are)`);
}

/**
 * What the decision path reads of a GrantIndex a public function takes (`decide`, `explainDecision`):
 * an index indexGrants() made passes at once (see {@link heldGrants}). One of the app's own must have
 * `exact()` and a `wildcards` array whose records each hold a grant and exactly the `prefix` and
 * `pattern` its code and effect read as (see `codeWildcard`): a record without `pattern` (an index
 * written before the field) would have a DENY read as a bare prefix, and a prefix of its own may be
 * narrower than the DENY's code, so that an ALLOW beside it decides. Such an index is refused rather
 * than read.
 * @throws TypeError naming the record.
 */
export function checkedHeldGrants(index: GrantIndex): HeldGrants {
  if (index instanceof CompactGrantIndex) return CompactGrantIndex.held(index);
  if (index instanceof LazyGrantIndex) return LazyGrantIndex.held(index);
  checkOwnIndex(index);
  return index;
}

/** The checks of {@link checkedHeldGrants} on an app's own index. */
function checkOwnIndex(index: GrantIndex): void {
  if (typeof index !== 'object' || index === null || typeof index.exact !== 'function') refuse('a GrantIndex must have exact()');
  const { wildcards } = index;
  if (!Array.isArray(wildcards)) refuse('a GrantIndex\'s wildcards must be an array');
  for (let i = 0; i < wildcards.length; i++) {
    const record: unknown = wildcards[i];
    if (typeof record === 'object' && record !== null && checkedRecords.has(record)) continue;
    const where = `a GrantIndex's wildcards[${i}]`;
    if (typeof record !== 'object' || record === null) refuse(`${where} must be an object`);
    const { grant, prefix, pattern } = record as Partial<WildcardGrant>;
    if (typeof grant !== 'object' || grant === null || typeof grant.code !== 'string' || (grant.effect !== 'ALLOW' && grant.effect !== 'DENY')) refuse(`${where}.grant must be a Grant`);
    if (!('pattern' in record)) refuse(`${where} has no pattern: its code would be read as a bare prefix`);
    const expected = codeWildcard(grant.code, grant.effect === 'DENY');
    if (expected === null) refuse(`${where}.grant's code has no wildcard: it belongs to exact()`);
    if (prefix !== expected.prefix || pattern !== expected.pattern) refuse(`${where}'s prefix and pattern are not those its grant's code reads as`);
    if (Object.isFrozen(record) && Object.isFrozen(grant)) checkedRecords.add(record);
  }
}
