/**
 * The entries an upstream entry is read as, before indexing. Index time only, never per request.
 * - A documented field spelt a second time in another case (`Effect` beside `effect`,
 *   `ResourceCode`, `Actions`, `reſourceCode`: see key-fold.ts): the entry has no one meaning (JSON.parse keeps both keys; a
 *   case-insensitive reader, the last). It is read once per combination of its spellings, and only its
 *   DENY readings are kept: an ALLOW of it grants nothing, and whatever a reading denies is denied.
 * - A DENY whose resource code may be meant more than one way (surrounding whitespace, several codes
 *   joined by commas: see deny-readings.ts): one DENY per reading, each indexed under its own code.
 * Anything else is read as it is.
 */
import { foldKey } from '../key-fold.js';
import type { AuthorizedResource } from '../wire.js';
import { denyReadings } from './deny-readings.js';
import { readEffect } from './normalize-grant.js';

type Entry = Record<string, unknown>;

/** The fields whose second spelling changes what an entry grants (`condition`'s: see strayConditionKey). */
const FIELDS = ['effect', 'actions', 'resourceCode', 'resourceType', 'apiIdentifier'] as const;
const FIELD_BY_FOLD: ReadonlyMap<string, string> = new Map(FIELDS.map((field) => [field.toLowerCase(), field]));

/**
 * Past this many combinations of spellings (a hostile answer: 64 spellings of each of five fields),
 * the entry is read as one DENY of every code, action and path: it is not enumerated.
 */
const MAX_COMBINATIONS = 64;

function isEntryObject(entry: unknown): entry is Entry {
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry);
}

/** The entry's other spellings of documented fields, by field; undefined when it has none (the usual entry). */
function otherSpellings(entry: Entry): Map<string, string[]> | undefined {
  let found: Map<string, string[]> | undefined;
  for (const key in entry) {
    if (!Object.hasOwn(entry, key)) continue;
    const field = FIELD_BY_FOLD.get(foldKey(key));
    if (field === undefined || field === key) continue;
    found ??= new Map();
    const keys = found.get(field);
    if (keys === undefined) found.set(field, [key]);
    else keys.push(key);
  }
  return found;
}

/** Every combination of the entry's spellings, without the other spellings' keys. */
function combinations(entry: Entry, spellings: Map<string, string[]>): Entry[] {
  const plain: Entry = { ...entry };
  for (const keys of spellings.values()) for (const key of keys) delete plain[key];
  let read: Entry[] = [plain];
  for (const [field, keys] of spellings) {
    // The documented spelling's value (absent stays absent), then each other spelling's.
    const values = [Object.hasOwn(entry, field) ? { has: true, value: entry[field] } : { has: false, value: undefined }, ...keys.map((key) => ({ has: true, value: entry[key] }))];
    if (read.length * values.length > MAX_COMBINATIONS) return [{ effect: 'DENY', actions: [], apiIdentifier: 0 }];
    read = read.flatMap((reading) =>
      values.map(({ has, value }) => {
        const next = { ...reading };
        if (has) next[field] = value;
        else delete next[field];
        return next;
      }),
    );
  }
  return read;
}

/** A DENY once per reading of its code (see denyReadings); anything else as it is. */
function codeReadings(entry: Entry): Entry[] {
  const code = entry.resourceCode;
  if (typeof code !== 'string' || readEffect(entry.effect) !== 'DENY') return [entry];
  const readings = denyReadings(code);
  return readings.length === 1 && readings[0] === code ? [entry] : readings.map((reading) => (reading === code ? entry : { ...entry, resourceCode: reading }));
}

/** The entries `entry` is read as, or undefined when it is read only as itself. */
function readingsOf(entry: unknown): AuthorizedResource[] | undefined {
  if (!isEntryObject(entry)) return undefined;
  const spellings = otherSpellings(entry);
  const base = spellings === undefined ? [entry] : combinations(entry, spellings).filter((reading) => readEffect(reading.effect) === 'DENY');
  const read = base.flatMap(codeReadings);
  return spellings === undefined && read.length === 1 && read[0] === entry ? undefined : (read as unknown as AuthorizedResource[]);
}

/**
 * `entries`, each replaced by the entries it is read as (see {@link readingsOf}); the same array when
 * every entry is read as itself, as for GenAuth's usual lists.
 */
export function withReadings(entries: readonly AuthorizedResource[]): readonly AuthorizedResource[] {
  let read: AuthorizedResource[] | undefined;
  for (let i = 0; i < entries.length; i++) {
    const readings = readingsOf(entries[i]);
    if (readings === undefined) {
      read?.push(entries[i]!);
      continue;
    }
    read ??= entries.slice(0, i);
    read.push(...readings);
  }
  return read ?? entries;
}
