// Property tests of condition evaluation in the DENY direction: an ALLOW applies only where its condition
// is surely true, a DENY lapses only where it is surely false. Whatever shape a condition has, a DENY is
// never weaker for a condition the guard cannot evaluate, and where the guard does answer true or false,
// that answer is the one every plausible reading of the condition gives (checked against oracles written
// apart from src/: exact decimals, a calendar from Date.UTC, regular-expression wildcards, commas and
// surrounding whitespace trimmed the JavaScript and Java ways, Java's equalsIgnoreCase from Java 17's own
// case table, and AND/OR in three values for several conditions).
// test/policy/decide.property.test.ts holds the decision itself to its rules for any entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/wire.js';
import { CONDITION_OPERATORS, evaluateCondition, evaluateConditions, type ConditionContext, type ConditionSettings } from '../../src/policy/conditions.js';
import { decide, normalizeRequirement, type ConditionCheck } from '../../src/policy/decide.js';
import { indexGrants } from '../../src/policy/grants.js';

const RUNS = { numRuns: 400 };
const PARAMS = ['UserId', 'UserAgent', 'Age', 'CurrentTime', 'Present', 'SourceIp', 'Apps', 'Missing', 'constructor', '__proto__'];

// Operators as GenAuth may send them: the evaluated ones, AWS-style forms the guard does not read, junk.
const operator = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CONDITION_OPERATORS) },
  { weight: 1, arbitrary: fc.constantFrom('StringEqualsIfExists', 'ForAnyValue:StringEquals', 'ForAllValues:StringLike', 'Null', 'stringequals', 'ArnLike', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
// Scalars that exercise each reader: commas, wildcards, case, spaces, long decimals, dates, addresses, JSON lists.
const scalar = fc.oneof(
  fc.constantFrom(
    'alice', 'ALICE', ' alice', 'alice,bob', 'bob, alice', 'a*', '*,*', 'a?c', '', ',', '["alice"]', '[x]',
    '120', '0120', '+120.0', '9007199254740993', '0.10000000000000000001', '1e3', '0x78',
    '2026-06-01', '2026-02-30', '2026-06-01T12:00:00Z', '2026-06-01T12:00:00.0009Z', '2026-06-01 12:00:00',
    'true', 'false', 'True', '10.0.0.0/8', '10.1.2.3', '::ffff:10.1.2.3', '10.0.0.0/8,192.168.0.0/16', 'app1', 'app1,app9',
  ),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
);
const json = fc.jsonValue({ maxDepth: 2 });
const value = fc.oneof({ weight: 5, arbitrary: scalar }, { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }) }, { weight: 1, arbitrary: json });
const condition = fc.oneof(
  { weight: 8, arbitrary: fc.record({ param: fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 4 })), operator, value }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: json },
);

// Context values a guard or a conditions.context hook may supply, readable or not.
const unreadable = fc.constantFrom<unknown>(null, undefined, {}, Number.NaN, Number.POSITIVE_INFINITY, 5n, Symbol('x'), new String('alice'), new Number(120), () => 'alice');
const contextValue = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 2, arbitrary: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(scalar, unreadable), { maxLength: 3 }) },
  { weight: 1, arbitrary: unreadable },
);
const context = fc.dictionary(fc.constantFrom(...PARAMS), contextValue, { maxKeys: 6 }) as fc.Arbitrary<Record<string, unknown>>;

/** Java's Character.isWhitespace, as Java 17 answers it for U+0000 to U+FFFF. */
const JAVA_WHITESPACE = new Set([0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x205f, 0x3000]);
/** `text` without the leading and trailing units `drop` names. */
function trimWhere(text: string, drop: (unit: number) => boolean): string {
  let start = 0;
  let end = text.length;
  while (start < end && drop(text.charCodeAt(start))) start++;
  while (end > start && drop(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
/** A value as written, and trimmed as JavaScript's trim(), Java's trim() (units up to U+0020) and strip() do. */
const TRIMS: ReadonlyArray<(text: string) => string> = [(t) => t, (t) => t.trim(), (t) => trimWhere(t, (u) => u <= 0x20), (t) => trimWhere(t, (u) => JAVA_WHITESPACE.has(u))];
/** `*` and `?` wildcards as a regular expression (by UTF-16 unit). */
const globRegExp = (glob: string) => new RegExp(`^${[...glob].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('')}$`);

/** Alice's entries: `reports:Read` allowed outright, then `extra` (with `condition` set). */
function decided(extra: Partial<AuthorizedResource> & { effect: 'ALLOW' | 'DENY' }, conditions: unknown[], ctx: Record<string, unknown>, alone = false, settings?: ConditionSettings) {
  const base: AuthorizedResource[] = alone ? [] : [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' } as AuthorizedResource];
  const entries = [...base, { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], ...extra, condition: conditions } as unknown as AuthorizedResource];
  const check: ConditionCheck = (grant) => evaluateConditions(grant.conditions, ctx as ConditionContext, settings);
  return decide(indexGrants(entries), 'reports', normalizeRequirement('reports:Read'), { conditions: check });
}

describe('conditions, DENY direction (properties)', () => {
  it('a DENY applies unless its conditions are surely false; an ALLOW only if they are surely true', () => {
    fc.assert(
      fc.property(fc.array(condition, { minLength: 1, maxLength: 3 }), context, fc.constantFrom<ConditionSettings>({}, { combine: 'unknown' }, { combine: 'all' }, { combine: 'any' }), (conditions, ctx, settings) => {
        const result = evaluateConditions(conditions as never, ctx as ConditionContext, settings);
        expect([true, false, undefined]).toContain(result);
        // A list GenAuth sends that normalization cannot read (a non-object item) is applied as a DENY
        // without conditions, and grants nothing as an ALLOW.
        const readable = conditions.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c));
        expect(decided({ effect: 'DENY' }, conditions, ctx, false, settings).allowed).toBe(readable && result === false);
        expect(decided({ effect: 'ALLOW' }, conditions, ctx, true, settings).allowed).toBe(readable && result === true);
        // Whatever the setting: an ALLOW only where every condition is surely true (as with 'all'); by
        // default a DENY lapses only where every condition is surely false.
        const each = (conditions as never[]).map((c) => evaluateCondition(c, ctx as ConditionContext));
        if (result === true && settings.combine !== 'any') expect(each.every((r) => r === true)).toBe(true);
        if (result === false && settings.combine !== 'all') expect(each.every((r) => r === false)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a DENY is never weaker when its condition is unevaluable: a missing key, or a value nothing reads', () => {
    fc.assert(
      fc.property(condition, context, unreadable, fc.boolean(), (c, ctx, junk, drop) => {
        const param = typeof c === 'object' && c !== null && typeof (c as { param?: unknown }).param === 'string' ? (c as { param: string }).param : 'UserId';
        const blind = { ...ctx };
        if (drop) delete blind[param];
        else Object.defineProperty(blind, param, { value: junk, enumerable: true, configurable: true, writable: true });
        expect(evaluateCondition(c as never, blind as ConditionContext)).toBeUndefined();
        expect(decided({ effect: 'DENY' }, [c], blind).allowed).toBe(false);
        // Beside any other condition, the unevaluable one never lets the DENY lapse on its own: only a false one does.
        for (const other of [{ param: 'Other', operator: 'StringEquals', value: 'x' }, { param: 'Unset', operator: 'Bool', value: 'true' }]) {
          const both = evaluateConditions([c as never, other], { ...blind, Other: 'x' } as ConditionContext);
          expect(both).toBeUndefined();
        }
      }),
      RUNS,
    );
  });

  it('an operator the guard does not evaluate (IfExists, ForAnyValue/ForAllValues, Null, any other) is unknown, whatever the context', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('StringEqualsIfExists', 'ForAnyValue:StringEquals', 'ForAllValues:StringLike', 'Null', 'stringlike', 'BoolIfExists'), fc.string({ maxLength: 10 })), fc.constantFrom(...PARAMS), value, context, (op, param, v, ctx) => {
        fc.pre(!(CONDITION_OPERATORS as readonly string[]).includes(op));
        expect(evaluateCondition({ operator: op, param, value: v as string }, ctx as ConditionContext)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('a String* or ListContains answer is every reading\'s answer where they agree, else unknown (commas and surrounding whitespace, in the value and the context)', () => {
    // Written apart from src/: each reading of the value (as written or split at commas; each part as
    // written, JavaScript-trimmed, Java-trimmed or Java-stripped) against each reading of the context
    // value (as written or trimmed the same ways), compared the plain way.
    const char = fc.constantFrom('a', 'b', 'A', '*', '?', ',', ' ', '\t', '\u00a0', '\u001c', '\u0001', '\ufeff');
    const text = fc.array(char, { maxLength: 7 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(fc.constantFrom(...CONDITION_OPERATORS.filter((o) => o.startsWith('String')), 'ListContains'), text, text, fc.array(text, { maxLength: 3 }), (op, v, actual, list) => {
        const ctx = { S: op === 'ListContains' ? list : actual };
        const result = evaluateCondition({ operator: op, param: 'S', value: v }, ctx);
        const lists = v.includes(',') ? [[v], v.split(',')] : [[v]];
        const valueReadings = lists.flatMap((values) => TRIMS.map((trim) => values.map(trim)));
        const answers = new Set<boolean>();
        for (const values of valueReadings) {
          for (const trim of TRIMS) {
            if (op === 'ListContains') {
              answers.add(values.some((e) => list.map(trim).includes(e)));
              continue;
            }
            const a = trim(actual);
            const hit = (e: string) => (op.includes('Like') ? globRegExp(e).test(a) : op.includes('IgnoreCase') ? e.toLowerCase() === a.toLowerCase() : e === a);
            const any = values.some(hit);
            answers.add(op.includes('Not') ? !any : any);
          }
        }
        expect(result, JSON.stringify({ op, v, actual, list })).toBe(answers.size === 1 ? [...answers][0] : undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('IgnoreCase answers as JavaScript\'s toLowerCase() and Java\'s equalsIgnoreCase (per unit, per code point) all do', () => {
    // Java's Character.toUpperCase/toLowerCase for these characters, as Java 17 gives them: [char, upper, lower].
    const JAVA = new Map<number, readonly [number, number]>(
      [
        [0x41, 0x41, 0x61], [0x49, 0x49, 0x69], [0x4b, 0x4b, 0x6b], [0x53, 0x53, 0x73], [0x61, 0x41, 0x61], [0x69, 0x49, 0x69],
        [0x6b, 0x4b, 0x6b], [0x73, 0x53, 0x73], [0xb5, 0x39c, 0xb5], [0xdf, 0xdf, 0xdf], [0x130, 0x130, 0x69], [0x131, 0x49, 0x131],
        [0x17f, 0x53, 0x17f], [0x1c4, 0x1c4, 0x1c6], [0x1c5, 0x1c4, 0x1c6], [0x1c6, 0x1c4, 0x1c6], [0x307, 0x307, 0x307],
        [0x345, 0x399, 0x345], [0x398, 0x398, 0x3b8], [0x399, 0x399, 0x3b9], [0x39c, 0x39c, 0x3bc], [0x3a3, 0x3a3, 0x3c3],
        [0x3b8, 0x398, 0x3b8], [0x3b9, 0x399, 0x3b9], [0x3bc, 0x39c, 0x3bc], [0x3c2, 0x3a3, 0x3c2], [0x3c3, 0x3a3, 0x3c3],
        [0x3d1, 0x398, 0x3d1], [0x1e9e, 0x1e9e, 0xdf], [0x1fb3, 0x1fbc, 0x1fb3], [0x1fbc, 0x1fbc, 0x1fb3], [0x1fbe, 0x399, 0x1fbe],
        [0x212a, 0x212a, 0x6b], [0x10400, 0x10400, 0x10428], [0x10428, 0x10400, 0x10428],
      ].map(([c, u, l]) => [c!, [u!, l!] as const]),
    );
    const upper = (c: number) => JAVA.get(c)?.[0] ?? c;
    const lower = (c: number) => JAVA.get(c)?.[1] ?? c;
    const same = (c1: number, c2: number) => c1 === c2 || upper(c1) === upper(c2) || lower(upper(c1)) === lower(upper(c2));
    const units = (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
    const points = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
    const java = (a: string, b: string, split: (s: string) => number[]) => {
      if (a.length !== b.length) return false;
      const [x, y] = [split(a), split(b)];
      return x.length === y.length && x.every((c, i) => same(c, y[i]!));
    };
    const char = fc.constantFrom(...[...JAVA.keys()].map((c) => String.fromCodePoint(c)), 'i\u0307', 'ff');
    const text = fc.array(char, { maxLength: 4 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, text, fc.boolean(), (v, actual, negated) => {
        const result = evaluateCondition({ operator: negated ? 'StringNotEqualsIgnoreCase' : 'StringEqualsIgnoreCase', param: 'S', value: v }, { S: actual });
        const readings = new Set([v.toLowerCase() === actual.toLowerCase(), java(v, actual, units), java(v, actual, points)]);
        const equal = readings.size === 1 ? [...readings][0] : undefined;
        expect(result, JSON.stringify([v, actual])).toBe(equal === undefined ? undefined : negated ? !equal : equal);
      }),
      { numRuns: 2000 },
    );
  });

  it('several conditions: all (AND, Kleene), any (OR, Kleene), unknown (their answer where they agree)', () => {
    fc.assert(
      fc.property(fc.array(condition, { maxLength: 4 }), context, (conditions, ctx) => {
        const each = conditions.map((c) => evaluateCondition(c as never, ctx as ConditionContext));
        const and = each.includes(false) ? false : each.includes(undefined) ? undefined : true;
        const or = conditions.length === 0 ? true : each.includes(true) ? true : each.includes(undefined) ? undefined : false;
        expect(evaluateConditions(conditions as never, ctx as ConditionContext, { combine: 'all' })).toBe(and);
        expect(evaluateConditions(conditions as never, ctx as ConditionContext, { combine: 'any' })).toBe(or);
        const agreed = and === or ? and : undefined;
        expect(evaluateConditions(conditions as never, ctx as ConditionContext, { combine: 'unknown' })).toBe(agreed);
        expect(evaluateConditions(conditions as never, ctx as ConditionContext)).toBe(agreed);
      }),
      RUNS,
    );
  });

  it('StringLike answers as wildcards read by UTF-16 unit and by character both do', () => {
    const char = fc.constantFrom('a', 'b', '\u00e9', '\u{1F600}', '\u{1F451}');
    const text = fc.array(char, { maxLength: 5 }).map((chars) => chars.join(''));
    const pattern = fc.array(fc.oneof(char, fc.constantFrom('*', '?')), { maxLength: 5 }).map((chars) => chars.join(''));
    /** Wildcards as a regular expression, `?` as `unit` (one UTF-16 unit) or as one character. */
    const oracle = (p: string, t: string, unit: boolean) => {
      const body = [...p].map((c) => (c === '*' ? '.*' : c === '?' ? (unit ? '[\\s\\S]' : '.') : c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('');
      return new RegExp(`^${body}$`, unit ? 's' : 'su').test(t);
    };
    fc.assert(
      fc.property(pattern, text, fc.boolean(), (p, t, negated) => {
        const result = evaluateCondition({ operator: negated ? 'StringNotLike' : 'StringLike', param: 'S', value: p }, { S: t });
        const byUnit = oracle(p, t, true);
        const byChar = oracle(p, t, false);
        if (byUnit === byChar) expect(result).toBe(negated ? !byUnit : byUnit);
        else expect(result).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('Numeric* answers as exact decimals compare (never a neighbour a double rounded to)', () => {
    const decimal = fc
      .tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^\d{1,20}$/), fc.option(fc.stringMatching(/^\d{1,20}$/), { nil: undefined }))
      .map(([sign, whole, fraction]) => `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}`);
    /** `text` as a fraction of BigInts, scaled to 40 decimal places. */
    const exact = (text: string) => {
      const [, sign, whole, fraction = ''] = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text)!;
      const scaled = BigInt(whole! + fraction.padEnd(40, '0'));
      return sign === '-' ? -scaled : scaled;
    };
    const truth: Record<string, (a: bigint, b: bigint) => boolean> = {
      NumericEquals: (a, b) => a === b,
      NumericNotEquals: (a, b) => a !== b,
      NumericLessThan: (a, b) => a < b,
      NumericLessThanEquals: (a, b) => a <= b,
      NumericGreaterThan: (a, b) => a > b,
      NumericGreaterThanEquals: (a, b) => a >= b,
    };
    // Near neighbours too: the same digits with one more at the end, or the last one changed.
    const pair = decimal.chain((a) => fc.tuple(fc.constant(a), fc.oneof(decimal, fc.constantFrom(`${a}1`, a.includes('.') ? `${a}0001` : `${a}.0000000000000000001`, a.replace(/\d$/, (d) => String((Number(d) + 1) % 10))))));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(truth)), pair, fc.boolean(), (op, [actual, expected], asNumber) => {
        const a = asNumber ? Number(actual) : actual;
        const result = evaluateCondition({ operator: op, param: 'N', value: expected }, { N: a });
        if (result === undefined) return;
        // A number in the context is the decimal its shortest text names.
        const actualText = asNumber ? String(a) : actual;
        if (!/^[+-]?\d+(?:\.\d+)?$/.test(actualText)) throw new Error(`read ${actualText}, which is not a plain decimal`);
        expect(result).toBe(truth[op]!(exact(actualText), exact(expected)));
      }),
      { numRuns: 2000 },
    );
  });

  it('Date* answers as the calendar and exact times compare', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const written = fc
      .record({
        year: fc.integer({ min: 1999, max: 2031 }),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 31 }),
        time: fc.option(fc.record({ h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), fraction: fc.stringMatching(/^\d{0,6}$/) }), { nil: undefined }),
      })
      .map(({ year, month, day, time }) => {
        const date = `${year}-${two(month)}-${two(day)}`;
        const text = time === undefined ? date : `${date}T${two(time.h)}:${two(time.m)}:${two(time.s)}${time.fraction === '' ? '' : `.${time.fraction}`}Z`;
        const valid = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
        // In nanoseconds, with the fraction's every digit.
        const ns = BigInt(Date.UTC(year, month - 1, day, time?.h ?? 0, time?.m ?? 0, time?.s ?? 0)) * 1_000_000n + BigInt((time?.fraction ?? '').padEnd(9, '0').slice(0, 9) || '0');
        const sub = (time?.fraction ?? '').length > 9;
        return { text, valid, ns, sub };
      });
    const truth: Record<string, (a: bigint, b: bigint) => boolean> = {
      DateEquals: (a, b) => a === b,
      DateNotEquals: (a, b) => a !== b,
      DateLessThan: (a, b) => a < b,
      DateLessThanEquals: (a, b) => a <= b,
      DateGreaterThan: (a, b) => a > b,
      DateGreaterThanEquals: (a, b) => a >= b,
    };
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(truth)), written, fc.oneof(written.filter((w) => w.valid).map((w) => new Date(Number(w.ns / 1_000_000n))), fc.date({ noInvalidDate: true, min: new Date('1999-01-01T00:00:00Z'), max: new Date('2032-01-01T00:00:00Z') })), (op, expected, actual) => {
        const result = evaluateCondition({ operator: op, param: 'T', value: expected.text }, { T: actual });
        if (!expected.valid) expect(result, expected.text).toBeUndefined();
        if (result === undefined) return;
        expect(result, expected.text).toBe(truth[op]!(BigInt(actual.getTime()) * 1_000_000n, expected.ns));
      }),
      { numRuns: 2000 },
    );
  });

  it('ListContains answers as the list compared strictly and compared as text both do', () => {
    const item = fc.oneof(fc.constantFrom('1', '7', 'a', 'true'), fc.constantFrom<unknown>(1, 7, true, null));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 4 }), fc.constantFrom('1', '7', 'a', 'true', '1,7'), (list, v) => {
        const result = evaluateCondition({ operator: 'ListContains', param: 'L', value: v }, { L: list as never });
        if (result === undefined) return;
        for (const values of [[v], v.split(',')]) {
          expect(result).toBe(values.some((e) => list.includes(e)));
          expect(result).toBe(values.some((e) => list.map(String).includes(e)));
        }
      }),
      RUNS,
    );
  });
});
