/**
 * Resource codes with a `*`: which codes a grant's code covers besides itself. An ALLOW is read no
 * wider than documented (`*`, and a trailing `:*` as a literal prefix); a DENY as widely as it could be
 * meant, so that no reading of it leaves a code it names to an ALLOW beside it.
 */
import { isAllStars } from './normalize-grant.js';
import { segmentsCover } from './segments.js';

/** How a wildcard code is matched: codes starting with `prefix` and, when set, covered by `pattern`. */
export interface CodeWildcard {
  /** What every covered code starts with (`''` for all): for an ALLOW, the whole rule. */
  readonly prefix: string;
  /**
   * A DENY's code with each segment holding a `*` made a whole `*` segment, each standing for any
   * segments or none (see `segmentsCover`); undefined when the prefix says it all.
   */
  readonly pattern: string | undefined;
}

const EVERY_CODE: CodeWildcard = Object.freeze({ prefix: '', pattern: undefined });

/**
 * True when a grant with this code and effect is a wildcard grant (else it covers its code exactly).
 * Makes nothing: the lazy index asks it of every entry.
 */
export function isWildcardCode(code: string, deny: boolean): boolean {
  if (code === '*') return true;
  return deny ? code.includes('*') : code.length > 2 && code.endsWith(':*');
}

/**
 * How a grant's code covers codes, or null when it covers exactly itself:
 * - `*` covers every code; so does a DENY of `*:*` (`*:*:*`, ...), GenAuth's spelling of "all";
 * - an ALLOW of `prefix:*` covers every code starting with `prefix:` (not `prefix`; a `*` elsewhere,
 *   `ecs:*:disk` or `*:*`, is literal text);
 * - a DENY with a `*` anywhere: each `*` segment stands for any segments or none (`ecs:*:disk` covers
 *   `ecs:disk`, `ecs:1:disk` and `ecs:1:2:disk`; `ecs:*` covers `ecs` too), and a segment holding a
 *   `*` among other characters (`ec*`, `1*`) is read as a whole `*` segment, as API mode widens an
 *   unreadable DENY: every glob reading of it is covered, the literal code included.
 */
export function codeWildcard(code: string, deny: boolean): CodeWildcard | null {
  if (!isWildcardCode(code, deny)) return null;
  if (code === '*' || (deny && isAllStars(code))) return EVERY_CODE;
  if (!deny) return { prefix: code.slice(0, -1), pattern: undefined };
  const segments = code.split(':').map((segment) => (segment.includes('*') ? '*' : segment));
  const widened = segments.join(':');
  return { prefix: segments.slice(0, segments.indexOf('*')).join(':'), pattern: widened === code ? code : widened };
}

/** True when the wildcard covers `resource`. Makes nothing: the decision path asks it. */
export function codeWildcardCovers(wildcard: CodeWildcard, resource: string): boolean {
  return resource.startsWith(wildcard.prefix) && (wildcard.pattern === undefined || segmentsCover(wildcard.pattern, resource, false));
}
