/**
 * A shared entry: what GenAuth returned for one user, when, and under which global mark. What comes
 * back from Redis is read as policy input, like a GenAuth body: bounded in bytes, its seal checked
 * (seal.ts), parsed as JSON, its envelope checked (format, scope, user, fetch time, mark) before its
 * list goes to the same list reading and indexing as GenAuth's. Anything else is ignored and said why.
 */
import { seal, unseal } from './seal.js';

/** The format word of our entries: anything written under our key without it is foreign. */
export const ENTRY_FORMAT = 'genauth-guard/grants@1';

/** A decoded entry. `list` is unread: the core reads it as it reads a GenAuth list. */
export interface SharedEntry {
  /** Wall-clock ms at which the GenAuth call that returned the list began. */
  readonly fetchedAt: number;
  /** The global mark the load began under. */
  readonly globalMark: string;
  readonly list: unknown;
}

/** Why a value read from Redis was not used. */
export type IgnoredReason = 'oversized' | 'unauthenticated' | 'foreign' | 'corrupt' | 'list';

/** Where an entry belongs: the scope and user tokens of its key. */
export interface EntryOwner {
  readonly scope: string;
  readonly user: string;
}

/** The value stored for an entry: its JSON, sealed with `key`. */
export function encodeEntry(owner: EntryOwner, entry: SharedEntry, key: Buffer): string {
  return seal(key, JSON.stringify({ format: ENTRY_FORMAT, scope: owner.scope, user: owner.user, fetchedAt: entry.fetchedAt, globalMark: entry.globalMark, list: entry.list }));
}

/** Bytes of a value as Redis holds it (node-redis gives strings, or Buffers with a type mapping). */
export function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}

/** The entry of `value`, or why it is not one of ours. Never throws. */
export function decodeEntry(value: unknown, owner: EntryOwner, maxBytes: number, key: Buffer): SharedEntry | IgnoredReason {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) return 'foreign';
  if (byteLength(value) > maxBytes) return 'oversized';
  const text = unseal(key, typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  if (text === undefined) return 'unauthenticated';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'corrupt';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'corrupt';
  const entry = parsed as Record<string, unknown>;
  if (entry.format !== ENTRY_FORMAT || entry.scope !== owner.scope || entry.user !== owner.user) return 'foreign';
  const { fetchedAt, globalMark } = entry;
  if (typeof fetchedAt !== 'number' || !Number.isFinite(fetchedAt) || typeof globalMark !== 'string' || !('list' in entry)) return 'corrupt';
  return { fetchedAt, globalMark, list: entry.list };
}
