/**
 * A segment trie of API path patterns: literal segments by Map, one parameter child (`:id`, `{id}`),
 * and the entries that end at a node exactly or cover everything below it (`/a/*`). A lookup visits
 * each trie node at most once, whatever the number of patterns, and compiles nothing per request.
 */

/** One compiled pattern segment: a literal (canonical, already case-folded if needed) or a parameter. */
export type PatternSegment = { readonly literal: string } | { readonly param: true };

/** A compiled pattern. */
export interface CompiledPattern {
  readonly segments: readonly PatternSegment[];
  /** Ends with `/*`: matches the prefix itself and everything below it. */
  readonly wildcard: boolean;
  /** Ends with `/` (only matters when matching strictly). */
  readonly trailingSlash: boolean;
}

interface Stored<T> {
  readonly value: T;
  readonly trailingSlash: boolean;
}

interface Node<T> {
  literal: Map<string, Node<T>> | undefined;
  param: Node<T> | undefined;
  /** Patterns that end here exactly. */
  exact: Stored<T>[] | undefined;
  /** Patterns ending here with `/*`. */
  below: T[] | undefined;
}

function node<T>(): Node<T> {
  return { literal: undefined, param: undefined, exact: undefined, below: undefined };
}

// Heap bytes, measured on V8 (Node 20-24) and rounded up: a cache that keeps a user's compiled tries
// beside their grants charges them (see api-compile.ts).
/** Per pattern: its record, its slot in its node's list, and the value it carries (a small object). */
const PATTERN_BYTES = 280;
/** Per node: the object, its key string and its slot in the parent's Map. */
const NODE_BYTES = 150;
/** Per Map of literal children. */
const MAP_BYTES = 150;

/** A trie of patterns carrying values of type `T`. */
export class PatternTrie<T> {
  readonly #root: Node<T> = node();
  #size = 0;
  #nodes = 0;
  #maps = 0;
  #keyChars = 0;

  /** Number of patterns inserted. */
  get size(): number {
    return this.#size;
  }

  /** Estimated heap bytes of the trie (its patterns, nodes, Maps and keys), for a cache's byte budget. */
  get bytes(): number {
    return this.#size * PATTERN_BYTES + this.#nodes * NODE_BYTES + this.#maps * MAP_BYTES + this.#keyChars;
  }

  /** Adds a pattern. */
  insert(pattern: CompiledPattern, value: T): void {
    let at = this.#root;
    for (const segment of pattern.segments) {
      if ('param' in segment) {
        if (at.param === undefined) {
          at.param = node();
          this.#nodes++;
        }
        at = at.param;
      } else {
        if (at.literal === undefined) {
          at.literal = new Map();
          this.#maps++;
        }
        let next = at.literal.get(segment.literal);
        if (next === undefined) {
          next = node();
          at.literal.set(segment.literal, next);
          this.#nodes++;
          this.#keyChars += segment.literal.length; // canonical: percent-encoded ASCII, a byte per char
        }
        at = next;
      }
    }
    if (pattern.wildcard) (at.below ??= []).push(value);
    else (at.exact ??= []).push({ value, trailingSlash: pattern.trailingSlash });
    this.#size++;
  }

  /**
   * Calls `found` for every pattern matching the path. `strict`: an exact pattern must agree on the
   * trailing slash; otherwise `/a` and `/a/` are the same path.
   */
  collect(segments: readonly string[], trailingSlash: boolean, strict: boolean, found: (value: T) => void): void {
    if (this.#size === 0) return;
    walk(this.#root, segments, 0, trailingSlash, strict, found);
  }
}

function walk<T>(at: Node<T>, segments: readonly string[], depth: number, trailingSlash: boolean, strict: boolean, found: (value: T) => void): void {
  if (at.below !== undefined) for (const value of at.below) found(value);
  if (depth === segments.length) {
    if (at.exact !== undefined) {
      for (const stored of at.exact) if (!strict || stored.trailingSlash === trailingSlash) found(stored.value);
    }
    return;
  }
  const segment = segments[depth] as string;
  const next = at.literal?.get(segment);
  if (next !== undefined) walk(next, segments, depth + 1, trailingSlash, strict, found);
  if (at.param !== undefined) walk(at.param, segments, depth + 1, trailingSlash, strict, found);
}
