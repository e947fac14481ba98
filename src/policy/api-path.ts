/**
 * Canonical request paths for API mode. The guard must check the path the router dispatches, so a
 * request target is either turned into one canonical form or rejected: never guessed at.
 *
 * Canonical form: segments split on `/`; every percent-encoded character that may also appear raw in a
 * segment (unreserved, sub-delims except `;`, `:` and `@`) is decoded once, so `%61` and `a` are the same
 * segment; every other encoded byte stays encoded with upper-case hex; harmless ASCII that is not a path
 * character (`"<>[]^`{|}` and, in patterns, space) is encoded. The result is pure ASCII.
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

/** A request path in canonical form. */
export interface ApiPath {
  /** The canonical path, e.g. `/api/v1/users/42`; `/` for the root; a trailing slash is kept. */
  readonly path: string;
  /** Its non-empty segments. */
  readonly segments: readonly string[];
  /** True when the path ends with `/` (and is not the root). */
  readonly trailingSlash: boolean;
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
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
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
 * Returns the segment, or the problem.
 */
export function canonicalSegment(raw: string, pattern = false): { segment: string } | { problem: ApiTargetProblem } {
  let out = '';
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
      out += byte < 128 && CLASS[byte] === KEEP ? String.fromCharCode(byte) : encodeByte(byte);
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
      i = end - 1;
      continue;
    }
    if (code === 59 /* ; */) return { problem: 'matrix_parameter' };
    if (code === 32 && pattern) {
      out += '%20';
      continue;
    }
    const kind = CLASS[code];
    if (kind === KEEP) out += raw[i];
    else if (kind === ENCODE) out += encodeByte(code);
    else return { problem: code < 0x20 || code === 0x7f ? 'control_character' : 'bad_character' };
  }
  return { segment: out };
}

/**
 * The path part of a request target: origin-form (`/a?b`) as is; absolute-form (`http://h/a?b`) reduced
 * to its path, as Express does; anything else is rejected. Returns null when the target is unusable.
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
  if (end === rest.length || rest.charCodeAt(end) === 63) return '/';
  const query = rest.indexOf('?', end);
  return query === -1 ? rest.slice(end) : rest.slice(end, query);
}

/** Splits a canonical-or-raw path into segments; `pattern` selects pattern rules for the characters. */
export function splitPath(
  path: string,
  pattern = false,
): { segments: string[]; trailingSlash: boolean } | { problem: ApiTargetProblem; at: number } {
  if (path === '/') return { segments: [], trailingSlash: false };
  const parts = path.split('/');
  // parts[0] is the empty string before the leading slash.
  const trailingSlash = parts[parts.length - 1] === '';
  const last = trailingSlash ? parts.length - 1 : parts.length;
  const segments: string[] = [];
  const simple = SIMPLE_PATH.test(path);
  for (let i = 1; i < last; i++) {
    const raw = parts[i] as string;
    if (raw === '') return { problem: 'empty_segment', at: i - 1 };
    let segment = raw;
    if (!simple) {
      const result = canonicalSegment(raw, pattern);
      if ('problem' in result) return { problem: result.problem, at: i - 1 };
      segment = result.segment;
    }
    if (segment === '.' || segment === '..') return { problem: 'dot_segment', at: i - 1 };
    segments.push(segment);
  }
  return { segments, trailingSlash };
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
 * @example normalizeApiTarget('/api/%61dmin/?x=1') // { ok: true, path: '/api/admin/', segments: ['api', 'admin'], trailingSlash: true }
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
    trailingSlash: split.trailingSlash,
  };
}
