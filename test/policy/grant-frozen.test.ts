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
    condition: [{ param: 'UserId', operator: 'StringEquals', value: 'alice', extra: { list: ['a'] } } as never],
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
  ['rewrites a value nested in a condition', (g) => ((g.conditions[0] as unknown as { extra: { list: string[] } }).extra.list[0] = 'b')],
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
