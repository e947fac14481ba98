// A GrantIndex the app built itself (GrantIndex is an exported interface) is checked where decide()
// and explainDecision() take it: a wildcard record without `pattern` (as indexes written before the
// field existed have), or whose prefix and pattern are not what its grant's code reads as, would have
// a DENY read as a bare prefix, possibly narrower than its code (a DENY of `ecs:*` recorded as the
// prefix `ecs:` leaves `ecs` itself to an ALLOW of `*`). Such an index is a TypeError, never a decision.
import { describe, expect, it } from 'vitest';
import { decide, normalizeRequirement } from '../../src/policy/decide.js';
import { explainDecision } from '../../src/policy/explain.js';
import { indexGrants, type GrantIndex, type WildcardGrant } from '../../src/policy/grants.js';
import type { Grant } from '../../src/policy/normalize-grant.js';
import type { AuthorizedResource } from '../../src/wire.js';

const entries: AuthorizedResource[] = [
  { resourceCode: '*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
  { resourceCode: 'ecs:*', resourceType: 'DATA', actions: ['ecs:Start'], effect: 'DENY' },
  { resourceCode: 'disk:*:9', resourceType: 'DATA', actions: ['*'], effect: 'DENY' },
];
const start = normalizeRequirement('ecs:Start');

/** An app's own index over the package's grants, with its own wildcard records. */
function foreign(records: (own: WildcardGrant) => object): GrantIndex {
  const own = indexGrants(entries);
  return {
    grants: own.grants,
    lookup: (code) => own.lookup(code),
    exact: (code) => own.exact(code),
    wildcards: own.wildcards.map(records) as WildcardGrant[],
    hasConditions: own.hasConditions,
    bytes: own.bytes,
  };
}

const decideOn = (index: GrantIndex) => decide(index, 'ecs', start);
const explainOn = (index: GrantIndex) => explainDecision(index, 'ecs', start);

describe.each([
  ['decide()', decideOn],
  ['explainDecision()', explainOn],
])('%s and a GrantIndex of the app’s own', (_name, use) => {
  it.each([
    ['records without pattern, prefixes as a pre-pattern index had them (ecs:* as ecs:)', (w: WildcardGrant) => ({ prefix: w.grant.code === 'ecs:*' ? 'ecs:' : w.prefix, grant: w.grant })],
    ['records without pattern, prefixes as indexGrants() gives them', (w: WildcardGrant) => ({ prefix: w.prefix, grant: w.grant })],
    ['a DENY record narrowed by its prefix', (w: WildcardGrant) => ({ ...w, prefix: w.grant.effect === 'DENY' ? `${w.prefix}:zzz` : w.prefix })],
    ['a DENY record whose pattern is another code’s', (w: WildcardGrant) => ({ ...w, pattern: w.pattern === undefined ? undefined : 'nothing:*' })],
    ['a record whose prefix is not a string', (w: WildcardGrant) => ({ ...w, prefix: 1 })],
    ['a record with no grant', (w: WildcardGrant) => ({ prefix: w.prefix, pattern: w.pattern })],
  ])('refuses one with %s: a TypeError, not a decision', (_case, records) => {
    expect(() => use(foreign(records))).toThrow(TypeError);
  });

  it('refuses an index whose wildcards is not an array, or that has no exact()', () => {
    expect(() => use({ ...foreign((w) => w), wildcards: undefined as never })).toThrow(TypeError);
    const { exact: _exact, ...noExact } = foreign((w) => w);
    expect(() => use(noExact as GrantIndex)).toThrow(TypeError);
  });

  it('takes one whose records are those indexGrants() made (copied or not), with the same verdict', () => {
    const own = indexGrants(entries);
    expect(decide(own, 'ecs', start)).toMatchObject({ allowed: false, reason: 'denied' });
    expect(use(foreign((w) => w))).toMatchObject({ allowed: false, reason: 'denied' });
    expect(use(foreign((w) => ({ prefix: w.prefix, pattern: w.pattern, grant: w.grant })))).toMatchObject({ allowed: false, reason: 'denied' });
  });
});

// A DENY's code matches in any case (a DENY of `Books` denies `books`). An index of ours adds a code's
// DENYs in another case to its exact() when it is built; an app's own index need not: decide() and
// explainDecision() find them by the DENY codes in its `grants`. Its wildcard records hold a DENY's
// prefix and pattern folded, as indexGrants() makes them; a record with them unfolded would leave
// `books:1` to an ALLOW beside a DENY of `Books:*`, and is refused.
const caseEntries: AuthorizedResource[] = [
  { resourceCode: 'books', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
  { resourceCode: 'Books', resourceType: 'DATA', actions: ['books:Write'], effect: 'DENY' },
  { resourceCode: 'books:*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
  { resourceCode: 'Books:*', resourceType: 'DATA', actions: ['books:Delete'], effect: 'DENY' },
];

/** An app's own index over the package's grants: exact() gives a code's own grants only. */
function ownOnly(list: readonly AuthorizedResource[], records: (own: WildcardGrant) => object = (w) => w): GrantIndex {
  const ours = indexGrants(list);
  const wild = new Set(ours.wildcards.map((w) => w.grant));
  const byCode = new Map<string, Grant[]>();
  for (const grant of ours.grants) if (!wild.has(grant)) byCode.set(grant.code, [...(byCode.get(grant.code) ?? []), grant]);
  return {
    grants: ours.grants,
    lookup: (code) => byCode.get(code),
    exact: (code) => byCode.get(code),
    wildcards: ours.wildcards.map(records) as WildcardGrant[],
    hasConditions: ours.hasConditions,
    bytes: ours.bytes,
  };
}

describe.each([
  ['decide()', (index: GrantIndex, resource: string, action: string) => decide(index, resource, normalizeRequirement(action))],
  ['explainDecision()', (index: GrantIndex, resource: string, action: string) => {
    const { grants: _grants, ...decision } = explainDecision(index, resource, normalizeRequirement(action));
    return decision;
  }],
])('%s, a DENY code in another case and a GrantIndex of the app’s own', (_name, use) => {
  it('denies by a DENY of the code in another case its exact() leaves out', () => {
    const own = ownOnly(caseEntries);
    expect(use(own, 'books', 'books:Write')).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'Books' } });
    expect(use(own, 'books', 'books:Read')).toMatchObject({ allowed: true, grant: { code: 'books' } });
    // A code with no grants of its own (only the ALLOW of books:* grants it).
    expect(use(own, 'BOOKS', 'books:Write')).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'Books' } });
    expect(use(own, 'books:1', 'books:Delete')).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'Books:*' } });
    expect(use(own, 'books:1', 'books:Read').allowed).toBe(true);
  });

  it('decides as indexGrants() does when its exact() adds them itself', () => {
    const ours = indexGrants(caseEntries);
    const copy: GrantIndex = { ...ownOnly(caseEntries), exact: (code) => ours.exact(code), lookup: (code) => ours.lookup(code) };
    for (const [resource, action] of [['books', 'books:Write'], ['books', 'books:Read'], ['Books', 'books:Read'], ['books:1', 'books:Delete']] as const) {
      expect(use(copy, resource, action)).toEqual(decide(ours, resource, normalizeRequirement(action)));
    }
  });

  it('refuses a record holding a DENY’s prefix and pattern unfolded: a TypeError, not a decision', () => {
    const unfolded = (w: WildcardGrant) => (w.grant.code === 'Books:*' ? { ...w, prefix: 'Books', pattern: 'Books:*' } : w);
    expect(() => use(ownOnly(caseEntries, unfolded), 'books:1', 'books:Delete')).toThrow(TypeError);
  });

  it('refuses an index whose grants is not an array of grants', () => {
    expect(() => use({ ...ownOnly(caseEntries), grants: undefined as never }, 'books', 'books:Read')).toThrow(TypeError);
    expect(() => use({ ...ownOnly(caseEntries), grants: [null] as never }, 'books', 'books:Read')).toThrow(TypeError);
  });
});
