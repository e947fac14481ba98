/**
 * The entries an upstream entry is read as, before indexing. A DENY whose resource code may be meant
 * more than one way (surrounding whitespace, several codes joined by commas: see deny-readings.ts) is
 * read as one DENY per reading, so that each reading denies what it names, exactly or by wildcard, and
 * is indexed under its own code. Anything else is read as it is. Index time only, never per request.
 */
import type { AuthorizedResource } from '../wire.js';
import { denyReadings } from './deny-readings.js';
import { readEffect } from './normalize-grant.js';

function isEntryObject(entry: unknown): entry is Record<string, unknown> {
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry);
}

/** The other entries `entry` is read as besides itself, or undefined when it is read only as itself. */
function otherReadings(entry: unknown): AuthorizedResource[] | undefined {
  if (!isEntryObject(entry) || readEffect(entry.effect) !== 'DENY') return undefined;
  const code = entry.resourceCode;
  if (typeof code !== 'string') return undefined;
  const readings = denyReadings(code);
  if (readings.length === 1) return undefined;
  // The first reading is the code as written: the entry itself.
  return readings.slice(1).map((reading) => ({ ...entry, resourceCode: reading }) as AuthorizedResource);
}

/**
 * `entries`, each followed by the other entries it is read as (see {@link otherReadings}); the same
 * array when no entry has any, as for GenAuth's usual lists.
 */
export function withReadings(entries: readonly AuthorizedResource[]): readonly AuthorizedResource[] {
  let read: AuthorizedResource[] | undefined;
  for (let i = 0; i < entries.length; i++) {
    const others = otherReadings(entries[i]);
    if (others === undefined) {
      read?.push(entries[i]!);
      continue;
    }
    read ??= entries.slice(0, i);
    read.push(entries[i]!, ...others);
  }
  return read ?? entries;
}
