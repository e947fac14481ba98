/**
 * The entries an upstream entry is read as, before indexing. Index time only, never per request.
 * - A documented field spelt a second time in another case (`Effect` beside `effect`,
 *   `ResourceCode`, `Actions`, `reſourceCode`: see key-fold.ts): the entry has no one meaning (JSON.parse keeps both keys; a
 *   case-insensitive reader, the last). It is read once per combination of its spellings, and only its
 *   DENY readings are kept: an ALLOW of it grants nothing, and whatever a reading denies is denied. When
 *   a reading was an ALLOW, the first such reading is kept as a stand-in that grants nothing
 *   (spelt-twice.ts), so the dropped ALLOW is told to the operator and shown by `explain`.
 * - A DENY whose resource code may be meant more than one way (surrounding whitespace, several codes
 *   joined by commas: see deny-readings.ts): one DENY per reading, each indexed under its own code.
 * Anything else is read as it is.
 */
import { foldKey } from '../key-fold.js';
import type { AuthorizedResource } from '../wire.js';
import { denyReadings } from './deny-readings.js';
import { readEffect } from './normalize-grant.js';
import { speltTwiceStandIn, type SpeltField } from './spelt-twice.js';

type Entry = Record<string, unknown>;

/** The fields whose second spelling changes what an entry grants (`condition`'s: see strayConditionKey). */
const FIELDS: readonly SpeltField[] = ['effect', 'actions', 'resourceCode', 'resourceType', 'apiIdentifier'];
const FIELD_BY_FOLD: ReadonlyMap<string, SpeltField> = new Map(FIELDS.map((field) => [field.toLowerCase(), field]));

/**
 * Past this many combinations of spellings (a hostile answer: 64 spellings of each of five fields),
 * the entry is read as one DENY of every code, action and path: it is not enumerated.
 */
const MAX_COMBINATIONS = 64;

function isEntryObject(entry: unknown): entry is Entry {
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry);
}

/** The entry's other spellings of documented fields, by field; undefined when it has none (the usual entry). */
function otherSpellings(entry: Entry): Map<SpeltField, string[]> | undefined {
  let found: Map<SpeltField, string[]> | undefined;
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

/** The entry without its other spellings' keys (its documented spellings only). */
function plainOf(entry: Entry, spellings: Map<SpeltField, string[]>): Entry {
  const plain: Entry = { ...entry };
  for (const keys of spellings.values()) for (const key of keys) delete plain[key];
  return plain;
}

/** Every combination of the entry's spellings, without the other spellings' keys; undefined past MAX_COMBINATIONS. */
function combinations(entry: Entry, spellings: Map<SpeltField, string[]>): Entry[] | undefined {
  let read: Entry[] = [plainOf(entry, spellings)];
  for (const [field, keys] of spellings) {
    // The documented spelling's value (absent stays absent), then each other spelling's.
    const values = [Object.hasOwn(entry, field) ? { has: true, value: entry[field] } : { has: false, value: undefined }, ...keys.map((key) => ({ has: true, value: entry[key] }))];
    if (read.length * values.length > MAX_COMBINATIONS) return undefined;
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

/** Read past MAX_COMBINATIONS: one DENY of every code, action and path (an entry of its own each time). */
const denyAll = (): Entry => ({ effect: 'DENY', actions: [], apiIdentifier: 0 });

/**
 * What an entry spelling fields twice is read as: its DENY readings, after a stand-in for its ALLOW
 * readings, if any, that grants nothing (spelt-twice.ts). Past MAX_COMBINATIONS, one DENY of
 * everything (after a stand-in when an effect spelling reads ALLOW).
 */
function spellingReadings(entry: Entry, spellings: Map<SpeltField, string[]>): Entry[] {
  const field = FIELDS.find((name) => spellings.has(name)) as SpeltField;
  const all = combinations(entry, spellings);
  if (all === undefined) {
    const effects = [entry.effect, ...(spellings.get('effect') ?? []).map((key) => entry[key])];
    const allows = effects.some((effect) => readEffect(effect) === 'ALLOW');
    return allows ? [speltTwiceStandIn({ ...plainOf(entry, spellings), effect: 'ALLOW' }, field), denyAll()] : [denyAll()];
  }
  const allow = all.find((reading) => readEffect(reading.effect) === 'ALLOW');
  const denies = all.filter((reading) => readEffect(reading.effect) === 'DENY');
  return allow === undefined ? denies : [speltTwiceStandIn(allow, field), ...denies];
}

/** The entries `entry` is read as, or undefined when it is read only as itself. */
function readingsOf(entry: unknown): AuthorizedResource[] | undefined {
  if (!isEntryObject(entry)) return undefined;
  const spellings = otherSpellings(entry);
  const base = spellings === undefined ? [entry] : spellingReadings(entry, spellings);
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
