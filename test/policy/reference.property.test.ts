// decide() against a plain reference written from the documented rules (docs/conditions.md, "How
// matching works"; README, "How decisions work"), on random grant lists with DENYs, wildcards, odd
// effects, types, action spellings and conditions under a key the guard does not read: the lazy index, the compact one (a cached set), and the
// remembered decision (one memo asked many questions, as a set shared by users is) must all agree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, decideRemembered, normalizeRequirement, type DecisionMemo, type NormalizedRequirement } from '../../src/policy/decide.js';
import { grantCoversAction } from '../../src/policy/actions.js';
import { heldGrants, indexGrants, indexGrantsCompact } from '../../src/policy/grants.js';
import { normalizeGrant } from '../../src/policy/normalize-grant.js';
import type { AuthorizedResource, ResourceType } from '../../src/wire.js';

const CODES = ['ecs:1', 'ecs:10', 'ECS:1', 'ecs', 'ecs:*', 'ecs:1:*', '*', '*:*', '*:*:*', 'book', 'book:*', ':*', 'ecs:1 ', 'ecs:*:x', '*:1', 'ecs:*:*', 'e*:1', 'ecs:1*', '*:x:*', ' ecs:1', 'ecs:10,ecs:1', 'book, ecs:*'];
const ACTIONS = ['ecs:Start', 'ecs:start', 'ECS:START', 'Start', 'start', 'ecs:*', 'Ecs:*', '*', '*:*', 'book:read', 'read', 'Read', 'book:*', '', 'ecs:Stop', 'book:*:read', '*:read', 'book:*:*', 'ecs:*:Start', 'a*b', ' ecs:Start', 'ecs:Stop,read', 'ecs:St*', ' ', 'e*:*'];
const ASKED = ['ecs:Start', 'ecs:start', 'Start', 'ecs:Stop', 'book:read', 'book:1:read', 'books:read', 'read', 'x:read', 'ecs:1:Start', 'book', 'other'];
const RESOURCES = ['ecs:1', 'ecs:10', 'ECS:1', 'ecs', 'ecs:1:x', 'book', 'book:1', '*:x', 'ecs:1 ', 'zzz', 'ecs:x', 'ecs:1:2:x', 'ecs:*:x', 'x:1', 'ecsx:1'];
const TYPES: Array<ResourceType | undefined> = [undefined, 'DATA', 'API', 'MENU'];
const KNOWN = new Set(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);

const fields = fc.record(
  {
    // Now and then one that cannot be read (undefined: missing once sent as JSON).
    resourceCode: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...CODES) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, '', 7, ['ecs:1']) }),
    resourceType: fc.constantFrom<unknown>('DATA', 'data', 'API', 'MENU', 'STRING', undefined, null),
    actions: fc.oneof(
      { weight: 6, arbitrary: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 3 }).map((list) => JSON.stringify(list)) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>('ecs:Start', 7, null, [1, 'ecs:Start'], { 0: 'ecs:Start' }, '[') },
    ),
    effect: fc.constantFrom<unknown>('ALLOW', 'ALLOW', 'ALLOW', 'DENY', 'allow', 'Deny', undefined, null, 'MAYBE', 1),
    condition: fc.constantFrom<unknown>(undefined, undefined, undefined, null, [], 'malformed'),
  },
  { requiredKeys: ['resourceCode', 'actions'] },
);
// Now and then conditions under a key the guard does not read (whatever they hold).
const entry: fc.Arbitrary<AuthorizedResource> = fc
  .tuple(fields, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('conditions', 'Condition', 'policyCondition') }), fc.constantFrom<unknown>([], null))
  .map(([raw, stray, held]) => (stray === undefined ? raw : { ...raw, [stray]: held })) as fc.Arbitrary<AuthorizedResource>;

const requirement: fc.Arbitrary<NormalizedRequirement> = fc
  .tuple(fc.constantFrom('allOf', 'anyOf'), fc.array(fc.constantFrom(...ASKED), { minLength: 1, maxLength: 3 }))
  .map(([mode, list]) => normalizeRequirement(mode === 'allOf' ? { allOf: list } : { anyOf: list }));

// ---- The reference: the documented rules, written plainly. Generated names are ASCII. ----

interface RefGrant {
  code: string;
  type: string | null;
  deny: boolean;
  actions: string[];
}

function refGrant(raw: AuthorizedResource): RefGrant | null {
  const e = raw as unknown as Record<string, unknown>;
  const deny = !(typeof e.effect === 'string' && e.effect.toUpperCase() === 'ALLOW');
  // A code that cannot be read: an ALLOW is skipped, a DENY covers every code.
  const readable = typeof e.resourceCode === 'string' && e.resourceCode !== '';
  if (!readable && !deny) return null;
  const code = readable ? (e.resourceCode as string) : '*';
  let list: unknown = e.actions;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      list = null;
    }
  }
  let actions = Array.isArray(list) && list.every((a) => typeof a === 'string') ? (list as string[]).filter((a) => a !== '') : [];
  // Malformed conditions, or conditions under a key other than `condition`: an ALLOW grants nothing, a DENY applies.
  const strayKey = Object.keys(e).some((key) => key !== 'condition' && /condition/i.test(key));
  if ((e.condition === 'malformed' || strayKey) && !deny) actions = [];
  // A DENY whose every action is blank once trimmed names no action: it covers every one.
  if (deny && actions.every((a) => a.trim() === '')) actions = ['*'];
  const type = typeof e.resourceType === 'string' && KNOWN.has(e.resourceType.toUpperCase()) ? e.resourceType.toUpperCase() : null;
  return { code, type, deny, actions };
}

const allStars = (text: string) => /^\*(:\*)+$/.test(text);

/**
 * An ALLOW's code covers itself, everything by `*`, or a literal prefix by a trailing `:*`. A DENY's code
 * is read as widely as it could be meant: in any case, and every segment holding a `*` stands for any
 * segments or none.
 */
function codeMatches(grant: RefGrant, resource: string): boolean {
  if (grant.code === resource || grant.code === '*') return true;
  if (grant.deny) return denyTexts(grant.code).some((code) => denyCodeMatches(code, resource));
  return grant.code.length > 2 && grant.code.endsWith(':*') && resource.startsWith(grant.code.slice(0, -1));
}

/**
 * The texts a DENY's code or action may stand for: as written, split at commas, each trimmed or not,
 * each with its segments trimmed or not, a segment holding `?` as `*` or not, an empty segment as
 * nothing, as `*` or as written.
 */
const denyTexts = (text: string) =>
  [text, ...text.split(',')]
    .flatMap((t) => [t, t.trim()])
    .flatMap((t) => [t, t.split(':').map((s) => s.trim()).join(':')])
    .flatMap((t) => [t, t.split(':').map((s) => (s.includes('?') ? '*' : s)).join(':')])
    .flatMap((t) => {
      const segments = t.split(':');
      if (!segments.includes('')) return [t];
      return [t, segments.filter((s) => s !== '').join(':'), segments.map((s) => (s === '' ? '*' : s)).join(':')];
    })
    .filter((t) => t !== '');
/** A DENY action's segment holding a `*` among other characters is read as a whole `*` segment, as its code's is. */
const widened = (action: string) => action.split(':').map((segment) => (segment.includes('*') ? '*' : segment)).join(':');

function denyCodeMatches(own: string, resource: string): boolean {
  if (own === resource || own === '*') return true;
  {
    const code = own.toLowerCase();
    const asked = resource.toLowerCase();
    if (code === asked) return true;
    if (!code.includes('*')) return false;
    const pattern = code.split(':').map((segment) => (segment.includes('*') ? '*' : segment));
    return segmentsMatch(pattern, asked.split(':'));
  }
}

function literalCovers(own: string, asked: string): boolean {
  return own === '*' || own === asked || (own.length > 2 && own.endsWith(':*') && asked.startsWith(own.slice(0, -1)));
}

/** A DENY action's `*` segments stand for any segments or none (`book:*:read` covers `book:read`, `book:1:read`). */
function segmentsMatch(pattern: string[], name: string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*') return segmentsMatch(rest, name) || (name.length > 0 && segmentsMatch(pattern, name.slice(1)));
  return name.length > 0 && name[0] === head && segmentsMatch(rest, name.slice(1));
}

function actionMatches(grant: RefGrant, asked: string): boolean {
  if (!grant.deny) return grant.actions.some((own) => literalCovers(own, asked));
  const a = asked.toLowerCase();
  for (const raw of grant.actions.flatMap(denyTexts).map(widened)) {
    const own = raw.toLowerCase();
    if (literalCovers(own, a) || allStars(own)) return true;
    // The other spelling: a bare asked name by a qualified DENY (or any `<resource>:*`), a qualified one by the bare DENY.
    if (!a.includes(':') && (own.endsWith(`:${a}`) || (own.length > 2 && own.endsWith(':*')))) return true;
    if (a.includes(':') && !own.includes(':') && a.slice(a.lastIndexOf(':') + 1) === own) return true;
    if (own.split(':').includes('*') && segmentsMatch(own.split(':'), a.split(':'))) return true;
  }
  return false;
}

/** A route asking for a type counts grants of that type, and DENYs of a type the guard cannot read (fail closed). */
const typeCounts = (grant: RefGrant, type: ResourceType | undefined) => type === undefined || grant.type === type || (grant.type === null && grant.deny);

function reference(list: AuthorizedResource[], resource: string, req: NormalizedRequirement, type: ResourceType | undefined): boolean {
  const grants = list.map(refGrant).filter((g): g is RefGrant => g !== null && codeMatches(g, resource) && typeCounts(g, type));
  const verdicts = req.actions.map((asked) => {
    if (grants.some((g) => g.deny && actionMatches(g, asked))) return 'denied';
    return grants.some((g) => !g.deny && actionMatches(g, asked)) ? 'allowed' : 'none';
  });
  return req.mode === 'allOf' ? verdicts.every((v) => v === 'allowed') : verdicts.some((v) => v === 'allowed');
}

const question = fc.tuple(fc.constantFrom(...RESOURCES), requirement, fc.constantFrom(...TYPES));

describe('decide against the documented rules (reference)', () => {
  it('lazy, compact and remembered decisions all equal the reference', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.array(question, { minLength: 1, maxLength: 6 }), (list, questions) => {
        const wire = JSON.parse(JSON.stringify(list)) as AuthorizedResource[];
        const lazy = indexGrants(wire);
        const compact = indexGrantsCompact(wire);
        const memo: DecisionMemo = { index: compact, held: heldGrants(compact), lastDecision: undefined, lastResourceType: undefined };
        // Each question asked twice in a row: the second is answered from the memo.
        for (const [resource, req, type] of [...questions, ...questions].flatMap((q) => [q, q])) {
          const expected = reference(wire, resource, req, type);
          const context = { list: wire, resource, actions: req.actions, mode: req.mode, type };
          expect({ ...context, allowed: decide(lazy, resource, req, { resourceType: type }).allowed }).toEqual({ ...context, allowed: expected });
          expect({ ...context, allowed: decideRemembered(memo, resource, req, type).allowed }).toEqual({ ...context, allowed: expected });
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('a DENY action with * segments (and ?, blank and padded ones) against the plain segment rule', () => {
  it('covers exactly what the reference covers (greedy matching never misses a split)', () => {
    const segments = (units: string[]) => fc.array(fc.constantFrom(...units), { minLength: 1, maxLength: 5 }).map((list) => list.join(':'));
    fc.assert(
      fc.property(segments(['a', 'b', '*', '*', '', 'a?', ' b', '?']), segments(['a', 'b', 'A', '']), (own, asked) => {
        const grant = normalizeGrant({ resourceCode: 'r', resourceType: 'DATA', actions: [own], effect: 'DENY' });
        if (grant === null) throw new Error('a usable code normalizes');
        expect({ own, asked, covered: grantCoversAction(grant, asked) }).toEqual({ own, asked, covered: actionMatches(refGrant({ resourceCode: 'r', actions: [own], effect: 'DENY' } as AuthorizedResource)!, asked) });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a DENY code with * (and ?, blank and padded segments) against the plain segment rule', () => {
  it('covers exactly the codes the reference covers, and an ALLOW beside it allows the rest', () => {
    const segments = (units: string[]) => fc.array(fc.constantFrom(...units), { minLength: 1, maxLength: 5 }).map((list) => list.join(':'));
    fc.assert(
      fc.property(segments(['a', 'b', '*', '*', 'a*', '*b', '', 'a?', 'b ', '?']), segments(['a', 'b', 'ab', '*', '']), (code, resource) => {
        const list: AuthorizedResource[] = [
          { resourceCode: '*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
          { resourceCode: code, resourceType: 'DATA', actions: ['*'], effect: 'DENY' },
        ];
        // An empty code is no grant at all.
        const grant = refGrant(list[1]!);
        const denied = grant !== null && codeMatches(grant, resource);
        for (const index of [indexGrants(list), indexGrantsCompact(list)]) {
          expect({ code, resource, allowed: decide(index, resource, normalizeRequirement('x')).allowed }).toEqual({ code, resource, allowed: !denied });
        }
      }),
      { numRuns: 2000 },
    );
  });
});
