// A grant is shared: by every decision made from its set, and a cached set by every user whose GenAuth
// list is the same. So the grant a decision names (`decision.grant`, `req.genauth.decision.grant`) is
// read-only all the way down: an app that writes to any part of it throws, and no later decision, its
// own or another user's, changes. Indexing never freezes the caller's own entries.
import { describe, expect, it } from 'vitest';
import { decide, normalizeRequirement, type ConditionCheck } from '../../src/policy/decide.js';
import { evaluateConditions } from '../../src/policy/conditions.js';
import { indexGrants, indexGrantsCompact, type GrantIndex } from '../../src/policy/grants.js';
import type { Grant } from '../../src/policy/normalize-grant.js';
import type { AuthorizedResource } from '../../src/wire.js';

const entries = (): AuthorizedResource[] => [
  {
    resourceCode: 'reports',
    resourceType: 'DATA',
    actions: ['reports:Read', 'ecs:*'],
    effect: 'ALLOW',
    // A list value: a value nested in a condition (a condition has no key but param, operator and value).
    condition: [{ param: 'UserId', operator: 'StringEquals', value: ['alice'] } as never],
  },
  { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Delete'], effect: 'DENY' },
];

const forUser = (user: string): ConditionCheck => (grant) => evaluateConditions(grant.conditions, { UserId: user });
const read = normalizeRequirement('reports:Read');
const write = normalizeRequirement('reports:Write');

type Mutation = [string, (grant: Grant) => unknown];
const MUTATIONS: Mutation[] = [
  ['empties the conditions', (g) => (g.conditions as unknown[]).splice(0)],
  ['rewrites a condition', (g) => Object.assign(g.conditions[0] as object, { operator: 'StringNotEquals' })],
  ['rewrites a value nested in a condition', (g) => ((g.conditions[0] as unknown as { value: string[] }).value[0] = 'bob')],
  ['adds an action to the set', (g) => (g.actionSet as Set<string>).add('reports:Write')],
  ['clears the action set', (g) => (g.actionSet as Set<string>).clear()],
  ['deletes from the action set', (g) => (g.actionSet as Set<string>).delete('reports:Read')],
  ['adds an action prefix', (g) => (g.actionPrefixes as string[]).push('')],
  ['rewrites the actions', (g) => ((g.actions as string[])[0] = 'reports:Write')],
  ['replaces a field', (g) => ((g as { effect: string }).effect = 'DENY')],
  ['adds a field', (g) => ((g as unknown as Record<string, unknown>).note = 1)],
];

const INDEXES: Array<[string, (list: AuthorizedResource[]) => GrantIndex]> = [
  ['lazy index', indexGrants],
  ['compact index (a cached set)', indexGrantsCompact],
];

describe.each(INDEXES)('the grant a decision names (%s)', (_name, index) => {
  it.each(MUTATIONS)('refuses an app that %s, and no later decision changes', (_label, mutate) => {
    const shared = index(entries());
    const alice = decide(shared, 'reports', read, { conditions: forUser('alice') });
    expect(alice).toMatchObject({ allowed: true, grant: { code: 'reports', effect: 'ALLOW' } });
    const before = JSON.stringify(alice.grant);
    expect(() => mutate(alice.grant as Grant)).toThrow(TypeError);
    expect(JSON.stringify(alice.grant)).toBe(before);
    // Bob shares the set: his condition is false, and nothing grants reports:Write.
    expect(decide(shared, 'reports', read, { conditions: forUser('bob') }).allowed).toBe(false);
    expect(decide(shared, 'reports', write, { conditions: forUser('alice') }).allowed).toBe(false);
    expect(decide(shared, 'reports', read, { conditions: forUser('alice') }).allowed).toBe(true);
  });

  it('leaves the caller’s own entries as they were: not frozen', () => {
    const list = entries();
    const shared = index(list);
    decide(shared, 'reports', read, { conditions: forUser('alice') });
    const [first] = list;
    expect(Object.isFrozen(first)).toBe(false);
    expect(Object.isFrozen(first?.actions)).toBe(false);
    expect(Object.isFrozen(first?.condition)).toBe(false);
    expect(Object.isFrozen((first?.condition as unknown[])[0])).toBe(false);
  });
});

/** An index's own parts: what indexGrants() returns is read-only all the way down, not only its grants. */
const indexEntries = (): AuthorizedResource[] => [
  { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' },
  { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Export'], effect: 'ALLOW' },
  { resourceCode: 'rep*', resourceType: 'DATA', actions: ['reports:Purge'], effect: 'DENY' },
  { resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['ecs:Start'], effect: 'ALLOW' },
];
const everything = indexGrants([{ resourceCode: '*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' }]).grants[0] as Grant;

type IndexMutation = [string, (index: GrantIndex) => unknown];
const INDEX_MUTATIONS: IndexMutation[] = [
  ['pushes a grant onto grants', (i) => (i.grants as Grant[]).push(everything)],
  ['empties grants', (i) => (i.grants as Grant[]).splice(0)],
  ['pushes an ALLOW onto a lookup() result', (i) => (i.lookup('reports') as Grant[]).push(everything)],
  ['pushes an ALLOW onto a lookup() result of a lone grant', (i) => (i.lookup('ecs:1') as Grant[]).push(everything)],
  ['pushes an ALLOW onto an exact() list', (i) => (i.exact('reports') as Grant[]).push(everything)],
  ['pushes an allow-everything wildcard', (i) => (i.wildcards as unknown[]).push({ prefix: '', pattern: undefined, grant: everything })],
  ['removes the DENY wildcard', (i) => (i.wildcards as unknown[]).splice(0)],
  ['narrows the DENY wildcard’s prefix', (i) => ((i.wildcards[0] as { prefix: string }).prefix = 'zzz')],
  ['replaces the wildcards', (i) => ((i as { wildcards: unknown }).wildcards = [])],
  ['drops the DENY wildcard’s pattern', (i) => ((i.wildcards[0] as { pattern: string | undefined }).pattern = 'nothing')],
];

describe.each(INDEXES)('the index itself (%s)', (_name, index) => {
  it.each(INDEX_MUTATIONS)('refuses an app that %s, and no later decision changes', (_label, mutate) => {
    const shared = index(indexEntries());
    // Read every part first, so the lazy index has built what the app then writes to.
    expect(decide(shared, 'reports', normalizeRequirement('reports:Purge')).allowed).toBe(false);
    expect(shared.grants).toHaveLength(4);
    shared.lookup('ecs:1');
    expect(() => mutate(shared)).toThrow(TypeError);
    expect(shared.grants).toHaveLength(4);
    expect(decide(shared, 'reports', normalizeRequirement('reports:Purge')).reason).toBe('denied');
    expect(decide(shared, 'reports', normalizeRequirement('reports:Write')).allowed).toBe(false);
    expect(decide(shared, 'ecs:1', normalizeRequirement('ecs:Stop')).allowed).toBe(false);
    expect(decide(shared, 'reports', normalizeRequirement('reports:Export')).allowed).toBe(true);
  });
});

describe.each(INDEXES)('a code’s grants with DENYs of it in another case (%s)', (_name, index) => {
  const caseEntries = (): AuthorizedResource[] => [
    { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' },
    { resourceCode: 'Reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'DENY' },
  ];

  it('are handed out frozen: removing the DENY throws, and no later decision changes', () => {
    const shared = index(caseEntries());
    expect(decide(shared, 'reports', read)).toMatchObject({ reason: 'denied', grant: { code: 'Reports' } });
    const listed = shared.lookup('reports');
    expect(listed?.map((g) => g.code)).toEqual(['reports', 'Reports']);
    expect(Object.isFrozen(listed)).toBe(true);
    expect(() => (listed as Grant[]).splice(1)).toThrow(TypeError);
    const exact = shared.exact('reports') as Grant[];
    expect(Object.isFrozen(exact)).toBe(true);
    expect(() => exact.pop()).toThrow(TypeError);
    expect(Object.isFrozen(shared.grants)).toBe(true);
    expect(shared.grants).toHaveLength(2);
    expect(decide(shared, 'reports', read).reason).toBe('denied');
    expect(decide(shared, 'REPORTS', read).reason).toBe('denied');
  });
});
