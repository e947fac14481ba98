/** `:`-separated DENY patterns whose `*` segments stand for any segments or none: actions and resource codes alike. */

/** Where the `:`-separated segment starting at `from` ends. */
function segmentEnd(text: string, from: number): number {
  const colon = text.indexOf(':', from);
  return colon === -1 ? text.length : colon;
}

/** True when `text` holds, from `from` to `to`, exactly a lone `*`. */
function isStarSegment(text: string, from: number, to: number): boolean {
  return to - from === 1 && text.charCodeAt(from) === 42;
}

/** True when `a[aFrom, aTo)` and `b[bFrom, bTo)` are the same text (no substring is made). */
function sameSegment(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let i = 0; i < aTo - aFrom; i++) if (a.charCodeAt(aFrom + i) !== b.charCodeAt(bFrom + i)) return false;
  return true;
}

/**
 * True when the DENY pattern `pattern` (an action or a resource code) covers `name` segment by segment
 * (both split at `:`), each `*` segment standing for any number of segments, none included: GenAuth's
 * `book:*:read` (read on every book) covers `book:read` and `book:1:read`, `*:read` covers
 * `books:read`, `book:*:*` everything on books; the code `ecs:*:disk` covers `ecs:disk` and
 * `ecs:1:disk`. `star` adds a final `*` segment (a `<resource>:*` kept as its prefix). Greedy with one
 * backtrack point, as glob matching: linear in the segments, whatever the stars. Makes nothing.
 */
export function segmentsCover(pattern: string, name: string, star: boolean): boolean {
  // Positions are segment starts; past the end (length + 1) means every segment was used.
  const patternEnd = star ? pattern.length - 1 : pattern.length;
  let p = 0;
  let n = 0;
  let starAt = -1;
  let starName = -1;
  while (n <= name.length) {
    if (p <= patternEnd) {
      const pEnd = Math.min(segmentEnd(pattern, p), patternEnd);
      if (isStarSegment(pattern, p, pEnd)) {
        p = pEnd + 1;
        starAt = p;
        starName = n;
        continue;
      }
      const nEnd = segmentEnd(name, n);
      if (sameSegment(pattern, p, pEnd, name, n, nEnd)) {
        p = pEnd + 1;
        n = nEnd + 1;
        continue;
      }
    } else if (star) {
      return true;
    }
    if (starAt === -1) return false;
    // The last star takes one more segment of the name.
    starName = segmentEnd(name, starName) + 1;
    n = starName;
    p = starAt;
  }
  // The name is used up: what is left of the pattern must be stars (the added final one is).
  for (; p <= patternEnd; p = Math.min(segmentEnd(pattern, p), patternEnd) + 1) {
    if (!isStarSegment(pattern, p, Math.min(segmentEnd(pattern, p), patternEnd))) return false;
  }
  return true;
}
