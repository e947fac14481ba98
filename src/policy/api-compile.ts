import type { CaseFold } from './api-path.js';
import type { ResolvedApiMatchOptions } from './api-options.js';
import { compileApiPattern } from './api-pattern.js';
import { PatternTrie, type CompiledPattern } from './api-trie.js';
import type { GrantIndex } from './grants.js';
import { grantNotes, type Grant } from './normalize-grant.js';

/** A user's API grants compiled once: one trie for ALLOW patterns, one (case-folded) for DENY. */
export interface CompiledApiGrants {
  /** Number of API grants with a usable pattern (DENY widenings included). */
  readonly size: number;
  /** True when some API grant carries conditions. */
  readonly hasConditions: boolean;
}

/** A grant in a trie, with its place in the grant list. */
export interface Entry {
  readonly grant: Grant;
  /** Position in the grant list: the lowest matching one is reported, whatever the trie order. */
  readonly ordinal: number;
}

/** The tries themselves, for the matcher. */
export interface Compiled extends CompiledApiGrants {
  readonly allow: PatternTrie<Entry>;
  readonly deny: PatternTrie<Entry>;
  /** Estimated heap bytes of this compiled form. */
  readonly bytes: number;
}

/** The compiled object, its two tries and roots, and its slot in the maps that keep it (rounded up). */
const COMPILED_BYTES = 600;

/** Anything that can be matched: a user's indexed grants or a plain grant list. */
export type ApiGrants = GrantIndex | readonly Grant[];

function grantList(grants: ApiGrants): readonly Grant[] {
  if (Array.isArray(grants)) return grants as readonly Grant[];
  const list = (grants as GrantIndex)?.grants;
  if (!Array.isArray(list)) throw new TypeError('genauth-guard: grants must be a GrantIndex (indexGrants()) or a Grant array');
  return list;
}

// Compiled tries live as long as the grant set (one per fetch), keyed by the options that shape them.
const compiledCache = new WeakMap<object, Map<string, Compiled>>();
// The bytes of all of a grant set's compiled forms, read on every API-mode request (compiledApiBytes).
const compiledBytes = new WeakMap<object, number>();

/**
 * How one grant takes part in API mode under `fold` (its ALLOW patterns' case fold) and `apiOrigin`:
 * its pattern (`widened` for an unreadable DENY, widened to the subtree above its first bad segment),
 * or why it takes no part: `not_api` (not an `API` grant with an identifier; a DENY of an unknown type
 * counts as an `API` one, fail closed, an ALLOW of one does not), `other_origin` (an
 * absolute identifier of another API; a DENY's origin counts only when `apiOrigin` is set, so without it
 * a DENY applies by its path), `invalid_pattern` (an unreadable ALLOW: ignored). The matcher and
 * explain both read grants through here, so they never disagree.
 */
const EVERY_PATH: CompiledPattern = Object.freeze({ segments: Object.freeze([]), wildcard: true, trailingSlash: false });

export type GrantPattern =
  | { readonly pattern: CompiledPattern; readonly widened: boolean }
  | { readonly pattern?: undefined; readonly skipped: 'not_api' | 'other_origin' | 'invalid_pattern' };

export function grantPattern(grant: Grant, fold: CaseFold, apiOrigin: string | undefined): GrantPattern {
  // A DENY whose type the guard cannot read (null) may be an API DENY: it takes part (fail closed).
  if (grant.type !== 'API' && (grant.type !== null || grant.effect !== 'DENY')) return { skipped: 'not_api' };
  if (grant.apiIdentifier === null) {
    // An identifier that is there but not a string is unreadable, like an unreadable string: a DENY
    // covers every path, an ALLOW nothing. One that is absent leaves the grant out of API mode.
    if (grantNotes(grant)?.apiIdentifierUnreadable !== true) return { skipped: 'not_api' };
    return grant.effect === 'DENY' ? { pattern: EVERY_PATH, widened: true } : { skipped: 'invalid_pattern' };
  }
  if (grant.effect === 'DENY') {
    // Folded as widely as any router folds: a DENY must catch every spelling some router dispatches to it.
    const result = compileApiPattern(grant.apiIdentifier, { fold: 'unicode', apiOrigin, anyOrigin: true });
    if (result.ok) return { pattern: result.pattern, widened: false };
    return result.reason === 'invalid' ? { pattern: result.widened, widened: true } : { skipped: 'other_origin' };
  }
  const result = compileApiPattern(grant.apiIdentifier, { fold, apiOrigin });
  if (result.ok) return { pattern: result.pattern, widened: false };
  return { skipped: result.reason === 'invalid' ? 'invalid_pattern' : 'other_origin' };
}

/**
 * Compiles a user's API grants under `fold` (the ALLOW patterns' case fold), once per grant set: only
 * `API` grants (and DENYs of an unknown type) with an `apiIdentifier` take part; a DENY is folded as
 * widely as any router folds.
 */
export function compileApiGrants(grants: ApiGrants, options: ResolvedApiMatchOptions, fold: CaseFold): Compiled {
  const key = `${fold}|${options.apiOrigin ?? ''}`;
  let byOptions = compiledCache.get(grants);
  const cached = byOptions?.get(key);
  if (cached !== undefined) return cached;
  const allow = new PatternTrie<Entry>();
  const deny = new PatternTrie<Entry>();
  let hasConditions = false;
  const list = grantList(grants);
  for (let ordinal = 0; ordinal < list.length; ordinal++) {
    const grant = list[ordinal] as Grant;
    // Only API resources (and DENYs of an unknown type) with an identifier take part in API mode.
    const { pattern } = grantPattern(grant, fold, options.apiOrigin);
    if (pattern === undefined) continue;
    (grant.effect === 'DENY' ? deny : allow).insert(pattern, { grant, ordinal });
    if (grant.conditions.length > 0) hasConditions = true;
  }
  const compiled: Compiled = { allow, deny, hasConditions, size: allow.size + deny.size, bytes: COMPILED_BYTES + allow.bytes + deny.bytes };
  if (byOptions === undefined) {
    byOptions = new Map();
    compiledCache.set(grants, byOptions);
  }
  byOptions.set(key, compiled);
  compiledBytes.set(grants, (compiledBytes.get(grants) ?? 0) + compiled.bytes);
  return compiled;
}

/**
 * Estimated heap bytes of every compiled form of these grants (one per case fold and `apiOrigin` that
 * matched them), 0 when none: what a cache that keeps the grants also keeps, for as long.
 */
export function compiledApiBytes(grants: ApiGrants): number {
  return compiledBytes.get(grants) ?? 0;
}
