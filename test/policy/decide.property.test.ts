// Property tests of the pure decision: whatever GenAuth sends, deciding never throws, the order of the
// grants never matters, a DENY never opens anything, and a DENY covers at least what the same ALLOW does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthorizedResource, ResourceType } from '../../src/wire.js';
import { matchApi } from '../../src/policy/api-match.js';
import { CONDITION_OPERATORS, evaluateConditions, type ConditionContext } from '../../src/policy/conditions.js';
import { decide, normalizeRequirement, type ConditionCheck, type NormalizedRequirement } from '../../src/policy/decide.js';
import { foldCase, grantCoversAction } from '../../src/policy/actions.js';
import { indexGrants, indexGrantsCompact } from '../../src/policy/grants.js';
import { grantNotes, normalizeGrant } from '../../src/policy/normalize-grant.js';

const RUNS = { numRuns: 300 };
const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

const json = fc.jsonValue({ maxDepth: 2 });
const codes = ['ecs:1', 'ecs:2', 'ecs:*', '*', 'books', 'Books', ''];
const code = fc.oneof(fc.constantFrom(...codes), fc.string({ maxLength: 6 }));
const action = fc.oneof(
  fc.constantFrom('ecs:Start', 'ecs:start', 'ECS:START', 'ecs:*', 'Ecs:*', '*', '', 'books:read', 'books:Read', 'read'),
  fc.string({ maxLength: 8 }),
);
const actions = fc.oneof(
  { weight: 4, arbitrary: fc.array(action, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(action, { maxLength: 4 }).map((list) => JSON.stringify(list)) },
  { weight: 1, arbitrary: json },
);
const conditionItem = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        param: fc.oneof(fc.constantFrom('UserId', 'Namespace', 'SourceIp', 'Missing', ...POLLUTING_KEYS), json),
        operator: fc.oneof(fc.constantFrom(...CONDITION_OPERATORS, 'Weird'), json),
        value: fc.oneof(fc.constantFrom('alice', 'default', '10.0.0.0/8', 'x'), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), json),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: json },
);
const condition = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant([]), conditionItem, fc.array(conditionItem, { maxLength: 3 }), json);
const effect = fc.oneof(fc.constantFrom('ALLOW', 'DENY', 'allow', 'Deny', 'MAYBE', undefined, null), json);
const resourceType = fc.oneof(fc.constantFrom('DATA', 'API', 'api', 'MENU', 'FOO', undefined, null), json);

/** An entry as it arrives: any field may be missing or of any JSON type, keys may try to pollute prototypes. */
const entry = fc
  .tuple(
    fc.record(
      {
        resourceCode: fc.oneof({ weight: 6, arbitrary: code }, { weight: 1, arbitrary: json }),
        resourceType,
        actions,
        effect,
        apiIdentifier: fc.oneof(fc.constantFrom('/api/v1/*', '/api/v1/users/:id', '/API/V1/*', '/a*', null), fc.string({ maxLength: 8 }), json),
        condition,
        description: json,
      },
      { requiredKeys: ['resourceCode'] },
    ),
    fc.array(fc.tuple(fc.constantFrom(...POLLUTING_KEYS), json), { maxLength: 2 }),
  )
  .map(([fields, extra]) => {
    for (const [key, value] of extra) Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
    return fields;
  });

/** A list as GenAuth's JSON answer would hold it (a round trip through JSON, as on the wire). */
const wire = (list: unknown[]): AuthorizedResource[] => JSON.parse(JSON.stringify(list)) as AuthorizedResource[];
const entries = fc.array(fc.oneof({ weight: 8, arbitrary: entry }, { weight: 1, arbitrary: json }), { maxLength: 8 });

const requirement: fc.Arbitrary<NormalizedRequirement> = fc
  .tuple(fc.constantFrom('allOf', 'anyOf'), fc.array(fc.constantFrom('ecs:Start', 'ecs:stop', 'books:read', 'books:Read', 'read', 'x'), { minLength: 1, maxLength: 3 }))
  .map(([mode, list]) => normalizeRequirement(mode === 'allOf' ? { allOf: list } : { anyOf: list }));
const resource = fc.constantFrom('ecs:1', 'ecs:2', 'ecs:9', 'books', 'Books', 'other');
const routeType = fc.constantFrom<ResourceType | undefined>(undefined, 'DATA', 'API', 'MENU');

// The guard's own evaluation against a fixed context: deterministic for a given grant.
const context: ConditionContext = { UserId: 'alice', Namespace: 'default', SourceIp: '10.1.2.3' };
const evaluated: ConditionCheck = (grant) => evaluateConditions(grant.conditions, context);

function decideOn(list: AuthorizedResource[], res: string, req: NormalizedRequirement, type: ResourceType | undefined) {
  const index = indexGrants(list);
  const first = decide(index, res, req, { resourceType: type, conditions: evaluated });
  // The same index asked again (its lookups switch from a scan to a Map of codes) decides the same.
  const again = decide(index, res, req, { resourceType: type, conditions: evaluated });
  expect(again.allowed).toBe(first.allowed);
  return first;
}

/** A permutation of `list`, chosen by `keys`. */
function permute<T>(list: readonly T[], keys: readonly number[]): T[] {
  return list
    .map((item, i) => ({ item, key: keys[i] ?? 0, i }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map(({ item }) => item);
}

describe('decide (properties)', () => {
  it('never throws, whatever the entries, and its byte estimate is a finite positive number', () => {
    fc.assert(
      fc.property(entries, resource, requirement, routeType, fc.boolean(), (list, res, req, type, withConditions) => {
        const index = indexGrants(wire(list));
        const conditions = withConditions ? evaluated : undefined;
        const decision = decide(index, res, req, { resourceType: type, conditions });
        expect(typeof decision.allowed).toBe('boolean');
        expect(Number.isFinite(index.bytes) && index.bytes > 0).toBe(true);
        for (const method of ['GET', 'DELETE', 'PROPFIND']) {
          expect(typeof matchApi(index, method, '/api/v1/users/1', { conditions: evaluated }).allowed).toBe('boolean');
        }
      }),
      RUNS,
    );
  });

  it('an entry the guard cannot read as an ALLOW never allows on its own', () => {
    fc.assert(
      fc.property(entry, resource, requirement, routeType, (raw, res, req, type) => {
        const [one] = wire([raw]);
        const effectIsAllow = typeof one?.effect === 'string' && one.effect.toUpperCase() === 'ALLOW';
        if (!effectIsAllow) expect(decideOn([one as AuthorizedResource], res, req, type).allowed).toBe(false);
      }),
      RUNS,
    );
  });

  it('the order of the grants never changes the outcome', () => {
    fc.assert(
      fc.property(entries, fc.array(fc.double({ noNaN: true }), { maxLength: 8 }), resource, requirement, routeType, (list, keys, res, req, type) => {
        const grants = wire(list);
        const before = decideOn(grants, res, req, type);
        const after = decideOn(permute(grants, keys), res, req, type);
        expect({ allowed: after.allowed, reason: after.reason }).toEqual({ allowed: before.allowed, reason: before.reason });
      }),
      RUNS,
    );
  });

  it('adding a grant that is not a plain ALLOW never turns a denial into an allow', () => {
    const notAllow = fc.oneof(fc.constantFrom('DENY', 'deny', undefined, null, '', 'MAYBE'), json).filter(
      (value) => !(typeof value === 'string' && value.toUpperCase() === 'ALLOW'),
    );
    fc.assert(
      fc.property(entries, entry, notAllow, fc.nat(), resource, requirement, routeType, (list, extra, effectValue, at, res, req, type) => {
        const grants = wire(list);
        const before = decideOn(grants, res, req, type);
        const added = wire([{ ...extra, effect: effectValue }]);
        const position = grants.length === 0 ? 0 : at % (grants.length + 1);
        const after = decideOn([...grants.slice(0, position), ...added, ...grants.slice(position)], res, req, type);
        if (!before.allowed) expect(after.allowed).toBe(false);
      }),
      RUNS,
    );
  });

  it('a DENY covers every action the same ALLOW covers, and every case variant of it', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 6 });
    const name = fc.oneof(action, anyText, fc.tuple(anyText, fc.constantFrom(':', ':*')).map(([a, b]) => a + b));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 4 }), fc.oneof(action, anyText, fc.tuple(anyText, anyText).map(([a, b]) => `${a}:${b}`)), (list, asked) => {
        const grant = (effect: 'ALLOW' | 'DENY') => normalizeGrant({ resourceCode: 'r', resourceType: 'DATA', actions: list, effect });
        const allow = grant('ALLOW');
        const deny = grant('DENY');
        if (allow === null || deny === null) throw new Error('a usable code normalizes');
        if (grantCoversAction(allow, asked)) {
          expect(grantCoversAction(deny, asked)).toBe(true);
          expect(grantCoversAction(deny, asked.toUpperCase())).toBe(true);
          expect(grantCoversAction(deny, asked.toLowerCase())).toBe(true);
        }
        for (const listed of list) {
          if (listed === '' || listed === '*') continue;
          const exact = listed.endsWith(':*') && listed.length > 2 ? `${listed.slice(0, -1)}x` : listed;
          expect(grantCoversAction(deny, exact.toUpperCase())).toBe(true);
          expect(grantCoversAction(deny, exact.toLowerCase())).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('folds case one code point at a time, the same for every spelling', () => {
    const text = fc.string({ unit: 'binary', maxLength: 8 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(foldCase(a + b)).toBe(foldCase(a) + foldCase(b));
        expect(foldCase(a.toUpperCase())).toBe(foldCase(a));
        expect(foldCase(a.toLowerCase())).toBe(foldCase(a));
        expect(foldCase(foldCase(a))).toBe(foldCase(a));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the compact index (a cached set) against the lazy one', () => {
  it('same grants in the same order, same wildcards and flags, same decision on every resource', () => {
    fc.assert(
      fc.property(entries, requirement, resource, routeType, (list, req, res, type) => {
        const input = wire(list);
        const lazy = indexGrants(input);
        const compact = indexGrantsCompact(input);
        // Asked first on the compact index: the lazy one builds its Map on a second lookup.
        const options = { resourceType: type, conditions: evaluated };
        expect(decide(compact, res, req, options)).toEqual(decide(lazy, res, req, options));
        expect(decide(compact, res, req, options)).toEqual(decide(lazy, res, req, options));
        expect(compact.grants).toEqual(lazy.grants);
        expect(compact.wildcards).toEqual(lazy.wildcards);
        expect(compact.hasConditions).toBe(lazy.hasConditions);
        expect(compact.grants.map(grantNotes)).toEqual(lazy.grants.map(grantNotes));
      }),
      RUNS,
    );
  });
});
