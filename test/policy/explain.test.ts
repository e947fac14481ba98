// explain() must never drift from the decision: over a table and random grants, its verdict and
// deciding grant are decide()'s / the API matcher's, and each grant's outcome is the one expected.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiModeSpec } from '../../src/core/enforce/api.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { evaluateConditions } from '../../src/policy/conditions.js';
import { decide, normalizeRequirement, type ConditionCheck } from '../../src/policy/decide.js';
import { explainApiDecision, type ApiExplanation } from '../../src/policy/explain-api.js';
import { explainDecision, type ExplainedGrant } from '../../src/policy/explain.js';
import { indexGrants } from '../../src/policy/grants.js';
import type { AuthorizedResource } from '../../src/wire.js';
import { API_CASES, CONTEXT, ROUTE_CASES } from './explain-cases.js';

const USER = 'alice';

/** The entry of `entries` that normalizes, alone, to a grant equal to `grant`. */
function entryOf(entries: unknown[], grant: unknown): unknown {
  const found = entries.find((e) => {
    const alone = indexGrants([e as AuthorizedResource]).grants;
    return alone.length === 1 && isDeepStrictEqual(alone[0], grant);
  });
  if (found === undefined) throw new Error('no entry normalizes to this grant');
  return found;
}
type Combine = 'unknown' | 'all' | 'any';
const checkFor = (combine?: Combine): ConditionCheck => (grant) => evaluateConditions(grant.conditions, CONTEXT(USER), combine === undefined ? undefined : { combine });
const conditions = checkFor();
const outcomes = (grants: readonly ExplainedGrant[]) => grants.map((g) => `${g.grant.code}:${g.outcome}`).sort();

/** What the API middleware decides: 400, public (null), or the matcher's decision. */
function middlewareApi(entries: unknown[], method: string, path: string, publicPaths?: string[], check = conditions) {
  const spec = apiModeSpec(publicPaths === undefined ? {} : { publicPaths });
  const target = normalizeApiTarget(path);
  if (!target.ok) return { allowed: false, reason: 'invalid_target' as const, grant: undefined };
  if (spec.isPublic(target)) return { allowed: true, reason: 'public' as const, grant: undefined };
  return spec.matcher.match(indexGrants(entries as AuthorizedResource[]), method, target, check);
}

function explainApi(entries: unknown[], method: string, path: string, publicPaths?: string[], check = conditions): ApiExplanation {
  const spec = apiModeSpec(publicPaths === undefined ? {} : { publicPaths });
  return explainApiDecision(indexGrants(entries as AuthorizedResource[]), method, path, { options: spec.matcher.options, conditions: check, isPublic: spec.isPublic });
}

describe('explainDecision agrees with decide()', () => {
  it.each(ROUTE_CASES)('$name', ({ entries, resource, requirement, resourceType, allowed, outcomes: expected }) => {
    const index = indexGrants(entries as AuthorizedResource[]);
    const normalized = normalizeRequirement(requirement);
    const decided = decide(index, resource, normalized, { resourceType, conditions });
    const explained = explainDecision(index, resource, normalized, { resourceType, conditions });
    expect(decided.allowed).toBe(allowed);
    expect({ allowed: explained.allowed, reason: explained.reason, grant: explained.grant }).toEqual({ allowed: decided.allowed, reason: decided.reason, grant: decided.grant });
    expect(outcomes(explained.grants)).toEqual([...expected].sort());
    expect(explained.grants.filter((g) => g.decisive).map((g) => g.grant)).toEqual(decided.grant === undefined ? [] : [decided.grant]);
  });

  it('names the condition that failed or could not be evaluated, and notes an assumed effect', () => {
    const index = indexGrants([
      { resourceCode: 'r', resourceType: 'DATA', actions: ['a'], effect: 'ALLOW', condition: [{ param: 'UserId', operator: 'StringEquals', value: USER }, { param: 'Tier', operator: 'StringEquals', value: 'gold' }] },
      { resourceCode: 'r', actions: ['b'], condition: 'not a condition' } as unknown as AuthorizedResource,
    ]);
    const explained = explainDecision(index, 'r', normalizeRequirement({ anyOf: ['a', 'b'] }), { conditions });
    const [allow, deny] = explained.grants;
    expect(allow).toMatchObject({ outcome: 'condition_unevaluable', condition: { index: 1, result: 'unevaluable', condition: { param: 'Tier' } } });
    expect(deny).toMatchObject({ outcome: 'applies', decisive: true, effectAssumed: true, conditionsMalformed: true });
    expect(explained).toMatchObject({ allowed: false, reason: 'denied' });
  });

  it('names, for a DENY that applies, the condition that could not be evaluated, never a false one', () => {
    // With several conditions a DENY applies unless every one is surely false (conditions.combine
    // 'unknown'): a false condition beside it is not why it applies.
    const yes = { param: 'UserId', operator: 'StringEquals', value: USER };
    const no = { param: 'UserId', operator: 'StringEquals', value: 'bob' };
    const unknown = { param: 'Tier', operator: 'StringEquals', value: 'gold' };
    const explainOne = (effect: 'ALLOW' | 'DENY', condition: unknown[], check = conditions) =>
      explainDecision(indexGrants([{ resourceCode: 'r', actions: ['a'], effect, condition } as AuthorizedResource]), 'r', normalizeRequirement('a'), { conditions: check }).grants[0];
    const deny1 = explainOne('DENY', [no, unknown]);
    expect(deny1).toMatchObject({ outcome: 'applies', condition: { index: 1, result: 'unevaluable' } });
    const deny2 = explainOne('DENY', [no, yes]);
    expect(deny2?.outcome).toBe('applies');
    expect(deny2?.condition).toBeUndefined();
    expect(explainOne('DENY', [no, no])).toMatchObject({ outcome: 'condition_false', condition: { index: 0, result: false } });
    expect(explainOne('DENY', [no, yes], checkFor('all'))).toMatchObject({ outcome: 'condition_false', condition: { index: 0, result: false } });
    // An ALLOW that does not grant: the first false condition, else the first unevaluable one.
    expect(explainOne('ALLOW', [yes, unknown, no])).toMatchObject({ outcome: 'condition_unevaluable', condition: { index: 2, result: false } });
    expect(explainOne('ALLOW', [yes, no], checkFor('any'))).toMatchObject({ outcome: 'applies' });
  });

  it('notes a DENY whose resourceCode cannot be read, which covers every code', () => {
    const index = indexGrants([
      { resourceCode: 'r', resourceType: 'DATA', actions: ['a'], effect: 'ALLOW' },
      { resourceCode: null, resourceType: 'DATA', actions: ['a'], effect: 'DENY' } as unknown as AuthorizedResource,
    ]);
    const explained = explainDecision(index, 'r', normalizeRequirement('a'), { conditions });
    expect(explained).toMatchObject({ allowed: false, reason: 'denied', grant: { code: '*', effect: 'DENY' } });
    expect(explained.grants.find((g) => g.decisive)).toMatchObject({ outcome: 'applies', codeUnreadable: true });
  });
});

describe('explainApiDecision agrees with the API middleware', () => {
  it.each(API_CASES)('$name', ({ entries, method, path, publicPaths, allowed, outcomes: expected }) => {
    const decided = middlewareApi(entries, method, path, publicPaths);
    const explained = explainApi(entries, method, path, publicPaths);
    expect(decided.allowed).toBe(allowed);
    expect({ allowed: explained.allowed, reason: explained.reason, grant: explained.grant }).toEqual({ allowed: decided.allowed, reason: decided.reason, grant: decided.grant });
    expect(outcomes(explained.grants)).toEqual([...expected].sort());
  });

  it('reports a target the middleware answers 400 for', () => {
    expect(explainApi([], 'GET', '/a/%2F/b')).toMatchObject({ allowed: false, reason: 'invalid_target', problem: 'encoded_separator' });
  });
});

// Random grants, as GenAuth might send them (odd effects, actions, conditions, types and patterns).
const scalar = fc.constantFrom('ecs:1', 'ecs:*', '*', 'disk:9', 'Ecs:1');
const actionName = fc.constantFrom('ecs:Start', 'ECS:START', 'ecs:*', '*', 'read', 'READ', 'delete', '');
const condition = fc.constantFrom(
  undefined,
  { param: 'UserId', operator: 'StringEquals', value: USER },
  { param: 'UserId', operator: 'StringEquals', value: 'bob' },
  { param: 'Tier', operator: 'StringEquals', value: 'gold' },
  [{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }],
  // Several conditions, whose AND and OR readings agree or not (conditions.combine).
  [{ param: 'UserId', operator: 'StringEquals', value: USER }, { param: 'UserId', operator: 'StringEquals', value: 'bob' }],
  [{ param: 'UserId', operator: 'StringEquals', value: 'bob' }, { param: 'Tier', operator: 'StringEquals', value: 'gold' }],
  [{ param: 'UserId', operator: 'StringEquals', value: 'bob' }, { param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }],
  'malformed',
);
const combine = fc.constantFrom<Combine | undefined>(undefined, 'unknown', 'all', 'any');
const entry = fc.record({
  resourceCode: scalar,
  resourceType: fc.constantFrom('API', 'DATA', 'WIDGET', undefined),
  actions: fc.oneof(fc.array(actionName, { maxLength: 3 }), fc.constant('nonsense')),
  effect: fc.constantFrom('ALLOW', 'DENY', 'deny', 'MAYBE', undefined),
  apiIdentifier: fc.constantFrom('/api/*', '/api/users/:id', '/API/Users/7', '/api/x*', 'https://other.example/api/*', undefined),
  condition,
});

describe('explain never drifts (property)', () => {
  it('route: same verdict and deciding grant as decide()', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 6 }),
        fc.constantFrom('ecs:1', 'disk:9', 'other'),
        fc.constantFrom<ReturnType<typeof normalizeRequirement>>(normalizeRequirement('ecs:Start'), normalizeRequirement({ allOf: ['ecs:Start', 'read'] }), normalizeRequirement({ anyOf: ['read', 'delete'] })),
        fc.constantFrom(undefined, 'API' as const, 'DATA' as const),
        combine,
        (entries, resource, requirement, resourceType, how) => {
          const conditions = checkFor(how);
          const index = indexGrants(entries as AuthorizedResource[]);
          const decided = decide(index, resource, requirement, { resourceType, conditions });
          const explained = explainDecision(index, resource, requirement, { resourceType, conditions });
          expect([explained.allowed, explained.reason, explained.grant]).toEqual([decided.allowed, decided.reason, decided.grant]);
          // Each DENY's label is what that DENY does alone: 'applies' (action case folded, conditions not
          // surely false) exactly when it alone refuses one of the asked actions; any other label, never.
          const anyOf = normalizeRequirement({ anyOf: [...requirement.actions] });
          for (const seen of explained.grants.filter((g) => g.grant.effect === 'DENY')) {
            const alone = decide(indexGrants([entryOf(entries, seen.grant) as AuthorizedResource]), resource, anyOf, { resourceType, conditions });
            expect(seen.outcome === 'applies', `${seen.outcome}: ${JSON.stringify(entryOf(entries, seen.grant))}`).toBe(alone.reason === 'denied');
          }
          for (const seen of explained.grants.filter((g) => g.decisive)) expect(seen.outcome).toBe('applies');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('API mode: same verdict and deciding grant as the matcher', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 6 }),
        fc.constantFrom('GET', 'DELETE', 'PROPFIND'),
        fc.constantFrom('/api/users/7', '/API/USERS/7/', '/api/xy', '/other'),
        combine,
        (entries, method, path, how) => {
          const check = checkFor(how);
          const decided = middlewareApi(entries, method, path, undefined, check);
          const explained = explainApi(entries, method, path, undefined, check);
          expect([explained.allowed, explained.reason, explained.grant]).toEqual([decided.allowed, decided.reason, decided.grant]);
          // As for a route: a DENY is labelled 'applies' exactly when it alone refuses the request.
          for (const seen of explained.grants.filter((g) => g.grant.effect === 'DENY')) {
            const alone = middlewareApi([entryOf(entries, seen.grant)], method, path, undefined, check);
            expect(seen.outcome === 'applies', `${seen.outcome}: ${JSON.stringify(entryOf(entries, seen.grant))}`).toBe(alone.reason === 'denied');
          }
          for (const seen of explained.grants.filter((g) => g.decisive)) expect(seen.outcome).toBe('applies');
        },
      ),
      { numRuns: 400 },
    );
  });
});
