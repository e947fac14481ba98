import { BlockList, isIP } from 'node:net';
import type { PolicyCondition } from '../wire.js';
import { TRIMS, untrimmable } from './trims.js';

/** Values a condition can be checked against, by GenAuth parameter name (`SourceIp`, `CurrentTime`, ...). */
export type ConditionContext = Readonly<Record<string, string | number | boolean | Date | readonly string[] | undefined>>;

/** Operators evaluated; any other operator makes the condition unknown (an ALLOW does not apply, a DENY does). */
export const CONDITION_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'IpAddress', 'NotIpAddress', 'ListContains',
] as const;

const KNOWN_OPERATORS: ReadonlySet<string> = new Set(CONDITION_OPERATORS);

type Tri = boolean | undefined;
type Compare = (actual: number, expected: number) => boolean;

const NUMERIC: Record<string, Compare> = {
  Equals: (a, b) => a === b,
  NotEquals: (a, b) => a !== b,
  LessThan: (a, b) => a < b,
  LessThanEquals: (a, b) => a <= b,
  GreaterThan: (a, b) => a > b,
  GreaterThanEquals: (a, b) => a >= b,
};

// Read once per condition object (conditions live as long as the cached grant set).
const valueReadings = new WeakMap<PolicyCondition, ReadonlyArray<readonly string[]>>();
const ipRanges = new WeakMap<PolicyCondition, BlockList | null>();

function expectedValues(condition: PolicyCondition): string[] {
  return Array.isArray(condition.value) ? condition.value.map(String) : [String(condition.value)];
}

/**
 * `*` (any run, empty included) and `?` (one character) wildcards; every other character literal.
 * Greedy with a return to the last `*` only: at most pattern x text steps, whatever the text. (A
 * regular expression of `.*` runs backtracks polynomially, with one more power per `*`: a client's
 * long User-Agent against `*a*b*c*d*` stalled the event loop for seconds.)
 */
function globMatches(glob: ArrayLike<string>, text: ArrayLike<string>): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** A UTF-16 surrogate: half of a character outside the Basic Multilingual Plane (an emoji, a rare CJK ideograph). */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * {@link globMatches} with `?` read both as one UTF-16 unit and as one character: they differ for text
 * holding a character outside the Basic Multilingual Plane (two units), and GenAuth does not say which
 * it means, so there the answer is known only where both readings agree. Read as one unit only, a DENY
 * of `admin?` lapsed for `admin👑`.
 */
function likeMatches(pattern: string, text: string): Tri {
  const byUnit = globMatches(pattern, text);
  if (!pattern.includes('?') || !SURROGATE.test(text)) return byUnit;
  return globMatches(Array.from(pattern), Array.from(text)) === byUnit ? byUnit : undefined;
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** `list` and each of its trimmed forms (`trim` applied to its text items) that differs from those before. */
function trimmedForms<T>(list: readonly T[]): ReadonlyArray<readonly T[]> {
  const forms: (readonly T[])[] = [list];
  if (list.every((item) => typeof item !== 'string' || untrimmable(item))) return forms;
  for (const trim of TRIMS) {
    const trimmed = list.map((item) => (typeof item === 'string' ? (trim(item) as T) : item));
    if (!forms.some((form) => sameList(form, trimmed))) forms.push(trimmed);
  }
  return forms;
}

/**
 * The ways a condition's values may be meant: as written and, when one holds a comma, split at its
 * commas; each of them with surrounding whitespace kept or trimmed (see {@link TRIMS}). GenAuth documents
 * `value` as one string and says nothing of commas or spaces: `'alice,bob'` may name one user or two,
 * and `' alice'` may be alice. Read as written only, a `StringNotEquals` ALLOW of `'alice,bob'`
 * admitted alice and bob, and a `StringEquals` DENY of it (or of `' alice'`) lapsed for alice.
 */
function readings(condition: PolicyCondition): ReadonlyArray<readonly string[]> {
  let found = valueReadings.get(condition);
  if (found === undefined) {
    const written = expectedValues(condition);
    const lists = written.some((v) => v.includes(',')) ? [written, written.flatMap((v) => v.split(','))] : [written];
    const all: (readonly string[])[] = [];
    for (const list of lists) for (const form of trimmedForms(list)) if (!all.some((seen) => sameList(seen, form))) all.push(form);
    found = all;
    valueReadings.set(condition, found);
  }
  return found;
}

/**
 * `test` under every reading of the condition's values (see {@link readings}) against every reading of
 * the context's value (as given, and trimmed: see {@link trimmedForms}): its answer where they all agree,
 * else unknown (an ALLOW applies only if every reading admits, a DENY lapses only if none denies).
 */
function everyReading<T>(condition: PolicyCondition, actuals: readonly T[], test: (values: readonly string[], actual: T) => Tri): Tri {
  let first: Tri | null = null;
  for (const values of readings(condition)) {
    for (const actual of actuals) {
      const result = test(values, actual);
      if (first === null) first = result;
      else if (result !== first) return undefined;
    }
  }
  return first ?? undefined;
}

/** The context's text as given and trimmed each way, without repeats. */
function actualTexts(actual: string): readonly string[] {
  if (untrimmable(actual)) return [actual];
  return trimmedForms([actual]).map((form) => form[0]!);
}

/** Any of `values` satisfies `test`; unknown if one cannot be read (`test` answers undefined) and none does. */
function anyValue(values: readonly string[], test: (expected: string) => Tri): Tri {
  let unknown = false;
  for (const expected of values) {
    const result = test(expected);
    if (result === true) return true;
    if (result === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

/**
 * Chars whose full upper case (`toUpperCase()`) is several chars, with the single one Java's
 * `Character.toUpperCase` gives (UnicodeData.txt's simple mapping): the Greek letters with
 * ypogegrammeni. The rest of them (ß, ŉ, ǰ, ΐ, the ligatures ﬀ-ﬆ, ...) have no simple upper case.
 */
const SIMPLE_UPPER = new Map<number, number>([
  ...[0x1f80, 0x1f90, 0x1fa0].flatMap((from) => Array.from({ length: 8 }, (_, i): [number, number] => [from + i, from + i + 8])),
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);

/** The one character whose full mapping is `mapped`, if it is one character. */
function single(mapped: string): number | undefined {
  const code = mapped.codePointAt(0)!;
  return mapped.length === (code > 0xffff ? 2 : 1) ? code : undefined;
}

/** Java's `Character.toUpperCase(int)`: the simple (one-character) upper case. */
function javaUpper(code: number): number {
  if (code < 0x80) return code >= 0x61 && code <= 0x7a ? code - 32 : code;
  return single(String.fromCodePoint(code).toUpperCase()) ?? SIMPLE_UPPER.get(code) ?? code;
}

/** Java's `Character.toLowerCase(int)`: the simple lower case (İ, whose full one is i + U+0307, is i). */
function javaLower(code: number): number {
  if (code < 0x80) return code >= 0x41 && code <= 0x5a ? code + 32 : code;
  return single(String.fromCodePoint(code).toLowerCase()) ?? (code === 0x130 ? 0x69 : code);
}

/** Java's test of two characters ignoring case: equal, or equal upper cases, or equal lower cases of those. */
function sameIgnoringCase(a: number, b: number): boolean {
  if (a === b) return true;
  const upperA = javaUpper(a);
  const upperB = javaUpper(b);
  return upperA === upperB || javaLower(upperA) === javaLower(upperB);
}

/** The code point of the pair the unit at `i` belongs to, negated when `i` is its high half (as Java's codePointIncluding). */
function pairIncluding(text: string, unit: number, i: number): number {
  if (unit >= 0xdc00 && unit <= 0xdfff) {
    const high = i > 0 ? text.charCodeAt(i - 1) : 0;
    return high >= 0xd800 && high <= 0xdbff ? 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00) : unit;
  }
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return -(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
  }
  return unit;
}

/**
 * Java's `String.equalsIgnoreCase`: the same length in UTF-16 units, and each unit equal ignoring case
 * ({@link sameIgnoringCase}: `Character.toUpperCase`, then `toLowerCase`). Unlike JavaScript's
 * `toLowerCase()`, it reads ſ as s and ı as i (both upper-case to S, I), İ as i, σ as ς, and never
 * ß as SS. `byCodePoint`: as Java 16 and later, where a unit of a surrogate pair that differs is
 * compared as the whole character (𐐀 equals 𐐨); before, unit by unit (they differ).
 * Case data is this runtime's: a letter given a case only in a Unicode version newer than the
 * server's Java knows may compare otherwise there.
 */
export function javaEqualsIgnoreCase(a: string, b: string, byCodePoint: boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0, j = 0; i < a.length && j < b.length; i++, j++) {
    const unitA = a.charCodeAt(i);
    const unitB = b.charCodeAt(j);
    if (sameIgnoringCase(unitA, unitB)) continue;
    if (!byCodePoint) return false;
    // As StringUTF16.compareToCIImpl: each side's pair as one character, stepping past a high half.
    let codeA = pairIncluding(a, unitA, i);
    let codeB = pairIncluding(b, unitB, j);
    if (codeA < 0) {
      i++;
      codeA = -codeA;
    }
    if (codeB < 0) {
      j++;
      codeB = -codeB;
    }
    if (!sameIgnoringCase(codeA, codeB)) return false;
  }
  return true;
}

/**
 * `a` and `b` equal ignoring case: JavaScript's `toLowerCase()` of each, and Java's `equalsIgnoreCase`
 * unit by unit and by code point (see {@link javaEqualsIgnoreCase}); unknown where they disagree.
 */
function equalsIgnoringCase(a: string, b: string): Tri {
  if (a === b) return true;
  const js = a.toLowerCase() === b.toLowerCase();
  return javaEqualsIgnoreCase(a, b, false) === js && javaEqualsIgnoreCase(a, b, true) === js ? js : undefined;
}

/** A `String*` operator against one reading of the values. */
function compareText(op: string, actual: string, values: readonly string[]): Tri {
  switch (op) {
    case 'StringEquals': return anyValue(values, (e) => actual === e);
    case 'StringNotEquals': return negate(anyValue(values, (e) => actual === e));
    case 'StringEqualsIgnoreCase': return anyValue(values, (e) => equalsIgnoringCase(actual, e));
    case 'StringNotEqualsIgnoreCase': return negate(anyValue(values, (e) => equalsIgnoringCase(actual, e)));
    case 'StringLike': return anyValue(values, (p) => likeMatches(p, actual));
    case 'StringNotLike': return negate(anyValue(values, (p) => likeMatches(p, actual)));
    default: return undefined;
  }
}

function unmapV4(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function ranges(condition: PolicyCondition): BlockList | null {
  let list = ipRanges.get(condition);
  if (list === undefined) {
    list = new BlockList();
    for (const value of expectedValues(condition)) {
      const parts = value.trim().split('/');
      const [address = '', bits] = parts;
      const family = isIP(address);
      // The prefix is decimal digits only: Number() read '' and ' ' as 0 (a typo'd '10.0.0.1/' matched
      // every address), '0x8' as 8, and '-0' as a -0 that aborts the process in BlockList.addSubnet.
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
      if (family === 0 || parts.length > 2 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        list = null;
        break;
      }
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    ipRanges.set(condition, list);
  }
  return list;
}

function inRanges(condition: PolicyCondition, actual: string): Tri {
  const list = ranges(condition);
  const ip = unmapV4(actual);
  const family = isIP(ip);
  if (list === null || family === 0) return undefined;
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A plain decimal as a person writes it: an optional sign, digits, an optional fraction. */
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** A decimal written without a `+`, leading zeros, trailing fraction zeros or a `-` on zero. */
function canonicalDecimal(sign: string, whole: string, fraction: string): string {
  const digits = whole.replace(/^0+(?=\d)/, '');
  const rest = fraction.replace(/0+$/, '');
  const body = rest === '' ? digits : `${digits}.${rest}`;
  return sign === '-' && body !== '0' ? `-${body}` : body;
}

/** The decimal a number's shortest text names, written out without an exponent (`1e+21`, `1e-7`). */
function plainDecimal(n: number): string {
  const text = String(n);
  const e = text.indexOf('e');
  if (e === -1) return text;
  const mantissa = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.slice(0, e))!;
  const digits = mantissa[2]! + (mantissa[3] ?? '');
  const point = mantissa[2]!.length + Number(text.slice(e + 1));
  const written = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  const [whole = '', fraction = ''] = written.split('.');
  return canonicalDecimal(mantissa[1]!, whole, fraction);
}

/**
 * A number, or text that is a plain decimal a double holds. Number() also read '0x10' as 16, '1e3' as
 * 1000, ' 12 ' as 12 and '0b1' as 1: a condition compared a number other than the one its reader sees.
 * And it rounds a decimal with more digits than a double holds ('9007199254740993', '0.10000000000000000001')
 * to a neighbour, so two different numbers compared equal (a `NumericGreaterThan` DENY lapsed). Text is
 * read only when the number's own shortest decimal is that text (`0120`, `+1.50` are 120 and 1.5); any
 * other cannot be evaluated.
 */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const parts = typeof value === 'string' ? DECIMAL.exec(value) : null;
  if (parts === null) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || plainDecimal(n) !== canonicalDecimal(parts[1]!, parts[2]!, parts[3] ?? '')) return undefined;
  return n;
}

/** A date-time without a zone, `T` or a space between date and time (GenAuth's console writes the space). */
const ZONELESS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * ISO 8601 as Date.parse reads it host-independently: a date alone (UTC), or a date-time with `Z` or an
 * offset. Date.parse also reads a date-time without a zone (in the host's time zone, so one policy
 * decided 8 hours apart on a UTC and a UTC+8 server) and any legacy text ('1' or 'foo 2' as 2001).
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3}0*)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * A date: a Date or an ISO date string. Not a number: `EpochTime` counts seconds, a Date milliseconds, so a
 * number's unit is unknown (read as milliseconds, the guard's own `EpochTime` sat in January 1970: an
 * expired ALLOW applied and a DENY from a date on never did). Compare `EpochTime` with `Numeric*`.
 */
function toTime(value: unknown, offset: string | undefined): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  // A date-time without a zone is read in the configured offset (conditions.timeZoneOffset), never the host's.
  const zoneless = offset === undefined ? null : ZONELESS.exec(value);
  const text = zoneless === null ? value : `${zoneless[1]}T${zoneless[2]}${offset}`;
  // Date.parse rolls a day the month lacks into the next ('2026-02-30' as March 2) and drops a fraction
  // finer than a millisecond ('.0009'): a date other than the one written, so neither is read.
  const date = ISO_DATE.exec(text);
  if (date === null || Number(date[3]) > daysIn(Number(date[1]), Number(date[2]))) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** Any expected value satisfies `test`; unknown if a value cannot be read. */
function anyExpected(condition: PolicyCondition, test: (expected: string) => Tri): Tri {
  return anyValue(expectedValues(condition), test);
}

/**
 * `list` holds the text `expected`; unknown if it does not but holds something other than text (a
 * context hook's `[7, 8]`): whether `7` is `'7'` is not known, and read as never, a DENY of it lapsed.
 */
function listHolds(list: readonly unknown[], expected: string): Tri {
  let other = false;
  for (const item of list) {
    if (item === expected) return true;
    if (typeof item !== 'string') other = true;
  }
  return other ? undefined : false;
}

function negate(value: Tri): Tri {
  return value === undefined ? undefined : !value;
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Text that opens like a JSON list: `[` after any spaces. */
const LIST_OPENING = /^\s*\[/;

/**
 * A JSON-encoded list (`'["alice","bob"]'`), as GenAuth's generated docs write a list (`actions`). Read
 * literally it names no one: a negated ALLOW (`StringNotEquals`) would admit the users it lists and a
 * DENY (`StringEquals`) lapse for them; read as a list, a positive ALLOW would grant more than written.
 * Neither reading is safe, so such a value cannot be evaluated. `[prod] agent`, not JSON, is a plain value.
 */
function isEncodedList(value: unknown): boolean {
  if (typeof value !== 'string' || !LIST_OPENING.test(value)) return false;
  try {
    return Array.isArray(JSON.parse(value));
  } catch {
    return false;
  }
}

/** A value as GenAuth documents it: a scalar, not a JSON-encoded list. */
function isPlainValue(value: unknown): boolean {
  return isScalar(value) && !isEncodedList(value);
}

/** A condition as GenAuth documents it: string `param` and `operator`, a plain value or a non-empty list of them as `value`. */
function readable(condition: unknown): condition is PolicyCondition {
  if (typeof condition !== 'object' || condition === null) return false;
  const { param, operator, value } = condition as Record<string, unknown>;
  if (typeof param !== 'string' || typeof operator !== 'string') return false;
  return isPlainValue(value) || (Array.isArray(value) && value.length > 0 && value.every(isPlainValue));
}

/**
 * How several conditions of one grant combine: `'all'` (AND), `'any'` (OR), or `'unknown'`, both
 * readings, answering only where they agree (true when every condition is surely true, false when
 * every one is surely false). GenAuth does not document which it means.
 */
export type ConditionCombine = 'unknown' | 'all' | 'any';

/**
 * How values are read: `timeZoneOffset` (`'+08:00'`, `'Z'`) for date-times written without a zone;
 * `combine` for several conditions (default `'unknown'`: see {@link ConditionCombine}).
 */
export interface ConditionSettings {
  readonly timeZoneOffset?: string;
  readonly combine?: ConditionCombine;
}

/**
 * Evaluates one condition: true, false, or undefined when it cannot be evaluated (an unreadable
 * condition, an unknown operator, a context key that is missing or inherited rather than set, a value
 * that cannot be read as written: see docs/conditions.md). Undefined, never a guess, wherever the answer
 * is not sure: a DENY applies on it and an ALLOW does not.
 */
export function evaluateCondition(condition: PolicyCondition, context: ConditionContext, settings?: ConditionSettings): Tri {
  // Known operators only: the prefix dispatch below looked names up in a plain object, where an
  // operator like 'Numericconstructor' or 'NumericisPrototypeOf' found Object.prototype's functions
  // (false: a DENY lapsed) and 'NumerichasOwnProperty' threw (a 500 instead of the DENY).
  if (!readable(condition) || !KNOWN_OPERATORS.has(condition.operator)) return undefined;
  const op = condition.operator;
  const actual = Object.hasOwn(context, condition.param) ? context[condition.param] : undefined;
  if (actual === undefined || actual === null) return undefined;
  // Text is compared under every reading of its value and of the context's (commas, surrounding
  // whitespace: see readings()); the other operators read no comma (a number, date, boolean or address
  // with one cannot be evaluated as written).
  if (op === 'ListContains') {
    if (!Array.isArray(actual)) return undefined;
    return everyReading(condition, trimmedForms(actual as readonly unknown[]), (values, list) => anyValue(values, (e) => listHolds(list, e)));
  }
  if (op.startsWith('String')) {
    if (typeof actual !== 'string') return undefined;
    return everyReading(condition, actualTexts(actual), (values, text) => compareText(op, text, values));
  }
  if (op.startsWith('Numeric') || op.startsWith('Date')) {
    const isDate = op.startsWith('Date');
    const compare = NUMERIC[op.slice(isDate ? 4 : 7)];
    const offset = settings?.timeZoneOffset;
    const read = isDate ? (value: unknown) => toTime(value, offset) : toNumber;
    const a = read(actual);
    if (compare === undefined || a === undefined) return undefined;
    if (op.endsWith('NotEquals')) return negate(anyExpected(condition, (e) => (read(e) === undefined ? undefined : a === read(e))));
    return anyExpected(condition, (e) => {
      const b = read(e);
      return b === undefined ? undefined : compare(a, b);
    });
  }
  if (op === 'Bool') {
    const a = toBool(actual);
    return a === undefined ? undefined : anyExpected(condition, (e) => (toBool(e) === undefined ? undefined : a === toBool(e)));
  }
  if (op === 'IpAddress' || op === 'NotIpAddress') {
    if (typeof actual !== 'string') return undefined;
    const inside = inRanges(condition, actual);
    return op === 'IpAddress' ? inside : negate(inside);
  }
  return undefined;
}

/**
 * A grant's conditions together, in three values (true, false, undefined: cannot tell), by
 * `settings.combine`:
 * - `'all'` (AND): false if any is false, else undefined if any is unknown, else true;
 * - `'any'` (OR): true if any is true, else undefined if any is unknown, else false;
 * - `'unknown'` (the default: GenAuth does not say which it means): the two readings' answer where they
 *   agree, else undefined. So true only when every condition is surely true, false only when every one
 *   is surely false: an ALLOW grants only in the first case, a DENY lapses only in the second.
 * No conditions at all hold (a grant without conditions is unconditional), whatever `combine` says.
 */
export function evaluateConditions(conditions: readonly PolicyCondition[], context: ConditionContext, settings?: ConditionSettings): Tri {
  const combine = settings?.combine ?? 'unknown';
  let sawTrue = false;
  let sawFalse = false;
  let sawUnknown = false;
  for (const condition of conditions) {
    const result = evaluateCondition(condition, context, settings);
    if (result === true) sawTrue = true;
    else if (result === false) sawFalse = true;
    else sawUnknown = true;
    if (combine === 'all' ? sawFalse : combine === 'any' ? sawTrue : sawUnknown || (sawTrue && sawFalse)) break;
  }
  if (combine === 'all') return sawFalse ? false : sawUnknown ? undefined : true;
  if (combine === 'any') return sawTrue || conditions.length === 0 ? true : sawUnknown ? undefined : false;
  if (sawUnknown || (sawTrue && sawFalse)) return undefined;
  return !sawFalse;
}
