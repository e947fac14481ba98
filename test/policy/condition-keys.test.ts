// Which keys count as conditions the guard does not read, and that both indexes read such an entry alike.
import { describe, expect, it } from 'vitest';
import { evaluateConditions } from '../../src/policy/conditions.js';
import { decide, normalizeRequirement, type ConditionCheck } from '../../src/policy/decide.js';
import { indexGrants, indexGrantsCompact, strayConditionKeyOf } from '../../src/policy/grants.js';
import { grantNotes, normalizeGrant, strayConditionKey } from '../../src/policy/normalize-grant.js';
import type { AuthorizedResource } from '../../src/wire.js';

const base = { resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['ecs:Start'], effect: 'ALLOW', condition: [] };

describe('strayConditionKey', () => {
  it.each([
    ['conditions', 'conditions'],
    ['Condition', 'Condition'],
    ['CONDITION', 'CONDITION'],
    ['policyCondition', 'policyCondition'],
    ['conditionList', 'conditionList'],
    ['has_condition_set', 'has_condition_set'],
    // a case-insensitive reader's fold: Java's equalsIgnoreCase reads ı and İ as i, Go's and Java's ſ as s
    ['condıtion (dotless ı)', 'condıtion'],
    ['CONDİTION (dotted İ)', 'CONDİTION'],
    ['conditıonſ', 'conditıonſ'],
  ])('%s counts', (label, found) => {
    const key = label.split(' ')[0] ?? label;
    expect(strayConditionKey({ ...base, [key]: null })).toBe(found);
  });

  it.each([
    ['condition itself', {}],
    ['another letter (not a fold of i)', { condítion: [], condiťion: [] }],
    ['"condition" in a value only', { description: 'condition' }],
    ['a partial word', { conditio: [], ondition: [] }],
  ])('%s does not count', (_name, extra) => {
    expect(strayConditionKey({ ...base, ...extra })).toBeUndefined();
  });

  it('only own keys count; a non-object has none', () => {
    const entry = Object.create({ conditions: [] }) as Record<string, unknown>;
    Object.assign(entry, base);
    expect(strayConditionKey(entry)).toBeUndefined();
    for (const value of [null, undefined, 'conditions', 7, [{ conditions: [] }]]) expect(strayConditionKey(value)).toBeUndefined();
  });
});

describe('an entry with a stray condition key', () => {
  const checkAlice: ConditionCheck = (grant) => evaluateConditions(grant.conditions, { UserId: 'alice' });
  const holds = [{ param: 'UserId', operator: 'StringEquals', value: 'alice' }];
  const fails = [{ param: 'UserId', operator: 'StringEquals', value: 'bob' }];

  it('is read fail-closed and noted, and both indexes read it alike', () => {
    const list = [
      { ...base, condition: holds, conditions: [] },
      { ...base, resourceCode: 'ecs:2' },
      { ...base, resourceCode: 'ecs:2', effect: 'DENY', condition: fails, Condition: [] },
      { ...base, resourceCode: 'ecs:3', condition: holds },
    ] as unknown as AuthorizedResource[];
    const allow = normalizeGrant(list[0]!);
    expect(allow?.actions).toEqual([]);
    expect(allow?.conditions).toEqual([]);
    expect(grantNotes(allow!)).toEqual({ conditionKeyUnknown: true });
    const lazy = indexGrants(list);
    const compact = indexGrantsCompact(list);
    expect(strayConditionKeyOf(lazy)).toBe('conditions');
    expect(strayConditionKeyOf(compact)).toBe('conditions');
    expect(lazy.hasConditions).toBe(true);
    expect(compact.hasConditions).toBe(true);
    const requirement = normalizeRequirement('ecs:Start');
    for (const index of [lazy, compact]) {
      expect(decide(index, 'ecs:1', requirement, { conditions: checkAlice }).allowed).toBe(false);
      expect(decide(index, 'ecs:2', requirement, { conditions: checkAlice }).allowed).toBe(false);
      expect(decide(index, 'ecs:3', requirement, { conditions: checkAlice }).allowed).toBe(true);
    }
  });

  it('an index without one names none, and hasConditions is the same in both indexes', () => {
    const list = [{ ...base, conditions: [] }] as unknown as AuthorizedResource[];
    expect(indexGrants(list).hasConditions).toBe(indexGrantsCompact(list).hasConditions);
    const plain = [{ ...base, condition: holds }] as unknown as AuthorizedResource[];
    expect(strayConditionKeyOf(indexGrants(plain))).toBeUndefined();
    expect(strayConditionKeyOf(indexGrantsCompact(plain))).toBeUndefined();
  });
});
