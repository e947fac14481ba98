/**
 * Property tests of path canonicalization and case folding (fast-check): canonical forms are fixed
 * points, and no spelling of a denied path that some router dispatches to it escapes the DENY when an
 * ALLOW on a wildcard covers it, under every router's folding. Seeds are fixed: a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/wire.js';
import { matchApi } from '../../src/policy/api-match.js';
import type { RouterRules } from '../../src/policy/api-options.js';
import { foldSegment, normalizeApiTarget } from '../../src/policy/api-path.js';
import { indexGrants } from '../../src/policy/grants.js';

const SEED = 0x16;

/** Every router rule set an adapter can report, and the options that only make ALLOW stricter. */
const ROUTERS: RouterRules[] = (['none', 'ascii', 'unicode'] as const).flatMap((caseFold) => [
  { caseFold, ignoreTrailingSlash: true },
  { caseFold, ignoreTrailingSlash: false },
]);
const OPTIONS = [{}, { caseSensitive: true }, { strict: true }, { caseSensitive: true, strict: true }];

/** Characters that may stay raw in a request segment (the rest must be percent-encoded). */
const RAW_OK = /^[A-Za-z0-9\-._~!$&'()*+,=:@]$/;

/** Each lower-case form -> the characters whose `toLowerCase()` it is (`k` -> K, U+212A KELVIN SIGN). */
const PREIMAGES = new Map<string, string[]>();
for (let code = 0; code < 0x10000; code++) {
  if (code >= 0xd800 && code <= 0xdfff) continue;
  const char = String.fromCharCode(code);
  const lower = char.toLowerCase();
  if (lower !== char) PREIMAGES.set(lower, [...(PREIMAGES.get(lower) ?? []), char]);
}
/** Lower-case forms longer than one code point (`i` + U+0307 from U+0130), matched first. */
const MULTI = [...PREIMAGES.keys()].filter((key) => [...key].length > 1);

/** Splits a lower-cased word into units a case variant may replace one by one. */
function units(lower: string): string[] {
  const out: string[] = [];
  let rest = lower;
  while (rest !== '') {
    const multi = MULTI.find((key) => rest.startsWith(key));
    const unit = multi ?? String.fromCodePoint(rest.codePointAt(0) as number);
    out.push(unit);
    rest = rest.slice(unit.length);
  }
  return out;
}

/** Words with letters whose case folding is not ASCII: KELVIN, final sigma, dotted I, OHM, ß, DŽ. */
const WORDS = ['keys', 'Admin', 'api', 'v1', 'café', 'ΟΔΟΣ', 'straße', 'İstanbul', 'Ωmega', 'Ångström', 'Ǆungla', 'a-b_c.d~e', "it's", 'x:y@z', 'a+b=c,d'];

/** One character written as a request would carry it: raw when allowed, else UTF-8 escapes in any hex case. */
function spell(char: string): fc.Arbitrary<string> {
  const bytes = [...Buffer.from(char, 'utf8')];
  const escaped = fc
    .array(fc.boolean(), { minLength: bytes.length * 2, maxLength: bytes.length * 2 })
    .map((upper) => bytes.map((b, i) => `%${b.toString(16).padStart(2, '0').split('').map((h, j) => (upper[i * 2 + j] ? h.toUpperCase() : h)).join('')}`).join(''));
  return RAW_OK.test(char) ? fc.oneof(fc.constant(char), escaped) : escaped;
}

/** A case variant of `word` (any mix of the characters that lower-case alike), spelled on the wire. */
function variantOf(word: string): fc.Arbitrary<{ text: string; wire: string }> {
  return fc
    .tuple(...units(word.toLowerCase()).map((unit) => fc.constantFrom(unit, ...(PREIMAGES.get(unit) ?? []))))
    .chain((chosen) => {
      const text = chosen.join('');
      return fc.tuple(...[...text].map(spell)).map((parts) => ({ text, wire: parts.join('') }));
    });
}

function api(code: string, apiIdentifier: string, effect: 'ALLOW' | 'DENY' = 'ALLOW'): AuthorizedResource {
  return { resourceCode: code, resourceType: 'API', apiIdentifier, actions: ['*'], effect };
}

describe('canonicalization', () => {
  /** Raw segments: printable ASCII and escapes of any byte, so invalid targets come up too. */
  const rawSegment = fc
    .array(
      fc.oneof(
        fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,=:@;"<>[]^`{|}\\ #?%'.split('')),
        fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
        fc.constantFrom('%E2%84%AA', '%C3%A9', '%CE%A3', '%C4%B0', '%e2%84%aa'),
      ),
      { minLength: 0, maxLength: 8 },
    )
    .map((parts) => parts.join(''));
  const target = fc
    .tuple(fc.array(rawSegment, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.constantFrom('', '?q=1', '?x=/../a'))
    .map(([segments, slash, query]) => `/${segments.join('/')}${slash ? '/' : ''}${query}`);

  it('is idempotent: a canonical path normalizes to itself, with the same segments', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const first = normalizeApiTarget(raw);
        if (!first.ok) return;
        const second = normalizeApiTarget(first.path);
        expect(second).toMatchObject({ ok: true, path: first.path, segments: first.segments, trailingSlash: first.trailingSlash });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('the Unicode fold key (ASCII-only when not UTF-8) is a fixed point of the fold, and pure ASCII', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const path = normalizeApiTarget(raw);
        if (!path.ok) return;
        for (const key of path.folded ?? []) {
          expect(foldSegment(key, 'unicode')).toBe(key);
          expect(key).toMatch(/^[\x21-\x7e]*$/);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('no spelling a router dispatches to a denied path escapes the DENY', () => {
  const path = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 });
  const spelled = path.chain((words) =>
    fc.record({
      words: fc.constant(words),
      variants: fc.tuple(...words.map(variantOf)),
      deny: fc.constantFrom('exact', 'slash', 'wildcard'),
      trailingSlash: fc.boolean(),
      query: fc.constantFrom('', '?a=1', '?next=/../x'),
      absolute: fc.boolean(),
      // Damage that must be refused (400), never read leniently: a doubled slash or a dot segment.
      damage: fc.constantFrom('none', 'none', 'none', 'double-slash', 'dot', 'dot-dot', 'encoded-dot-dot'),
      at: fc.nat(),
    }),
  );

  it('under every router folding and option set: denied, or refused as invalid', () => {
    fc.assert(
      fc.property(spelled, ({ words, variants, deny, trailingSlash, query, absolute, damage, at }) => {
        // Only spellings that lower-case to the denied path: what find-my-way would dispatch to its route.
        fc.pre(variants.every((v, i) => v.text.toLowerCase() === (words[i] as string).toLowerCase()));
        const denied = `/${words.join('/')}`;
        const pattern = deny === 'exact' ? denied : deny === 'slash' ? `${denied}/` : `${denied}/*`;
        const grants = indexGrants([api('all', '/*'), api('deny', pattern, 'DENY')]);
        const segments = variants.map((v) => v.wire);
        const cut = at % segments.length; // before a segment: at the end an empty one is a trailing slash
        const insert = { 'double-slash': [''], dot: ['.'], 'dot-dot': ['x', '..'], 'encoded-dot-dot': ['x', '%2E%2e'], none: [] }[damage];
        segments.splice(cut, 0, ...insert);
        const wire = `${absolute ? 'http://h.example' : ''}/${segments.join('/')}${trailingSlash ? '/' : ''}${query}`;
        for (const router of ROUTERS) {
          for (const options of OPTIONS) {
            const result = matchApi(grants, 'GET', wire, { ...options, router });
            expect(result.reason, `${wire} (${JSON.stringify(router)}, ${JSON.stringify(options)}) vs DENY ${pattern}`).toBe(
              damage === 'none' ? 'denied' : 'invalid_target',
            );
          }
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('an ALLOW matches no wider than the router folds, and no escaped spelling', () => {
  const spelled = fc.constantFrom(...WORDS).chain((word) => fc.record({ word: fc.constant(word), variant: variantOf(word) }));

  it('by default, on every router: only the exact characters', () => {
    fc.assert(
      fc.property(spelled, ({ word, variant }) => {
        const grants = indexGrants([api('exact', `/api/${word}`)]);
        const wire = `/api/${variant.wire}`;
        const escaped = /%[0-7]|%[0-9A-F]?[a-f]/.test(variant.wire);
        for (const caseFold of ['none', 'ascii', 'unicode'] as const) {
          expect(matchApi(grants, 'GET', wire, { router: { caseFold, ignoreTrailingSlash: true } }).allowed).toBe(!escaped && variant.text === word);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('with caseSensitive: false, case-sensitive routers: only the exact characters; ASCII-folding ones: only ASCII case changes', () => {
    fc.assert(
      fc.property(spelled, ({ word, variant }) => {
        const grants = indexGrants([api('exact', `/api/${word}`)]);
        const wire = `/api/${variant.wire}`;
        const allowedUnder = (caseFold: RouterRules['caseFold']) =>
          matchApi(grants, 'GET', wire, { router: { caseFold, ignoreTrailingSlash: true }, caseSensitive: false }).allowed;
        // An ASCII character sent as an escape (`%61`): Express and @koa/router match the raw target and
        // route it elsewhere, find-my-way keeps some (`%3A`) encoded: no ALLOW literal matches it.
        // So is an escape in lower-case hex, which a case-sensitive Express route (`%C3%A9`) is not.
        const escaped = /%[0-7]|%[0-9A-F]?[a-f]/.test(variant.wire);
        expect(allowedUnder('none')).toBe(!escaped && variant.text === word);
        const asciiOnly = variant.text.length === word.length && [...variant.text].every((c, i) => c === word[i] || (c.charCodeAt(0) < 128 && c.toLowerCase() === (word[i] as string).toLowerCase()));
        expect(allowedUnder('ascii')).toBe(!escaped && asciiOnly);
        // find-my-way lower-cases the whole path: the variant is the same route, and the ALLOW says so.
        expect(allowedUnder('unicode')).toBe(!escaped && variant.text.toLowerCase() === word.toLowerCase());
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
