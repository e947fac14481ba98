// Property tests of condition evaluation in the DENY direction: an ALLOW applies only where its condition
// is surely true, a DENY lapses only where it is surely false. Whatever shape a condition has, a DENY is
// never weaker for a condition the guard cannot evaluate, and where the guard does answer true or false,
// that answer is the one every plausible reading of the condition gives (checked against oracles written
// apart from src/: exact decimals, a calendar from Date.UTC, regular-expression wildcards).
// test/policy/decide.property.test.ts holds the decision itself to its rules for any entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/wire.js';
import { CONDITION_OPERATORS, evaluateCondition, evaluateConditions, type ConditionContext } from '../../src/policy/conditions.js';
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

/** Alice's entries: `reports:Read` allowed outright, then `extra` (with `condition` set). */
function decided(extra: Partial<AuthorizedResource> & { effect: 'ALLOW' | 'DENY' }, conditions: unknown[], ctx: Record<string, unknown>, alone = false) {
  const base: AuthorizedResource[] = alone ? [] : [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' } as AuthorizedResource];
  const entries = [...base, { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], ...extra, condition: conditions } as unknown as AuthorizedResource];
  const check: ConditionCheck = (grant) => evaluateConditions(grant.conditions, ctx as ConditionContext);
  return decide(indexGrants(entries), 'reports', normalizeRequirement('reports:Read'), { conditions: check });
}

describe('conditions, DENY direction (properties)', () => {
  it('a DENY applies unless its conditions are surely false; an ALLOW only if they are surely true', () => {
    fc.assert(
      fc.property(fc.array(condition, { minLength: 1, maxLength: 3 }), context, (conditions, ctx) => {
        const result = evaluateConditions(conditions as never, ctx as ConditionContext);
        expect([true, false, undefined]).toContain(result);
        // A list GenAuth sends that normalization cannot read (a non-object item) is applied as a DENY
        // without conditions, and grants nothing as an ALLOW.
        const readable = conditions.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c));
        expect(decided({ effect: 'DENY' }, conditions, ctx).allowed).toBe(readable && result === false);
        expect(decided({ effect: 'ALLOW' }, conditions, ctx, true).allowed).toBe(readable && result === true);
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

  it('a String* or ListContains answer with a comma in the value is every reading\'s answer (as written, split, split and trimmed)', () => {
    const text = fc.stringMatching(/^[ab*?, ]{0,7}$/);
    fc.assert(
      fc.property(fc.constantFrom(...CONDITION_OPERATORS.filter((o) => o.startsWith('String')), 'ListContains'), text, text, fc.array(text, { maxLength: 3 }), (op, v, actual, list) => {
        const ctx = { S: op === 'ListContains' ? list : actual };
        const result = evaluateCondition({ operator: op, param: 'S', value: v }, ctx);
        if (result === undefined) return;
        // (A value without a comma has one reading, as written: spaces around it are not trimmed.)
        const readings = v.includes(',') ? [[v], v.split(','), v.split(',').map((part) => part.trim())] : [[v]];
        for (const reading of readings) {
          // Each reading as a list of values without commas is read one way only.
          const parts = reading.filter((part) => !part.includes(','));
          if (parts.length !== reading.length) continue;
          expect(evaluateCondition({ operator: op, param: 'S', value: parts }, ctx), JSON.stringify(reading)).toBe(result);
        }
      }),
      { numRuns: 1000 },
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
