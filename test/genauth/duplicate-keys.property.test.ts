// hasDuplicateKey against JSON.parse: a text JSON.stringify wrote never names a key twice; the same
// text with one object's key written again (raw, escaped, beside nested objects holding the same
// names) always does. Keys are compared as JSON.parse decodes them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasDuplicateKey } from '../../src/genauth/duplicate-keys.js';

const RUNS = { numRuns: 500 };
/** Keys and strings with the characters that could confuse a scanner: quotes, backslashes, braces, commas. */
const tricky = fc.string({ unit: fc.constantFrom('a', 'b', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\u00e9', '\u2028'), maxLength: 6 });
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.constantFrom(null, true, false),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('node'), { maxKeys: 20 }),
  ),
})).node;

/** `\uXXXX` for every character of `key`: the same key, spelt so no raw comparison finds it. */
const escaped = (key: string) => [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

describe('hasDuplicateKey', () => {
  it('is false for anything JSON.stringify writes, spaced or not', () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, spaced) => {
        expect(hasDuplicateKey(spaced ? JSON.stringify(v, null, 2) : JSON.stringify(v))).toBe(false);
      }),
      RUNS,
    );
  });

  it("is true once an object's key is written again, raw or escaped, wherever the object sits", () => {
    fc.assert(
      fc.property(fc.dictionary(tricky, value, { minKeys: 1, maxKeys: 20 }), value, fc.nat(), fc.boolean(), fc.boolean(), (object, other, pick, escape, outer) => {
        const keys = Object.keys(object);
        const key = keys[pick % keys.length] as string;
        const again = `"${escape ? escaped(key) : JSON.stringify(key).slice(1, -1)}":${JSON.stringify(other) ?? 'null'}`;
        const text = `${JSON.stringify(object).slice(0, -1)},${again}}`;
        expect(JSON.parse(text)).toBeTypeOf('object'); // still JSON: only its meaning is ambiguous
        expect(hasDuplicateKey(outer ? `{"list":[${JSON.stringify(object)},${text}],"k":{"k":1}}` : text)).toBe(true);
      }),
      RUNS,
    );
  });

  it('never throws on text that is not JSON (a long answer is scanned before it is parsed)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', 'a', 'u') })), (text) => {
        expect(typeof hasDuplicateKey(text)).toBe('boolean');
      }),
      RUNS,
    );
    expect(hasDuplicateKey('{"\\x":1,"\\x":2')).toBe(true); // a bad escape, compared as written
  });

  it('finds a key written again in an object of many keys (held in a Set past a few)', () => {
    const many = `{${Array.from({ length: 100 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(hasDuplicateKey(many)).toBe(false);
    expect(hasDuplicateKey(`${many.slice(0, -1)},"k7":0}`)).toBe(true);
    expect(hasDuplicateKey(`${many.slice(0, -1)},"k99":0}`)).toBe(true);
  });
});
