/**
 * Canonical request paths for API mode. The guard must check the path the router dispatches, so a
 * request target is either turned into one canonical form or rejected: never guessed at.
 *
 * Canonical form: segments split on `/`; every percent-encoded character that may also appear raw in a
 * segment (unreserved, sub-delims except `;`, `:` and `@`) is decoded once, so `%61` and `a` are the same
 * segment; every other encoded byte stays encoded with upper-case hex; harmless ASCII that is not a path
 * character (`"<>[]^`{|}` and, in patterns, space) is encoded. The result is pure ASCII.
 *
 * Case folding is a separate key per segment ({@link CaseFold}): routers fold differently, and the
 * guard must compare the way the router that dispatches does (a DENY: at least as widely as any router).
 */

/** Why a request target cannot be evaluated (the guard answers 400). */
export type ApiTargetProblem =
  | 'not_a_path'
  | 'bad_character'
  | 'matrix_parameter'
  | 'bad_percent_encoding'
  | 'encoded_separator'
  | 'control_character'
  | 'empty_segment'
  | 'dot_segment';

/**
 * How a router compares the letter case of paths:
 * - `none`: case-sensitive (Fastify's default, Express's `case sensitive routing`, @koa/router's `sensitive`);
 * - `ascii`: ASCII letters of the raw target only (Express and @koa/router match the undecoded path
 *   with a regular expression's `i` flag, without `u`: `%C3%89` is not `%C3%A9`);
 * - `unicode`: `String#toLowerCase()` of the decoded path (Fastify's find-my-way with
 *   `caseSensitive: false`: U+212A KELVIN SIGN becomes ASCII `k`).
 */
export type CaseFold = 'none' | 'ascii' | 'unicode';

/** A request path in canonical form. */
export interface ApiPath {
  /** The canonical path, e.g. `/api/v1/users/42`; `/` for the root; a trailing slash is kept. */
  readonly path: string;
  /** Its non-empty segments. */
  readonly segments: readonly string[];
  /**
   * Its segments folded as find-my-way folds them (`unicodeFoldSegment`); a DENY is matched on
   * these. Computed from `segments` when absent (a hand-built path).
   */
  readonly folded?: readonly string[];
  /** True when the path ends with `/` (and is not the root). */
  readonly trailingSlash: boolean;
  /**
   * Indexes of the segments whose spelling is not their canonical one: a percent-escape was decoded
   * (`%61` -> `a`) or written in lower-case hex (`%c3`); undefined when none. Express and @koa/router
   * match the raw target, so `/%68ealth` is not their route `/health` (and find-my-way keeps
   * `%24 %26 %2B %2C %3A %3D %40` encoded): an ALLOW pattern or a public path matches such a segment
   * only by a parameter or a wildcard (`allowSegments`). A DENY matches it canonicalized.
   */
  readonly escaped?: readonly number[] | undefined;
}

/** The outcome of {@link normalizeApiTarget}. */
export type ApiTarget = ({ readonly ok: true } & ApiPath) | { readonly ok: false; readonly problem: ApiTargetProblem };

// Character classes of ASCII: KEEP stays raw, ENCODE is written as %XX, REJECT makes the target invalid.
const REJECT = 0;
const KEEP = 1;
const ENCODE = 2;
const CLASS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@") CLASS[c.charCodeAt(0)] = KEEP;
for (const c of '"<>[]^`{|}') CLASS[c.charCodeAt(0)] = ENCODE;

const HEX = '0123456789ABCDEF';
const SIMPLE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]*$/;
// Only http and https: Node's url.parse (Express, Koa) reads `javascript://h/a` without a host, as the
// path `//h/a` (which express.static serves as `h/a`), and find-my-way strips no other scheme. Only in
// lower case: find-my-way before 9.10 (`^https?:\/\/.*?\/`) does not strip `HTTP://`, and walks the
// whole target as a path that only a wildcard route matches.
const ABSOLUTE_FORM = /^https?:\/\//;
// Only authorities that Node's legacy url.parse (which Express routes with) reads the same way we do:
// plain host labels of at most 63 characters or an IPv6 literal, an optional numeric port, no userinfo.
const AUTHORITY = /^(?:[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function encodeByte(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/**
 * Canonicalizes one raw segment. `pattern` relaxes the rules for grant patterns, which are Unicode
 * strings rather than wire bytes: non-ASCII is UTF-8 encoded and a space is encoded.
 * Returns the segment (`escaped`: a percent-escape was decoded in it, or one was in lower-case hex), or the problem.
 */
export function canonicalSegment(raw: string, pattern = false): { segment: string; escaped: boolean } | { problem: ApiTargetProblem } {
  let out = '';
  let escaped = false;
  // Built a character at a time, `out` is a rope of one node per character (about 30 bytes each) until
  // something flattens it, and a compiled pattern keeps it: hand back `raw` itself when nothing changed.
  let changed = false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 37 /* % */) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { problem: 'bad_percent_encoding' };
      const byte = hi * 16 + lo;
      i += 2;
      if (byte === 0x2f || byte === 0x5c) return { problem: 'encoded_separator' };
      if (byte < 0x20 || byte === 0x7f) return { problem: 'control_character' };
      if (byte < 128 && CLASS[byte] === KEEP) {
        out += String.fromCharCode(byte);
        escaped = true;
      } else {
        out += encodeByte(byte);
        // Lower-case hex (`%c3`) is not the `%C3` a case-sensitive Express or @koa/router route holds.
        if (raw.charCodeAt(i - 1) >= 97 || raw.charCodeAt(i) >= 97) escaped = true;
      }
      changed = true;
      continue;
    }
    if (code >= 128) {
      if (!pattern) return { problem: 'bad_character' };
      // A GenAuth identifier may hold Unicode: compare it as the UTF-8 bytes a client would send.
      const end = code >= 0xd800 && code <= 0xdbff ? i + 2 : i + 1;
      let encoded: string;
      try {
        encoded = encodeURIComponent(raw.slice(i, end));
      } catch {
        return { problem: 'bad_character' };
      }
      out += encoded;
      changed = true;
      i = end - 1;
      continue;
    }
    if (code === 59 /* ; */) return { problem: 'matrix_parameter' };
    if (code === 32 && pattern) {
      out += '%20';
      changed = true;
      continue;
    }
    const kind = CLASS[code];
    if (kind === KEEP) out += raw[i];
    else if (kind === ENCODE) {
      out += encodeByte(code);
      changed = true;
    } else return { problem: code < 0x20 || code === 0x7f ? 'control_character' : 'bad_character' };
  }
  return { segment: changed ? out : raw, escaped };
}

// What find-my-way's decodeURI leaves encoded: the reserved set, and `%25` it protects as `%2525`.
const PERCENT_25 = /%25/g;

/**
 * The `unicode` fold key of one segment (raw from the wire, or a Unicode pattern segment): exactly what
 * Fastify's router compares with `caseSensitive: false` (decodeURI with `%25` kept, then
 * `String#toLowerCase()`, on each segment alone: `/` breaks the final-sigma context as it does in the
 * whole path), canonicalized. Null when the segment is not valid UTF-8 once decoded (find-my-way refuses
 * such a target) or cannot be canonicalized: the caller then folds ASCII only.
 * @example unicodeFoldSegment('%E2%84%AAeys') // 'keys'
 */
export function unicodeFoldSegment(raw: string): string | null {
  let decoded = raw;
  if (raw.includes('%')) {
    try {
      decoded = decodeURI(raw.replace(PERCENT_25, '%2525'));
    } catch {
      return null;
    }
  }
  const result = canonicalSegment(decoded.toLowerCase(), true);
  return 'problem' in result ? null : result.segment;
}

/** Folds a canonical (or raw) segment: `ascii` lower-cases ASCII, hex digits of escapes included. */
export function foldSegment(segment: string, fold: CaseFold): string {
  if (fold === 'none') return segment;
  if (fold === 'unicode' && segment.includes('%')) return unicodeFoldSegment(segment) ?? segment.toLowerCase();
  return segment.toLowerCase();
}

/**
 * The path part of a request target: origin-form (`/a?b`) as is; absolute-form (`http://h/a?b`) reduced
 * to its path, as Express does; anything else is rejected. Returns null when the target is unusable.
 * Absolute-form is read only where every router reads the same path from it: a lower-case scheme, an
 * authority url.parse splits as we do, then a `/`. Without that `/` (`http://h`, `http://h?x`) Node's
 * url.parse and find-my-way 9.10 route `/`, but find-my-way before 9.10 (Fastify <= 5.12.7, the 9.7.0
 * `@nestjs/platform-fastify` pins) strips nothing and dispatches it to a wildcard route.
 */
function pathOfTarget(target: string): string | null {
  if (target.charCodeAt(0) === 47 /* / */) {
    const query = target.indexOf('?');
    return query === -1 ? target : target.slice(0, query);
  }
  const scheme = ABSOLUTE_FORM.exec(target);
  if (scheme === null) return null;
  const rest = target.slice(scheme[0].length);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 || c === 63) {
      end = i;
      break;
    }
  }
  // The host never influences the decision, but an authority url.parse would split differently must go.
  if (!AUTHORITY.test(rest.slice(0, end))) return null;
  // No path: `http://h` and `http://h?x` are `/` to url.parse, but find-my-way before 9.10 strips only
  // up to a `/` (`http://h?x/admin` routes `/admin`) and routes what it cannot strip as a path.
  if (end === rest.length || rest.charCodeAt(end) === 63) return null;
  const query = rest.indexOf('?', end);
  return query === -1 ? rest.slice(end) : rest.slice(end, query);
}

/** Splits a canonical-or-raw path into segments; `pattern` selects pattern rules for the characters. */
export function splitPath(
  path: string,
  pattern = false,
): { segments: string[]; folded: string[]; trailingSlash: boolean; escaped: number[] | undefined } | { problem: ApiTargetProblem; at: number } {
  if (path === '/') return { segments: [], folded: [], trailingSlash: false, escaped: undefined };
  const parts = path.split('/');
  // parts[0] is the empty string before the leading slash.
  const trailingSlash = parts[parts.length - 1] === '';
  const last = trailingSlash ? parts.length - 1 : parts.length;
  const segments: string[] = [];
  const folded: string[] = [];
  let escaped: number[] | undefined;
  const simple = SIMPLE_PATH.test(path);
  for (let i = 1; i < last; i++) {
    const raw = parts[i] as string;
    if (raw === '') return { problem: 'empty_segment', at: i - 1 };
    let segment = raw;
    if (!simple) {
      const result = canonicalSegment(raw, pattern);
      if ('problem' in result) return { problem: result.problem, at: i - 1 };
      segment = result.segment;
      if (result.escaped) (escaped ??= []).push(i - 1);
    }
    if (segment === '.' || segment === '..') return { problem: 'dot_segment', at: i - 1 };
    segments.push(segment);
    // Folded from the raw spelling: find-my-way folds before the reserved characters are decoded.
    folded.push(simple ? raw.toLowerCase() : (unicodeFoldSegment(raw) ?? segment.toLowerCase()));
  }
  return { segments, folded, trailingSlash, escaped };
}

/** Joins canonical segments back into a path. */
export function joinPath(segments: readonly string[], trailingSlash: boolean): string {
  if (segments.length === 0) return '/';
  const path = `/${segments.join('/')}`;
  return trailingSlash ? `${path}/` : path;
}

/**
 * Turns a request target exactly as received (`req.originalUrl`: path and query, mount prefix
 * included) into the canonical path the guard matches, or says why it cannot be evaluated.
 * @example normalizeApiTarget('/api/%61dmin/?x=1') // { ok: true, path: '/api/admin/', segments: ['api', 'admin'], folded: ['api', 'admin'], trailingSlash: true }
 */
export function normalizeApiTarget(target: string): ApiTarget {
  if (typeof target !== 'string' || target === '') return { ok: false, problem: 'not_a_path' };
  const path = pathOfTarget(target);
  if (path === null) return { ok: false, problem: 'not_a_path' };
  const split = splitPath(path);
  if ('problem' in split) return { ok: false, problem: split.problem };
  return {
    ok: true,
    path: SIMPLE_PATH.test(path) ? path : joinPath(split.segments, split.trailingSlash),
    segments: split.segments,
    folded: split.folded,
    trailingSlash: split.trailingSlash,
    escaped: split.escaped,
  };
}

/** A path's segments under a fold (`unicode`: as normalized, or folded now for a hand-built path). */
export function foldedSegments(path: ApiPath, fold: CaseFold): readonly string[] {
  if (fold === 'none') return path.segments;
  // Without an escape left, every segment is plain ASCII and both folds are the same lower-casing.
  if (path.folded !== undefined && (fold === 'unicode' || !path.path.includes('%'))) return path.folded;
  return path.segments.map((segment) => foldSegment(segment, fold));
}

/** What no pattern literal equals (a segment never holds a `/`): the key of an escaped segment. */
const ESCAPED_KEY = '/';

/**
 * The keys ALLOW patterns and public paths are matched on: {@link foldedSegments}, with each segment
 * in which an escape was decoded (`path.escaped`) replaced by a key no literal equals, so only a
 * parameter or a wildcard matches it. Express and @koa/router match the raw target: `%68ealth` is not
 * their route `health`, and the request goes to a parameter or wildcard route instead.
 */
export function allowSegments(path: ApiPath, fold: CaseFold): readonly string[] {
  const keys = foldedSegments(path, fold);
  if (path.escaped === undefined) return keys;
  const marked = keys.slice();
  for (const index of path.escaped) marked[index] = ESCAPED_KEY;
  return marked;
}
