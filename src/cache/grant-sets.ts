/**
 * Grant sets interned by content: thousands of users often receive byte-identical lists from GenAuth,
 * and the cache should hold (and charge) each distinct list once. A set is found by a hash of its
 * list's JSON text and then compared with that text in full, so a hash collision can never hand one
 * user another's grants; it stays in the table while some cached user holds it (a count moved by the
 * cache). The text is all a set keeps of the list (the raw entries go once the index is built), and it
 * keeps it raw-deflated: a fifth to a twentieth of the text's bytes, by how repetitive the list is.
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';

/**
 * zlib's default level. On a hash hit (the common load: a user whose list is already shared) the held
 * text is inflated and compared, so inflation is the cost that recurs: level 6's output inflates as
 * fast as level 1's or faster (17 against 26 µs for a 20 KB list) and is up to a tenth smaller.
 * Deflating costs 10 to 60 µs more than at level 1, once per distinct list held.
 */
const LEVEL = 6;

/**
 * Texts at least this long (in UTF-16 units) are deflated and inflated on libuv's thread pool: a
 * 10,000-grant list (1.7 MB of JSON) takes about 13 ms to deflate and 5 ms to inflate, long enough to
 * hold up every other request of the process. Shorter ones stay synchronous: a 100-grant list (20 KB)
 * packs in well under a millisecond, less than a trip through the pool costs.
 */
export const LARGE_TEXT = 64 * 1024;

const deflateLater = promisify(deflateRaw);
const inflateLater = promisify(inflateRaw);

/** One distinct grant list and what was built from it (the index), shared by the users holding it. */
export interface GrantSet<L, B> {
  /**
   * The list's JSON text, UTF-8 encoded and raw-deflated, one byte per character (latin1): what a later
   * list is compared with ({@link textOf} inflates it). A string rather than a Buffer: on the heap,
   * immutable, in an allocation of its own (a small zlib Buffer may be a slice of a shared slab).
   */
  readonly packed: string;
  /** The text's length in UTF-16 units: a list of another length is told apart without inflating. */
  readonly length: number;
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
  /**
   * `build` for a list whose text is {@link LARGE_TEXT} or longer, in slices between event-loop turns.
   * @default `build` in a turn of its own
   */
  buildLater?: (list: L) => Promise<B>;
  /** Estimated bytes of a set's built form and of its packed text (a latin1 string). */
  sizeOf: (built: B, packed: string) => number;
  /**
   * The hash a list's JSON text is found by.
   * @default sha256
   */
  hash?: (text: string) => string;
}

/** The interning table: `intern` on a load, `retain`/`release` when the cache stores or drops a user. */
export interface GrantSetTable<L, B> {
  /**
   * The set equal to `list` that some cached user holds, else a new one (not yet in the table). A
   * promise when the list's text is {@link LARGE_TEXT} or longer: its text is packed or compared off the
   * event loop.
   */
  intern(list: L): GrantSet<L, B> | Promise<GrantSet<L, B>>;
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

/**
 * A JSON text packed for keeping. UTF-8 is exact here: JSON.stringify escapes lone surrogates (ES2019),
 * so its output always round-trips, and two different texts never pack alike.
 */
export function packText(text: string): string {
  return deflateRawSync(text, { level: LEVEL }).toString('latin1');
}

/** A set's JSON text, inflated from what it keeps (a fresh string each call: for rare readers). */
export function textOf(set: Pick<GrantSet<unknown, unknown>, 'packed'>): string {
  if (set.packed === '') return '';
  return inflateRawSync(Buffer.from(set.packed, 'latin1')).toString('utf8');
}

/** {@link packText} on libuv's thread pool. */
async function packTextLater(text: string): Promise<string> {
  return (await deflateLater(text, { level: LEVEL })).toString('latin1');
}

/** {@link textOf} on libuv's thread pool. */
async function textOfLater(set: Pick<GrantSet<unknown, unknown>, 'packed'>): Promise<string> {
  return (await inflateLater(Buffer.from(set.packed, 'latin1'))).toString('utf8');
}

/** Creates an empty interning table. */
export function createGrantSetTable<L, B>(options: GrantSetTableOptions<L, B>): GrantSetTable<L, B> {
  const sets = new Map<string, GrantSet<L, B>>();
  const hash = options.hash ?? sha256;
  let bytes = 0;
  let held = 0;

  function created(text: string, key: string, built: B, packed: string): GrantSet<L, B> {
    return { packed, length: text.length, built, hash: key, users: 0, bytes: options.sizeOf(built, packed) };
  }

  /** `options.buildLater`, or `build` in a turn of its own. */
  async function buildLater(list: L): Promise<B> {
    if (options.buildLater !== undefined) return options.buildLater(list);
    await nextTurn();
    return options.build(list);
  }

  /**
   * A large text: compared and packed off the event loop, and its index built in turns of their own
   * while the pool deflates (not in the same stretch as the caller's parse and this hash). `held` may
   * leave the table meanwhile; retain puts it back.
   */
  async function internLarge(list: L, text: string, key: string, held: GrantSet<L, B> | undefined): Promise<GrantSet<L, B>> {
    if (held !== undefined && held.length === text.length && (await textOfLater(held)) === text) return held;
    const packing = packTextLater(text);
    // Awaited below; handled now so that a failure while the index is built is not an unhandled rejection.
    packing.catch(() => undefined);
    const built = await buildLater(list);
    return created(text, key, built, await packing);
  }

  return {
    intern(list) {
      const text = JSON.stringify(list) ?? '';
      const key = hash(text);
      const held = sets.get(key);
      if (text.length >= LARGE_TEXT) return internLarge(list, text, key, held);
      // Equal hashes are not enough: the texts must be equal, or the user gets a set of their own.
      // Inflating the held text (rather than deflating this one to compare bytes) is the cheaper check,
      // and it needs no promise that deflate is deterministic: inflate is a function of its input.
      if (held !== undefined && held.length === text.length && textOf(held) === text) return held;
      return created(text, key, options.build(list), text === '' ? '' : packText(text));
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
