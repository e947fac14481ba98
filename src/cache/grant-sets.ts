/**
 * Grant sets interned by content: thousands of users often receive byte-identical lists from GenAuth,
 * and the cache should hold (and charge) each distinct list once. A set is found by a hash of its
 * list's JSON text and then compared with that text in full, so a hash collision can never hand one
 * user another's grants; it stays in the table while some cached user holds it (a count moved by the
 * cache). The text is all a set keeps of the list: the raw entries go once the index is built.
 */
import { createHash } from 'node:crypto';

/** One distinct grant list and what was built from it (the index), shared by the users holding it. */
export interface GrantSet<L, B> {
  /** The list's JSON text: what a later list is compared with (its raw entries are not kept). */
  readonly text: string;
  /** What was built from the list, once for every user holding it. */
  readonly built: B;
  /** The hash the table knows it by. */
  readonly hash: string;
  /** Cached users holding it now. */
  users: number;
  /** Estimated bytes charged for it (list, built form, and whatever grew on it since). */
  bytes: number;
}

/** Options of a {@link GrantSetTable}. */
export interface GrantSetTableOptions<L, B> {
  /** Builds the shared form of a list (called once per distinct list held). */
  build: (list: L) => B;
  /** Estimated bytes of a set's built form and of its text. */
  sizeOf: (built: B, text: string) => number;
  /**
   * The hash a list's JSON text is found by.
   * @default sha256
   */
  hash?: (text: string) => string;
}

/** The interning table: `intern` on a load, `retain`/`release` when the cache stores or drops a user. */
export interface GrantSetTable<L, B> {
  /** The set equal to `list` that some cached user holds, else a new one (not yet in the table). */
  intern(list: L): GrantSet<L, B>;
  /** A cached user now holds `set`: the first holder enters it in the table and charges its bytes. */
  retain(set: GrantSet<L, B>): void;
  /** A cached user let go of `set`: the last one removes it and its bytes. */
  release(set: GrantSet<L, B>): void;
  /** A held set grew by `delta` bytes (API mode compiled it). */
  grew(set: GrantSet<L, B>, delta: number): void;
  /** Distinct sets held by cached users. */
  readonly size: number;
  /** Bytes charged for them, each once. */
  readonly bytes: number;
}

/** The hash a list's JSON text is found by: sha256. */
function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Creates an empty interning table. */
export function createGrantSetTable<L, B>(options: GrantSetTableOptions<L, B>): GrantSetTable<L, B> {
  const sets = new Map<string, GrantSet<L, B>>();
  const hash = options.hash ?? sha256;
  let bytes = 0;
  let held = 0;

  return {
    intern(list) {
      const text = JSON.stringify(list) ?? '';
      const key = hash(text);
      const held = sets.get(key);
      // Equal hashes are not enough: the texts must be equal, or the user gets a set of their own.
      if (held !== undefined && held.text === text) return held;
      const built = options.build(list);
      return { text, built, hash: key, users: 0, bytes: options.sizeOf(built, text) };
    },
    retain(set) {
      if (set.users++ > 0) return;
      held++;
      bytes += set.bytes;
      // A set built while an equal one was loading (or on a collision) is held but not found: never a swap.
      if (!sets.has(set.hash)) sets.set(set.hash, set);
    },
    release(set) {
      if (set.users <= 0) return;
      if (--set.users > 0) return;
      held--;
      bytes -= set.bytes;
      if (sets.get(set.hash) === set) sets.delete(set.hash);
    },
    grew(set, delta) {
      set.bytes += delta;
      if (set.users > 0) bytes += delta;
    },
    get size() {
      return held;
    },
    get bytes() {
      return bytes;
    },
  };
}
