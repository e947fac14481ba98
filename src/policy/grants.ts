import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AuthorizedResource } from '../wire.js';
import { foldCase } from './actions.js';
import { codeWildcard, isWildcardCode, type CodeWildcard } from './code-wildcards.js';
import { withReadings } from './entry-readings.js';
import { codeListBytes, compactGrantBytes, entryBytes, foldedDenyBytes, INDEX_BYTES, shapeBytes, wildcardBytes } from './grant-bytes.js';
import { normalizeGrant, readConditions, readEffect, strayConditionKey, usableCode, type ActionShapes, type Grant } from './normalize-grant.js';
import { speltTwiceField, type SpeltField } from './spelt-twice.js';

/**
 * A user's grants indexed once per fetch: raw entries grouped by resource code in one pass, each
 * code's grants normalized on its first lookup and kept, plus the (few) wildcard codes normalized up
 * front. A decision is a Map lookup; a fetch costs one pass, not a normalization of every grant.
 * An index {@link indexGrants} makes is read-only all the way down: the index, its lists (`grants`,
 * `wildcards`, what `lookup` and `exact` return), the wildcard records and the grants themselves are
 * frozen, and a grant's `actionSet` is a `Set` whose own `add`, `delete` and `clear` throw: writing to
 * any of them throws a `TypeError`, since later decisions (and, for a cached set, other users') read
 * them. Only code that calls `Set.prototype.add.call(actionSet, ...)` on purpose gets round that, and
 * must not.
 */
export interface GrantIndex {
  /** Every usable grant, normalized (on first read). */
  readonly grants: readonly Grant[];
  /**
   * Grants whose code is exactly `code`, then the DENYs whose exact code is `code` in another case
   * (`Books` for `books`: a DENY's code matches in any case), as an array; `undefined` when no grant
   * has exactly this code. An index that keeps a code's only grant alone wraps it in a new array per
   * call: the decision path reads {@link GrantIndex.exact} instead.
   */
  lookup(code: string): readonly Grant[] | undefined;
  /**
   * The same grants as {@link GrantIndex.lookup}, as the index keeps them: a code's only grant may come
   * alone, several come as an array, in order (`Array.isArray` tells them apart). What `decide()`
   * reads: no array is made per call, and no code is folded (an index of ours adds the DENYs in another
   * case once: the compact one when it is built, the one {@link indexGrants} returns on the code's
   * first lookup). For an index of the app's own, `decide()` adds those DENYs itself, found by the DENY
   * codes in its `grants`.
   */
  exact(code: string): CodeGrants | undefined;
  /**
   * Grants with a wildcard code (`*`, an ALLOW's `prefix:*`, a DENY's code with any `*`), with how they
   * cover codes: the prefix every covered code starts with (`''` for `*`) and, for a DENY, the pattern
   * its `*` segments are matched by (see `codeWildcard`). A DENY's prefix and pattern are case-folded
   * (see `foldCase`), and so is the code they are matched against: a DENY's code matches in any case.
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

/**
 * How a grant's code covers codes as an index records it (see `codeWildcard`), or null when it covers
 * exactly itself. A DENY's code is matched in any case: its prefix and pattern are folded (see
 * `foldCase`), and so is the asked code.
 */
function recordedWildcard(code: string, deny: boolean): CodeWildcard | null {
  return codeWildcard(deny ? foldCase(code) : code, deny);
}

/** The wildcard record of a normalized grant, or null when its code covers exactly itself. */
function wildcardGrant(grant: Grant): WildcardGrant | null {
  const wildcard = recordedWildcard(grant.code, grant.effect === 'DENY');
  // One shape for every record: the decision path reads them in a loop. Frozen: see GrantIndex.
  return wildcard === null ? null : Object.freeze({ prefix: wildcard.prefix, pattern: wildcard.pattern, grant });
}

/** Adds a DENY's exact code to the codes by fold (once per code); returns the bytes it added. */
function addDenyCode(byFold: Map<string, string[]>, code: string): number {
  const folded = foldCase(code);
  const codes = byFold.get(folded);
  if (codes === undefined) {
    byFold.set(folded, [code]);
    return foldedDenyBytes(folded, code);
  }
  if (codes.includes(code)) return 0;
  codes.push(code);
  return 8;
}

/** The codes (exact DENY codes) whose fold is that of `code`, or undefined when none is another than `code`. */
function otherSpellings(byFold: ReadonlyMap<string, readonly string[]> | undefined, code: string): readonly string[] | undefined {
  if (byFold === undefined) return undefined;
  const codes = byFold.get(foldCase(code));
  return codes === undefined || (codes.length === 1 && codes[0] === code) ? undefined : codes;
}

/**
 * Adds to `into` the DENY grants among `held` whose code is exactly `code` (not ones added for another
 * spelling), skipping any `into` holds already.
 */
function ownDenials(held: CodeGrants | undefined, code: string, into: Grant[]): void {
  for (let i = 0; i < grantCount(held); i++) {
    const grant = grantAt(held!, i);
    if (grant.effect === 'DENY' && grant.code === code && !into.includes(grant)) into.push(grant);
  }
}

/** Adds to `into` the DENYs of each of `others` (the spellings of `code`'s fold) but `code` itself, read by `grantsOf`. */
function otherSpellingDenials(others: readonly string[], code: string, grantsOf: (code: string) => CodeGrants | undefined, into: Grant[]): void {
  for (const other of others) if (other !== code) ownDenials(grantsOf(other), other, into);
}

/**
 * The DENYs whose exact code is `code` in another case, for a code with no grants of its own (for one
 * with grants, {@link HeldGrants.exact} holds them already); undefined when there are none. Off the
 * path of an allowed request: nothing grants such a code but a wildcard.
 */
export function otherCaseDenials(index: HeldGrants, code: string): Grant[] | undefined {
  const others = otherSpellings(index.denyCodesByFold, code);
  if (others === undefined) return undefined;
  const found: Grant[] = [];
  otherSpellingDenials(others, code, (other) => index.exact(other), found);
  return found.length === 0 ? undefined : found;
}

/** True when the entry's grant is a wildcard grant (kept out of the exact codes). */
function isWildcardEntry(entry: AuthorizedResource, code: string): boolean {
  return isWildcardCode(code, readEffect(entry.effect) === 'DENY');
}

/** The first key an index's entries carried conditions under other than `condition`, kept for the few that had one. */
const strayKeys = new WeakMap<GrantIndex, string>();
/** The first field an index's upstream entries spelt twice, dropping an ALLOW (see spelt-twice.ts), kept for the few that did. */
const speltFields = new WeakMap<GrantIndex, SpeltField>();

/**
 * The first documented field an upstream entry of the index spelt twice, in two cases, so that an
 * ALLOW of it was dropped (only its DENY readings count: entry-readings.ts), or undefined. Found while
 * the index was built, so for the operator warning, once per grant set.
 */
export function speltTwiceFieldOf(index: GrantIndex): SpeltField | undefined {
  return speltFields.get(index);
}

/**
 * The first key, other than `condition`, under which an entry of the index carried conditions (see
 * `strayConditionKey`: such a grant is read fail-closed), or undefined. Found while the index was
 * built, so for the operator warning, once per grant set.
 */
export function strayConditionKeyOf(index: GrantIndex): string | undefined {
  return strayKeys.get(index);
}

/**
 * What the decision path reads of an index: `exact()` and `wildcards`, as the index holds them, and
 * its DENY codes by fold. An index of ours keeps them apart from what it hands out (see
 * {@link heldGrants}): its public lists are frozen, and V8 (Node 20) indexes a frozen array several
 * times slower than a plain one, so the decision path reads the plain ones, which no app can reach.
 * An index of an app's own is read through {@link OwnIndexHeld}.
 */
export interface HeldGrants {
  /** The grants of {@link GrantIndex.exact}: a code's own, then the DENYs of it in another case. */
  exact(code: string): CodeGrants | undefined;
  readonly wildcards: ReadonlyArray<WildcardGrant>;
  /**
   * The codes of DENY grants with an exact (not wildcard) code, by their case fold (`foldCase`), or
   * `undefined` when the index holds no such DENY. A DENY covers its code in any case: {@link exact}
   * already adds the DENYs of a code in another case to that code's own grants, and for a code with no
   * grants of its own (which nothing but a wildcard grants) a decision looks here.
   */
  readonly denyCodesByFold: ReadonlyMap<string, readonly string[]> | undefined;
}

const NO_WILDCARDS: ReadonlyArray<WildcardGrant> = Object.freeze([]);

/** A frozen copy of `list` (the shared frozen empty list for none): what an index hands out. */
const handedOut = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? (NO_WILDCARDS as readonly T[]) : Object.freeze(list.slice()));

/** The state of a lazy index, read by the decision path (see {@link HeldGrants}); never handed out. */
class LazyHeld implements HeldGrants {
  readonly wildcards: WildcardGrant[] = [];
  readonly hasConditions: boolean;
  readonly denyCodesByFold: ReadonlyMap<string, readonly string[]> | undefined;
  /** Entries by exact code, built on the second lookup: see `entriesOf`. */
  private raw: Map<string, AuthorizedResource[]> | undefined;
  private scanned = false;
  /** Each code's own grants, normalized. */
  private readonly owned = new Map<string, Grant[]>();
  /** Each code's own grants, then the DENYs of it in another case: what exact() answers. */
  private readonly normalized = new Map<string, Grant[]>();
  private estimate: number | undefined;
  /** The first key other than `condition` an entry carried conditions under (see {@link strayConditionKeyOf}). */
  readonly strayKey: string | undefined;
  /** The first field spelt twice in an entry whose ALLOW was dropped (see {@link speltTwiceFieldOf}). */
  readonly speltField: SpeltField | undefined;

  constructor(readonly entries: readonly AuthorizedResource[]) {
    let hasConditions = false;
    let strayKey: string | undefined;
    let speltField: SpeltField | undefined;
    let denyCodes: Map<string, string[]> | undefined;
    for (const entry of entries) {
      speltField ??= speltTwiceField(entry);
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
      } else if (readEffect(entry.effect) === 'DENY') {
        addDenyCode((denyCodes ??= new Map()), code);
      }
    }
    this.hasConditions = hasConditions;
    this.strayKey = strayKey;
    this.speltField = speltField;
    this.denyCodesByFold = denyCodes;
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
      const own = this.own(code);
      if (own === undefined) return undefined;
      const others = otherSpellings(this.denyCodesByFold, code);
      if (others === undefined) {
        grants = own;
      } else {
        grants = [...own];
        otherSpellingDenials(others, code, (other) => this.own(other), grants);
      }
      this.normalized.set(code, grants);
    }
    return grants;
  }

  /** The grants whose code is exactly `code` (none added for another spelling), normalized on first read. */
  own(code: string): Grant[] | undefined {
    let grants = this.owned.get(code);
    if (grants === undefined) {
      const entries = this.entriesOf(code);
      if (entries === undefined) return undefined;
      grants = entries.map((entry) => normalizeGrant(entry)).filter((g): g is Grant => g !== null);
      this.owned.set(code, grants);
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
    if (this.#held.speltField !== undefined) speltFields.set(this, this.#held.speltField);
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
      // Each grant once: a code's own, not the DENYs of another spelling exact() adds.
      for (const code of this.#held.codes().keys()) all.push(...(this.#held.own(code) ?? []));
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
    readonly denyCodesByFold: ReadonlyMap<string, readonly string[]> | undefined,
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
 * What the decision path reads of an app's own index: its `exact()` and `wildcards`, plus the DENYs of
 * a code in another case, which its `exact()` need not add: found by the DENY codes in its `grants`
 * (one pass over them per decision; the guard's own path never reads such an index).
 */
class OwnIndexHeld implements HeldGrants {
  readonly wildcards: ReadonlyArray<WildcardGrant>;
  readonly denyCodesByFold: ReadonlyMap<string, readonly string[]> | undefined;

  constructor(private readonly index: GrantIndex) {
    this.wildcards = index.wildcards;
    let denyCodes: Map<string, string[]> | undefined;
    for (const grant of index.grants) if (grant.effect === 'DENY' && !isWildcardCode(grant.code, true)) addDenyCode((denyCodes ??= new Map()), grant.code);
    this.denyCodesByFold = denyCodes;
  }

  exact(code: string): CodeGrants | undefined {
    const own = this.index.exact(code);
    const others = own === undefined ? undefined : otherSpellings(this.denyCodesByFold, code);
    if (others === undefined) return own;
    const list = [...grantList(own)];
    otherSpellingDenials(others, code, (other) => this.index.exact(other), list);
    return list;
  }
}

/**
 * What the decision path reads of `index`: for an index of ours, its plain lists (kept from the app:
 * only this module reaches them); for an app's own index, the index read through {@link OwnIndexHeld}.
 */
export function heldGrants(index: GrantIndex): HeldGrants {
  return ourHeld(index) ?? new OwnIndexHeld(index);
}

/** What the decision path reads of an index {@link indexGrants} (or the cache) made; undefined for an app's own. */
function ourHeld(index: GrantIndex): HeldGrants | undefined {
  if (index instanceof CompactGrantIndex) return CompactGrantIndex.held(index);
  if (index instanceof LazyGrantIndex) return LazyGrantIndex.held(index);
  return undefined;
}

/** Builds a compact index entry by entry: all at once, or in slices between event-loop turns. */
class CompactIndexBuilder {
  private readonly shapes: ActionShapes = new Map();
  private readonly byCode = new Map<string, Grant | Grant[]>();
  private readonly wildcards: WildcardGrant[] = [];
  private denyCodes: Map<string, string[]> | undefined;
  private hasConditions = false;
  private strayKey: string | undefined;
  private speltField: SpeltField | undefined;
  private bytes = INDEX_BYTES;

  /** Adds `entries[from, to)`, in order. */
  add(entries: readonly AuthorizedResource[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const entry = entries[i]!;
      const stray = strayConditionKey(entry);
      const spelt = speltTwiceField(entry);
      this.speltField ??= spelt;
      const grant = normalizeGrant(entry, this.shapes, stray, spelt);
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
      if (grant.effect === 'DENY') this.bytes += addDenyCode((this.denyCodes ??= new Map()), grant.code);
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
    bytes += this.addOtherCaseDenials();
    const index = new CompactGrantIndex(new CompactHeld(byCode, wildcards, this.denyCodes), Object.freeze(all), this.hasConditions, bytes);
    if (this.strayKey !== undefined) strayKeys.set(index, this.strayKey);
    if (this.speltField !== undefined) speltFields.set(index, this.speltField);
    return index;
  }

  /**
   * Adds to each code's grants the DENYs of the same code in another case (`Books` to `books`), once,
   * so that a decision finds them by its exact lookup and folds nothing. Returns the bytes it added.
   */
  private addOtherCaseDenials(): number {
    const { byCode, denyCodes } = this;
    if (denyCodes === undefined) return 0;
    const merged: Array<[string, Grant[]]> = [];
    for (const [code, held] of byCode) {
      const others = otherSpellings(denyCodes, code);
      if (others === undefined) continue;
      const list = [...grantList(held)];
      const before = list.length;
      otherSpellingDenials(others, code, (other) => byCode.get(other), list);
      if (list.length > before) merged.push([code, list]);
    }
    let bytes = 0;
    for (const [code, list] of merged) {
      const held = byCode.get(code);
      if (Array.isArray(held)) bytes -= codeListBytes(held.length);
      byCode.set(code, list);
      bytes += codeListBytes(list.length);
    }
    return bytes;
  }
}

/** Indexes a grant list once per fetch, so each decision is a Map lookup plus the (few) wildcard codes. */
export function indexGrants(entries: readonly AuthorizedResource[]): GrantIndex {
  return new LazyGrantIndex(withReadings(entries));
}

/**
 * Indexes a grant list that a cache keeps (and users may share): every grant normalized at once into
 * the smallest form, the raw entries let go. `bytes` is its estimated heap, exact up to rounding.
 */
export function indexGrantsCompact(entries: readonly AuthorizedResource[]): GrantIndex {
  const builder = new CompactIndexBuilder();
  const read = withReadings(entries);
  builder.add(read, 0, read.length);
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
  // One pass (no copy unless a DENY's code has other readings): far less work than a slice's indexing.
  const read = withReadings(entries);
  for (let from = 0; from < read.length; from += slice) {
    await nextTurn();
    builder.add(read, from, Math.min(from + slice, read.length));
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
 * `exact()`, a `grants` array of grants (its DENY codes are read from it: see {@link OwnIndexHeld}) and
 * a `wildcards` array whose records each hold a grant and exactly the `prefix` and `pattern` its code
 * and effect read as (see `codeWildcard`; a DENY's folded, see `recordedWildcard`): a record without
 * `pattern` (an index written before the field) would have a DENY read as a bare prefix, and a prefix
 * of its own may be narrower than the DENY's code (or, not folded, miss its code in another case), so
 * that an ALLOW beside it decides. Such an index is refused rather than read.
 * @throws TypeError naming the record or grant.
 */
export function checkedHeldGrants(index: GrantIndex): HeldGrants {
  const ours = ourHeld(index);
  if (ours !== undefined) return ours;
  checkOwnIndex(index);
  return new OwnIndexHeld(index);
}

/** The checks of {@link checkedHeldGrants} on an app's own index. */
function checkOwnIndex(index: GrantIndex): void {
  if (typeof index !== 'object' || index === null || typeof index.exact !== 'function') refuse('a GrantIndex must have exact()');
  const { wildcards } = index;
  if (!Array.isArray(wildcards)) refuse('a GrantIndex\'s wildcards must be an array');
  const { grants } = index;
  if (!Array.isArray(grants)) refuse('a GrantIndex\'s grants must be an array');
  for (let i = 0; i < grants.length; i++) {
    const grant: unknown = grants[i];
    if (typeof grant !== 'object' || grant === null || typeof (grant as Grant).code !== 'string') refuse(`a GrantIndex's grants[${i}] must be a Grant`);
  }
  for (let i = 0; i < wildcards.length; i++) {
    const record: unknown = wildcards[i];
    if (typeof record === 'object' && record !== null && checkedRecords.has(record)) continue;
    const where = `a GrantIndex's wildcards[${i}]`;
    if (typeof record !== 'object' || record === null) refuse(`${where} must be an object`);
    const { grant, prefix, pattern } = record as Partial<WildcardGrant>;
    if (typeof grant !== 'object' || grant === null || typeof grant.code !== 'string' || (grant.effect !== 'ALLOW' && grant.effect !== 'DENY')) refuse(`${where}.grant must be a Grant`);
    if (!('pattern' in record)) refuse(`${where} has no pattern: its code would be read as a bare prefix`);
    const expected = recordedWildcard(grant.code, grant.effect === 'DENY');
    if (expected === null) refuse(`${where}.grant's code has no wildcard: it belongs to exact()`);
    if (prefix !== expected.prefix || pattern !== expected.pattern) refuse(`${where}'s prefix and pattern are not those its grant's code reads as`);
    if (Object.isFrozen(record) && Object.isFrozen(grant)) checkedRecords.add(record);
  }
}
