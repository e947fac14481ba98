// The compact index a cache keeps holds a code's only grant alone (no one-element array) and an array
// only for a code with several grants. Decisions and explanations must be exactly those of the lazy
// index (the reference), whatever mix of lone and shared codes, ALLOW and DENY, in whatever order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateConditions } from '../../src/policy/conditions.js';
import { decide, normalizeRequirement, type ConditionCheck, type NormalizedRequirement } from '../../src/policy/decide.js';
import { explainDecision } from '../../src/policy/explain.js';
import { grantList, indexGrants, indexGrantsCompact, indexGrantsCompactLater, type GrantIndex } from '../../src/policy/grants.js';
import type { AuthorizedResource, ResourceType } from '../../src/wire.js';

const RUNS = { numRuns: 300 };
const RESOURCES = ['ecs:1', 'ecs:2', 'ecs:3', 'books', 'other'];
const ACTIONS = ['ecs:Start', 'ecs:stop', 'ECS:START', 'ecs:*', '*', 'books:read'];
const TYPES: Array<ResourceType | undefined> = [undefined, 'DATA', 'API'];

const checkAlice: ConditionCheck = (grant) => evaluateConditions(grant.conditions, { UserId: 'alice' });

function entry(code: string, effect: 'ALLOW' | 'DENY', actions: string[] = ['ecs:Start'], extra: Partial<AuthorizedResource> = {}): AuthorizedResource {
  return { resourceCode: code, resourceType: 'DATA', actions, effect, ...extra };
}

/** Every answer the two indexes give for one question: the decision, its explanation, the exact grants. */
function answers(index: GrantIndex, resource: string, requirement: NormalizedRequirement, resourceType: ResourceType | undefined) {
  const options = { resourceType, conditions: checkAlice };
  return {
    decision: decide(index, resource, requirement, options),
    explanation: explainDecision(index, resource, requirement, options),
    lookup: index.lookup(resource),
    exact: grantList(index.exact(resource)),
  };
}

describe('compact index: a code with one grant keeps it alone', () => {
  it('keeps a lone grant as itself and several grants of one code as an array, in order', () => {
    const index = indexGrantsCompact([entry('ecs:1', 'ALLOW'), entry('ecs:2', 'ALLOW'), entry('ecs:2', 'DENY'), entry('ecs:2', 'ALLOW', ['read'])]);
    const lone = index.exact('ecs:1');
    expect(Array.isArray(lone)).toBe(false);
    expect(lone).toMatchObject({ code: 'ecs:1', effect: 'ALLOW' });
    const several = index.exact('ecs:2');
    expect(Array.isArray(several)).toBe(true);
    expect(grantList(several).map((g) => [g.effect, [...g.actions]])).toEqual([
      ['ALLOW', ['ecs:Start']],
      ['DENY', ['ecs:Start']],
      ['ALLOW', ['read']],
    ]);
    expect(index.exact('ecs:9')).toBeUndefined();
    // lookup() keeps its array contract.
    expect(index.lookup('ecs:1')).toEqual([lone]);
    expect(index.grants.map((g) => g.code)).toEqual(['ecs:1', 'ecs:2', 'ecs:2', 'ecs:2']);
  });

  for (const order of [['ALLOW', 'DENY'], ['DENY', 'ALLOW']] as const) {
    it(`decides and explains ${order.join(' then ')} on one code as the lazy index does (the DENY wins)`, () => {
      const list = [entry('ecs:1', order[0]), entry('ecs:1', order[1]), entry('ecs:2', 'ALLOW')];
      const requirement = normalizeRequirement('ecs:Start');
      for (const resource of ['ecs:1', 'ecs:2', 'ecs:3']) {
        const compact = answers(indexGrantsCompact(list), resource, requirement, 'DATA');
        expect(compact).toEqual(answers(indexGrants(list), resource, requirement, 'DATA'));
      }
      const denied = decide(indexGrantsCompact(list), 'ecs:1', requirement);
      expect(denied).toMatchObject({ allowed: false, reason: 'denied', grant: { effect: 'DENY' } });
      expect(decide(indexGrantsCompact(list), 'ecs:2', requirement)).toMatchObject({ allowed: true, reason: 'allowed' });
    });
  }

  it('decides, explains and looks up exactly as the lazy index on random mixes of lone and shared codes', () => {
    const grant = fc.record({
      code: fc.constantFrom(...RESOURCES, 'ecs:*', '*'),
      effect: fc.constantFrom<'ALLOW' | 'DENY'>('ALLOW', 'DENY'),
      actions: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 3 }),
      type: fc.constantFrom('DATA', 'API', 'MENU'),
      conditional: fc.boolean(),
    });
    const requirement = fc
      .tuple(fc.constantFrom('allOf', 'anyOf'), fc.array(fc.constantFrom(...ACTIONS.slice(0, 3), 'books:read', 'x'), { minLength: 1, maxLength: 3 }))
      .map(([mode, list]) => normalizeRequirement(mode === 'allOf' ? { allOf: list } : { anyOf: list }));
    fc.assert(
      fc.property(
        fc.array(grant, { maxLength: 12 }),
        fc.constantFrom(...RESOURCES),
        requirement,
        fc.constantFrom(...TYPES),
        (grants, resource, req, type) => {
          const list = grants.map((g) =>
            entry(g.code, g.effect, g.actions, {
              resourceType: g.type,
              ...(g.conditional ? { condition: [{ param: 'UserId', operator: 'StringEquals', value: ['alice'] }] } : {}),
            } as Partial<AuthorizedResource>),
          );
          const compact = indexGrantsCompact(list);
          const lazy = indexGrants(list);
          // Asked twice: the lazy index answers its first lookup by a scan, later ones from its Map.
          for (let round = 0; round < 2; round++) expect(answers(compact, resource, req, type)).toEqual(answers(lazy, resource, req, type));
          expect(compact.grants).toEqual(lazy.grants);
        },
      ),
      RUNS,
    );
  });

  it('built in slices between event-loop turns, the compact index is the same, whatever the slice', async () => {
    const grant = fc.record({
      code: fc.constantFrom('ecs:1', 'ecs:2', 'ecs:3', 'books', 'ecs:*', '*'),
      effect: fc.constantFrom('ALLOW' as const, 'DENY' as const),
      actions: fc.subarray(ACTIONS, { minLength: 1 }),
      conditional: fc.boolean(),
    });
    const requirement = fc
      .tuple(fc.constantFrom('allOf', 'anyOf'), fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 3 }))
      .map(([mode, list]) => normalizeRequirement(mode === 'allOf' ? { allOf: list } : { anyOf: list }));
    await fc.assert(
      fc.asyncProperty(fc.array(grant, { maxLength: 20 }), fc.integer({ min: 1, max: 25 }), fc.constantFrom(...RESOURCES), requirement, async (grants, slice, resource, req) => {
        const list = grants.map((g) =>
          entry(g.code, g.effect, g.actions, g.conditional ? ({ condition: [{ param: 'UserId', operator: 'StringEquals', value: ['alice'] }] } as Partial<AuthorizedResource>) : {}),
        );
        const whole = indexGrantsCompact(list);
        const sliced = await indexGrantsCompactLater(list, slice);
        expect(sliced.grants).toEqual(whole.grants);
        expect(sliced.bytes).toBe(whole.bytes);
        expect(sliced.hasConditions).toBe(whole.hasConditions);
        expect(sliced.wildcards).toEqual(whole.wildcards);
        for (const type of TYPES) expect(answers(sliced, resource, req, type)).toEqual(answers(whole, resource, req, type));
      }),
      { numRuns: 100 },
    );
  });

  it('yields to the event loop between slices: other work runs while a long list is indexed', async () => {
    const list = Array.from({ length: 50 }, (_, i) => entry(`ecs:${i}`, 'ALLOW'));
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const index = await indexGrantsCompactLater(list, 10);
    ticking = false;
    expect(index.grants).toHaveLength(50);
    expect(turns).toBeGreaterThanOrEqual(4);
  });
});
