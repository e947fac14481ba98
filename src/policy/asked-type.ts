/** An answer to a query for one `resourceType`, held to that type (failing closed). */
import type { AuthorizedResource, ResourceType } from '../wire.js';
import { readEffect, readResourceType } from './normalize-grant.js';

/** A list held to the type asked for, and how many entries of another type it had. */
export interface AskedTypeList {
  readonly list: AuthorizedResource[];
  /** ALLOW entries of another type (or none): dropped. */
  readonly allowsDropped: number;
  /** DENY entries of another type (or none): kept, as DENYs of an unknown type. */
  readonly deniesKept: number;
}

/**
 * GenAuth is asked for the grants of one type (`genauth.resourceType`) and its answer should hold only
 * that type. An entry of another type (or of none, or of one the guard does not know, read as
 * normalization reads it) that comes anyway, from GenAuth, a proxy or a misbehaving upstream, is not
 * trusted either way: an ALLOW is dropped (it grants nothing), a DENY is kept without its type, a DENY
 * of an unknown type, which counts wherever a grant of any type would (a DENY is never dropped for
 * being odd). What is no entry (not an object) is left for the index, which skips it. The same array
 * when nothing is odd: no copy for the usual answer.
 */
export function heldToAskedType(list: AuthorizedResource[], asked: ResourceType): AskedTypeList {
  let allowsDropped = 0;
  let deniesKept = 0;
  let held: AuthorizedResource[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i] as AuthorizedResource;
    const odd = typeof entry === 'object' && entry !== null && !Array.isArray(entry) && readResourceType(entry.resourceType) !== asked;
    if (!odd) {
      held?.push(entry);
      continue;
    }
    held ??= list.slice(0, i);
    if (readEffect(entry.effect) === 'ALLOW') {
      allowsDropped++;
    } else {
      deniesKept++;
      const { resourceType: _dropped, ...untyped } = entry;
      held.push(untyped as AuthorizedResource);
    }
  }
  return { list: held ?? list, allowsDropped, deniesKept };
}
