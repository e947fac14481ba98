import { canonicalSegment, unicodeFoldSegment, type CaseFold } from './api-path.js';
import type { CompiledPattern, PatternSegment } from './api-trie.js';

/**
 * The outcome of compiling an `apiIdentifier` (or a public path):
 * - `ok`: a usable pattern;
 * - `other_origin`: an absolute identifier for another API (or, unless `anyOrigin`, no `apiOrigin`
 *   configured): it does not apply;
 * - `invalid`: unreadable. An ALLOW is then ignored; a DENY is widened to `widened`, the subtree above
 *   the first unreadable segment, so a typo in a DENY never opens anything.
 */
export type PatternResult =
  | { readonly ok: true; readonly pattern: CompiledPattern }
  | { readonly ok: false; readonly reason: 'other_origin' }
  | { readonly ok: false; readonly reason: 'invalid'; readonly widened: CompiledPattern };

/** A literal's key: `unicode` folds the identifier as written, as a router folds its route path. */
function foldLiteral(raw: string, canonical: string, fold: CaseFold): string {
  if (fold === 'none') return canonical;
  if (fold === 'ascii') return canonical.toLowerCase();
  return unicodeFoldSegment(raw) ?? canonical.toLowerCase();
}

const PARAM = /^(?::[A-Za-z0-9_]+|\{[A-Za-z0-9_]+\})$/;
/** Whitespace (`\s`: ASCII and Unicode spaces, NBSP, U+3000, BOM) at either end of a segment or origin. */
const EDGE_SPACE = /^\s|\s$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)(.*)$/s;

function invalid(segments: PatternSegment[]): PatternResult {
  return { ok: false, reason: 'invalid', widened: { segments, wildcard: true, trailingSlash: false } };
}

/** The origin of an absolute URL (`https://h:8443`), or null when it cannot be read. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * Compiles a pattern: exact paths (`/api/v1/users`), `/a/*` (`/a` and everything below; `*` is only
 * valid as a whole last segment, so `/a*` is not a pattern), and single-segment parameters `:id` and
 * `{id}`. Whitespace at either end of the identifier or of a segment makes it unreadable (a space
 * inside a segment is part of it, `%20`). Literal segments are canonicalized like request paths and folded by `fold`, the way request
 * segments are for the same trie. An identifier with a scheme and host applies only when its origin
 * equals `apiOrigin`; with no `apiOrigin`, `anyOrigin` (a DENY's) makes it apply by its path whatever
 * its origin, since the guard cannot tell whether that origin is this API.
 */
export function compileApiPattern(identifier: string, options: { fold: CaseFold; apiOrigin?: string | undefined; anyOrigin?: boolean }): PatternResult {
  let path = identifier;
  const absolute = ABSOLUTE.exec(identifier);
  if (absolute !== null) {
    const origin = EDGE_SPACE.test(absolute[1] as string) ? null : originOf(absolute[1] as string);
    if (origin === null) return invalid([]);
    const applies = options.apiOrigin === undefined ? options.anyOrigin === true : origin === options.apiOrigin;
    if (!applies) return { ok: false, reason: 'other_origin' };
    path = absolute[2] === '' ? '/' : (absolute[2] as string);
  }
  if (path.charCodeAt(0) !== 47 /* / */) return invalid([]);
  if (path === '/') return { ok: true, pattern: { segments: [], wildcard: false, trailingSlash: false } };
  const parts = path.split('/');
  const trailingSlash = parts[parts.length - 1] === '';
  const last = trailingSlash ? parts.length - 1 : parts.length;
  const segments: PatternSegment[] = [];
  for (let i = 1; i < last; i++) {
    const raw = parts[i] as string;
    if (raw === '*') {
      if (i !== last - 1 || trailingSlash) return invalid(segments);
      return { ok: true, pattern: { segments, wildcard: true, trailingSlash: false } };
    }
    if (PARAM.test(raw)) {
      segments.push({ param: true });
      continue;
    }
    // Whitespace around a segment (`/admin/keys `) is a typo, not a path: read literally it would be
    // `keys%20` and a DENY would miss `/admin/keys`. Unreadable: a DENY is widened above it, an ALLOW
    // ignored, whichever end the whitespace is at (a leading one, before the first `/`, already is).
    if (raw === '' || raw.includes('*') || EDGE_SPACE.test(raw)) return invalid(segments);
    const result = canonicalSegment(raw, true);
    if ('problem' in result || result.segment === '.' || result.segment === '..') return invalid(segments);
    segments.push({ literal: foldLiteral(raw, result.segment, options.fold) });
  }
  return { ok: true, pattern: { segments, wildcard: false, trailingSlash } };
}
