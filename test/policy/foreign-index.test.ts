// A GrantIndex the app built itself (GrantIndex is an exported interface) is checked where decide()
// and explainDecision() take it: a wildcard record without `pattern` (as indexes written before the
// field existed have), or whose prefix and pattern are not what its grant's code reads as, would have
// a DENY read as a bare prefix, possibly narrower than its code (a DENY of `ecs:*` recorded as the
// prefix `ecs:` leaves `ecs` itself to an ALLOW of `*`). Such an index is a TypeError, never a decision.
import { describe, expect, it } from 'vitest';
import { decide, normalizeRequirement } from '../../src/policy/decide.js';
import { explainDecision } from '../../src/policy/explain.js';
import { indexGrants, type GrantIndex, type WildcardGrant } from '../../src/policy/grants.js';
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
