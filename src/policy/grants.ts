import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AuthorizedResource } from '../wire.js';
import { codeWildcard, isWildcardCode, type CodeWildcard } from './code-wildcards.js';
import { codeListBytes, compactGrantBytes, entryBytes, INDEX_BYTES, shapeBytes, wildcardBytes } from './grant-bytes.js';
import { normalizeGrant, readConditions, readEffect, usableCode, type ActionShapes, type Grant } from './normalize-grant.js';

/**
 * A user's grants indexed once per fetch: raw entries grouped by resource code in one pass, each
 * code's grants normalized on its first lookup and kept, plus the (few) wildcard codes normalized up
 * front. A decision is a Map lookup; a fetch costs one pass, not a normalization of every grant.
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
  // One shape for every record: the decision path reads them in a loop.
  return wildcard === null ? null : { prefix: wildcard.prefix, pattern: wildcard.pattern, grant };
}

/** True when the entry's grant is a wildcard grant (kept out of the exact codes). */
function isWildcardEntry(entry: AuthorizedResource, code: string): boolean {
  return isWildcardCode(code, readEffect(entry.effect) === 'DENY');
}

class LazyGrantIndex implements GrantIndex {
  readonly wildcards: WildcardGrant[] = [];
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
      if (isWildcardEntry(entry, code)) {
        const grant = normalizeGrant(entry);
        const wildcard = grant === null ? null : wildcardGrant(grant);
        if (wildcard !== null) this.wildcards.push(wildcard);
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
      grants = entries.map((entry) => normalizeGrant(entry)).filter((g): g is Grant => g !== null);
      this.normalized.set(code, grants);
    }
    return grants;
  }

  exact(code: string): readonly Grant[] | undefined {
    return this.lookup(code);
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

  private codes(): Map<string, AuthorizedResource[]> {
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

/**
 * A grant list normalized up front into its smallest form, for a cache that keeps it: no raw entry is
 * kept (their descriptions and unused fields go), grants naming the same actions share one action
 * set, and a code's grants are one Map value: its only grant alone, several in an array. Same grants,
 * same order as {@link LazyGrantIndex}. Made by a {@link CompactIndexBuilder}.
 */
class CompactGrantIndex implements GrantIndex {
  constructor(
    private readonly byCode: ReadonlyMap<string, CodeGrants>,
    readonly wildcards: ReadonlyArray<WildcardGrant>,
    readonly grants: readonly Grant[],
    readonly hasConditions: boolean,
    readonly bytes: number,
  ) {}

  lookup(code: string): readonly Grant[] | undefined {
    const held = this.byCode.get(code);
    return held === undefined ? undefined : grantList(held);
  }

  exact(code: string): CodeGrants | undefined {
    return this.byCode.get(code);
  }
}

/** Builds a compact index entry by entry: all at once, or in slices between event-loop turns. */
class CompactIndexBuilder {
  private readonly shapes: ActionShapes = new Map();
  private readonly byCode = new Map<string, Grant | Grant[]>();
  private readonly wildcards: WildcardGrant[] = [];
  private hasConditions = false;
  private bytes = INDEX_BYTES;

  /** Adds `entries[from, to)`, in order. */
  add(entries: readonly AuthorizedResource[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const grant = normalizeGrant(entries[i]!, this.shapes);
      if (grant === null) continue;
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
    return new CompactGrantIndex(byCode, wildcards, all, this.hasConditions, bytes);
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
