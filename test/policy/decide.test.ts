import { describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/wire.js';
import { REMEMBERED_RESOURCE_MAX, decide, decideRemembered, normalizeRequirement, type DecisionMemo, type Requirement } from '../../src/policy/decide.js';
import { foldCase } from '../../src/policy/actions.js';
import { heldGrants, indexGrants, indexGrantsCompact, type GrantIndex } from '../../src/policy/grants.js';
import { normalizeGrant } from '../../src/policy/normalize-grant.js';

const allow = (resourceCode: string, actions: string[] | string, extra: Partial<AuthorizedResource> = {}): AuthorizedResource => ({
  resourceCode,
  resourceType: 'DATA',
  actions,
  effect: 'ALLOW',
  ...extra,
});
const deny = (resourceCode: string, actions: string[] | string, extra: Partial<AuthorizedResource> = {}) =>
  allow(resourceCode, actions, { effect: 'DENY', ...extra });

function allowed(grants: AuthorizedResource[], resource: string, requirement: Requirement, resourceType?: 'API' | 'DATA') {
  return decide(indexGrants(grants), resource, normalizeRequirement(requirement), { resourceType }).allowed;
}

describe('decide', () => {
  it.each([
    ['exact code and action', [allow('ecs:1', ['ecs:Start'])], 'ecs:1', 'ecs:Start', true],
    ['other action', [allow('ecs:1', ['ecs:Start'])], 'ecs:1', 'ecs:Stop', false],
    ['other resource', [allow('ecs:1', ['ecs:Start'])], 'ecs:2', 'ecs:Start', false],
    ['no substring match on code', [allow('ecs:1', ['ecs:Start'])], 'ecs:10', 'ecs:Start', false],
    ['no substring match on action', [allow('ecs:1', ['ecs:Start'])], 'ecs:1', 'ecs:Sta', false],
    ['action * matches any', [allow('ecs:1', ['*'])], 'ecs:1', 'ecs:Reboot', true],
    ['action prefix:* matches within', [allow('ecs:1', ['ecs:*'])], 'ecs:1', 'ecs:Reboot', true],
    ['action prefix:* stays within', [allow('ecs:1', ['ecs:*'])], 'ecs:1', 'rds:Reboot', false],
    ['code * matches any', [allow('*', ['ecs:Start'])], 'ecs:9', 'ecs:Start', true],
    ['code prefix:* matches within', [allow('ecs:*', ['ecs:Start'])], 'ecs:9', 'ecs:Start', true],
    ['code prefix:* does not match the bare prefix', [allow('ecs:*', ['ecs:Start'])], 'ecs', 'ecs:Start', false],
    ['code prefix:* stays within', [allow('ecs:*', ['ecs:Start'])], 'rds:9', 'ecs:Start', false],
    ['a star inside a code is literal', [allow('ec*', ['ecs:Start'])], 'ecs:1', 'ecs:Start', false],
    ['actions as a JSON string', [allow('ecs:1', '["ecs:Start","ecs:Stop"]')], 'ecs:1', 'ecs:Stop', true],
    ['unreadable actions string grants nothing', [allow('ecs:1', 'ecs:Start')], 'ecs:1', 'ecs:Start', false],
    ['DENY beats ALLOW (deny last)', [allow('ecs:1', ['*']), deny('ecs:1', ['ecs:Start'])], 'ecs:1', 'ecs:Start', false],
    ['DENY beats ALLOW (deny first)', [deny('ecs:1', ['ecs:Start']), allow('ecs:1', ['*'])], 'ecs:1', 'ecs:Start', false],
    ['wildcard DENY beats exact ALLOW', [allow('ecs:1', ['ecs:Start']), deny('ecs:*', ['*'])], 'ecs:1', 'ecs:Start', false],
    ['DENY of another action leaves ALLOW', [allow('ecs:1', ['*']), deny('ecs:1', ['ecs:Stop'])], 'ecs:1', 'ecs:Start', true],
    ['unknown effect fails closed', [allow('ecs:1', ['*']), allow('ecs:1', ['*'], { effect: 'MAYBE' as never })], 'ecs:1', 'ecs:Start', false],
    ['conditional ALLOW does not apply without evaluation', [allow('ecs:1', ['*'], { condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }] })], 'ecs:1', 'ecs:Start', false],
    ['conditional DENY applies without evaluation', [allow('ecs:1', ['*']), deny('ecs:1', ['*'], { condition: [{ param: 'X', operator: 'Weird', value: '1' }] })], 'ecs:1', 'ecs:Start', false],
    ['no grants', [], 'ecs:1', 'ecs:Start', false],
    ['DENY book:*:read denies book:read (GenAuth: book:*:read is read on every book)', [allow('book:1', ['book:read']), deny('book:1', ['book:*:read'])], 'book:1', 'book:read', false],
    ['DENY book:*:read denies book:1:read', [allow('book:1', ['*']), deny('book:*', ['book:*:read'])], 'book:1', 'book:1:read', false],
    ['DENY *:read denies books:read', [allow('book:1', ['*']), deny('book:1', ['*:read'])], 'book:1', 'books:read', false],
    ['DENY *:Read denies books:read (any case)', [allow('book:1', ['*']), deny('book:1', ['*:Read'])], 'book:1', 'books:read', false],
    ['DENY book:*:* denies book:read', [allow('book:1', ['book:*']), deny('book:1', ['book:*:*'])], 'book:1', 'book:read', false],
    ['DENY book:*:read leaves book:write', [allow('book:1', ['*']), deny('book:1', ['book:*:read'])], 'book:1', 'book:write', true],
    ['DENY book:*:read leaves books:read (another qualifier)', [allow('book:1', ['*']), deny('book:1', ['book:*:read'])], 'book:1', 'books:read', true],
    ['ALLOW book:*:read is literal: it does not grant book:read', [allow('book:1', ['book:*:read'])], 'book:1', 'book:read', false],
    ['DENY *:read:* leaves books:write (every segment of it must be met)', [allow('book:1', ['*']), deny('book:1', ['*:read:*'])], 'book:1', 'books:write', true],
    ['DENY ecs:disk:* denies ecs:disk itself', [allow('ecs:1', ['*']), deny('ecs:1', ['ecs:disk:*'])], 'ecs:1', 'ecs:disk', false],
    // A DENY's code is read as widely as it could be meant: each `*` segment stands for any segments or none.
    ['DENY code ecs:*:disk denies ecs:1:disk', [allow('ecs:*', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:1:disk', 'ecs:Start', false],
    ['DENY code ecs:*:disk denies ecs:disk (its * standing for none)', [allow('ecs:*', ['*']), allow('ecs:disk', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:disk', 'ecs:Start', false],
    ['DENY code ecs:*:disk denies ecs:1:2:disk (or for several)', [allow('ecs:*', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:1:2:disk', 'ecs:Start', false],
    ['DENY code ecs:*:disk denies the code ecs:*:disk itself', [allow('*', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:*:disk', 'ecs:Start', false],
    ['DENY code ecs:*:disk leaves ecs:1:net', [allow('ecs:*', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:1:net', 'ecs:Start', true],
    ['DENY code ecs:*:disk leaves ecs:1:disk:x', [allow('ecs:*', ['*']), deny('ecs:*:disk', ['*'])], 'ecs:1:disk:x', 'ecs:Start', true],
    ['DENY code ecs:*:disk leaves ecsx:1:disk', [allow('*', ['*']), deny('ecs:*:disk', ['*'])], 'ecsx:1:disk', 'ecs:Start', true],
    ['DENY code *:disk denies ecs:disk', [allow('*', ['*']), deny('*:disk', ['*'])], 'ecs:disk', 'ecs:Start', false],
    ['DENY code *:disk denies disk itself', [allow('*', ['*']), deny('*:disk', ['*'])], 'disk', 'ecs:Start', false],
    ['DENY code ecs:*:* denies ecs:1 (was the literal prefix ecs:*:)', [allow('ecs:*', ['*']), deny('ecs:*:*', ['*'])], 'ecs:1', 'ecs:Start', false],
    ['DENY code ecs:1:* denies ecs:1 itself', [allow('ecs:1', ['*']), deny('ecs:1:*', ['*'])], 'ecs:1', 'ecs:Start', false],
    ['DENY code ecs:* denies ecs itself', [allow('ecs', ['*']), deny('ecs:*', ['*'])], 'ecs', 'ecs:Start', false],
    ['DENY code ecs:* leaves ecsx', [allow('*', ['*']), deny('ecs:*', ['*'])], 'ecsx', 'ecs:Start', true],
    ['DENY code ec*:1 (a * inside a segment, read as a whole * segment) denies ecs:1', [allow('ecs:*', ['*']), deny('ec*:1', ['*'])], 'ecs:1', 'ecs:Start', false],
    ['DENY code ecs:1* denies ecs:10', [allow('ecs:*', ['*']), deny('ecs:1*', ['*'])], 'ecs:10', 'ecs:Start', false],
    ['DENY code ec*:1 leaves ecs:2', [allow('ecs:*', ['*']), deny('ec*:1', ['*'])], 'ecs:2', 'ecs:Start', true],
    ['DENY code ecs:*:disk for one action leaves another', [allow('ecs:*', ['*']), deny('ecs:*:disk', ['ecs:Stop'])], 'ecs:1:disk', 'ecs:Start', true],
    // An ALLOW's code is never read wider than documented: `*` and a trailing `:*` only.
    ['ALLOW code ecs:*:disk is literal: it does not grant ecs:1:disk', [allow('ecs:*:disk', ['*'])], 'ecs:1:disk', 'ecs:Start', false],
    ['ALLOW code ecs:*:disk grants the code ecs:*:disk', [allow('ecs:*:disk', ['*']), deny('ecs:*:disk', ['ecs:Stop'])], 'ecs:*:disk', 'ecs:Start', true],
    ['ALLOW code *:disk does not grant ecs:disk', [allow('*:disk', ['*'])], 'ecs:disk', 'ecs:Start', false],
    ['ALLOW code ecs:*:* does not grant ecs:1', [allow('ecs:*:*', ['*'])], 'ecs:1', 'ecs:Start', false],
  ] as const)('%s', (_name, grants, resource, action, expected) => {
    expect(allowed([...grants], resource, action)).toBe(expected);
  });

  it('allOf needs every action, anyOf one', () => {
    const grants = [allow('reports', ['reports:Read'])];
    expect(allowed(grants, 'reports', { allOf: ['reports:Read', 'reports:Admin'] })).toBe(false);
    expect(allowed(grants, 'reports', { anyOf: ['reports:Read', 'reports:Admin'] })).toBe(true);
    expect(allowed(grants, 'reports', { anyOf: ['reports:Write', 'reports:Admin'] })).toBe(false);
    expect(allowed([allow('reports', ['reports:Read', 'reports:Admin'])], 'reports', { allOf: ['reports:Read', 'reports:Admin'] })).toBe(true);
  });

  it('matches the code whatever its type unless the route asks for one', () => {
    const grants = [allow('ecs:1', ['ecs:Start'], { resourceType: 'API', apiIdentifier: '/api/v1/ecs' })];
    expect(allowed(grants, 'ecs:1', 'ecs:Start')).toBe(true);
    expect(allowed(grants, 'ecs:1', 'ecs:Start', 'API')).toBe(true);
    expect(allowed(grants, 'ecs:1', 'ecs:Start', 'DATA')).toBe(false);
  });

  it('reports the grant that decided', () => {
    const index = indexGrants([allow('ecs:1', ['*']), deny('ecs:1', ['ecs:Start'])]);
    const decision = decide(index, 'ecs:1', normalizeRequirement('ecs:Start'));
    expect(decision).toMatchObject({ allowed: false, reason: 'denied', grant: { effect: 'DENY', code: 'ecs:1' } });
    expect(decide(index, 'ecs:1', normalizeRequirement('ecs:Stop'))).toMatchObject({ allowed: true, reason: 'allowed' });
    expect(decide(index, 'ecs:2', normalizeRequirement('ecs:Stop'))).toMatchObject({ allowed: false, reason: 'no_grant' });
  });

  it.each([[''], [{ allOf: [] }], [{ anyOf: [''] }], [{ allOf: ['a'], anyOf: ['b'] }], [42], [null]])(
    'rejects the requirement %j with a TypeError',
    (requirement) => {
      expect(() => normalizeRequirement(requirement as Requirement)).toThrow(TypeError);
    },
  );

  it('decides the same on a reused index: the first lookup scans the list, later ones use the Map of codes', () => {
    const index = indexGrants([
      allow('ecs:1', ['*']),
      deny('ecs:1', ['ecs:Stop']),
      allow('ecs:2', ['ecs:Start']),
      allow('ecs:*', ['ecs:Describe']),
      allow('', ['*']),
    ]);
    const ask = (resource: string, action: string) => decide(index, resource, normalizeRequirement(action), {}).allowed;
    for (let round = 0; round < 3; round++) {
      expect(ask('ecs:1', 'ecs:Stop')).toBe(false);
      expect(ask('ecs:1', 'ecs:Start')).toBe(true);
      expect(ask('ecs:2', 'ecs:Start')).toBe(true);
      expect(ask('ecs:2', 'ecs:Stop')).toBe(false);
      expect(ask('ecs:3', 'ecs:Describe')).toBe(true);
      expect(ask('ecs:*', 'ecs:Start')).toBe(false);
      expect(ask('', 'ecs:Start')).toBe(false);
    }
    expect(index.lookup('ecs:1')).toHaveLength(2);
    expect(index.grants.map((g) => g.code).sort()).toEqual(['ecs:*', 'ecs:1', 'ecs:1', 'ecs:2']);
  });

  it('finds a code on the first lookup of a fresh index whichever code is asked first', () => {
    const entries = [allow('ecs:1', ['ecs:Start']), deny('ecs:1', ['ecs:Start']), allow('ecs:*', ['*'])];
    expect(indexGrants(entries).lookup('ecs:1')).toHaveLength(2);
    expect(indexGrants(entries).lookup('ecs:*')).toBeUndefined();
    expect(indexGrants(entries).lookup('ecs:9')).toBeUndefined();
  });
});

describe('decideRemembered', () => {
  const memoOver = (index: GrantIndex): DecisionMemo => ({ index, held: heldGrants(index), lastDecision: undefined, lastResourceType: undefined });
  const memoOf = (grants: AuthorizedResource[]): DecisionMemo => memoOver(indexGrants(grants));
  const grants = [allow('ecs:1', ['ecs:Start']), allow('api:1', ['ecs:Start'], { resourceType: 'API' }), deny('ecs:2', ['ecs:Start'])];
  const start = normalizeRequirement('ecs:Start');

  it('hands out only frozen decisions, a DENY under allOf included (the memo may give it to every user of the set)', () => {
    const memo = memoOf(grants);
    for (const requirement of [start, normalizeRequirement({ allOf: ['ecs:Start', 'ecs:Stop'] }), normalizeRequirement({ anyOf: ['ecs:Start'] })]) {
      for (const resource of ['ecs:1', 'ecs:2', 'ecs:9']) {
        expect(Object.isFrozen(decide(memo.index, resource, requirement))).toBe(true);
        expect(Object.isFrozen(decideRemembered(memo, resource, requirement, undefined))).toBe(true);
      }
    }
  });

  it('answers a repeated question with the same frozen decision', () => {
    const memo = memoOf(grants);
    const first = decideRemembered(memo, 'ecs:1', start, undefined);
    expect(first).toMatchObject({ allowed: true, resource: 'ecs:1', reason: 'allowed' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(decideRemembered(memo, `ecs:${1}`, start, undefined)).toBe(first);
  });

  it('decides again for another resource, requirement or resource type, and matches decide() each time', () => {
    const memo = memoOf(grants);
    const index = memo.index;
    const cases: Array<[string, ReturnType<typeof normalizeRequirement>, 'API' | 'DATA' | undefined]> = [
      ['ecs:1', start, undefined],
      ['ecs:2', start, undefined],
      ['ecs:1', normalizeRequirement('ecs:Stop'), undefined],
      ['ecs:1', normalizeRequirement({ anyOf: ['ecs:Start'] }), undefined],
      ['api:1', start, undefined],
      ['api:1', start, 'DATA'],
      ['api:1', start, 'API'],
      ['ecs:1', start, 'API'],
      ['ecs:1', start, undefined],
    ];
    for (const [resource, requirement, resourceType] of cases) {
      const expected = decide(index, resource, requirement, { resourceType });
      const got = decideRemembered(memo, resource, requirement, resourceType);
      expect(got, `${resource} ${requirement.mode} ${requirement.actions} ${resourceType}`).toEqual(expected);
      expect(memo.lastDecision).toBe(got);
    }
  });

  it('keeps no decision about a resource longer than REMEMBERED_RESOURCE_MAX', () => {
    const memo = memoOf([allow('*', ['ecs:Start'])]);
    const long = `ecs:${'x'.repeat(REMEMBERED_RESOURCE_MAX)}`;
    const first = decideRemembered(memo, long, start, undefined);
    expect(first.allowed).toBe(true);
    expect(memo.lastDecision).toBeUndefined();
    expect(decideRemembered(memo, long, start, undefined)).not.toBe(first);
  });
});

describe('reading grant entries as GenAuth may send them', () => {
  const raw = (entry: Record<string, unknown>) => entry as unknown as AuthorizedResource;
  const onUser = { param: 'UserId', operator: 'StringEquals', value: 'alice' };
  const holds = () => true;
  const ask = (grants: AuthorizedResource[], action = 'ecs:Start', options: Parameters<typeof decide>[3] = {}) =>
    decide(indexGrants(grants), 'ecs:1', normalizeRequirement(action), options).allowed;

  it('reads a single condition object as a list of one, and the index knows the grants carry conditions', () => {
    const index = indexGrants([allow('ecs:1', ['*'], { condition: onUser })]);
    expect(index.hasConditions).toBe(true);
    expect(index.lookup('ecs:1')?.[0]?.conditions).toEqual([onUser]);
    expect(decide(index, 'ecs:1', normalizeRequirement('ecs:Start')).allowed).toBe(false);
    expect(decide(index, 'ecs:1', normalizeRequirement('ecs:Start'), { conditions: holds }).allowed).toBe(true);
    expect(indexGrants([allow('ecs:*', ['*'], { condition: onUser })]).hasConditions).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['[]', []],
  ])('a condition that is %s means none', (_name, condition) => {
    const index = indexGrants([allow('ecs:1', ['*'], { condition: condition as never })]);
    expect(index.hasConditions).toBe(false);
    expect(decide(index, 'ecs:1', normalizeRequirement('ecs:Start')).allowed).toBe(true);
  });

  it.each([
    ['a string', 'UserId'],
    ['a number', 0],
    ['true', true],
    ['a list holding a string', ['x']],
    ['a list holding null', [onUser, null]],
    ['a list holding a list', [[onUser]]],
  ])('a condition that is %s: an ALLOW grants nothing, a DENY applies unconditionally', (_name, condition) => {
    expect(ask([allow('ecs:1', ['*'], { condition: condition as never })], 'ecs:Start', { conditions: holds })).toBe(false);
    const denied = [allow('ecs:1', ['*']), deny('ecs:1', ['*'], { condition: condition as never })];
    expect(ask(denied, 'ecs:Start', { conditions: () => false })).toBe(false);
    expect(indexGrants(denied).hasConditions).toBe(false);
  });

  it.each([
    ['missing', raw({ resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['*'] })],
    ['null', raw({ resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['*'], effect: null })],
    ['empty', raw({ resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['*'], effect: '' })],
  ])('an effect that is %s counts as DENY', (_name, entry) => {
    expect(normalizeGrant(entry)?.effect).toBe('DENY');
    expect(ask([entry])).toBe(false);
    expect(ask([allow('ecs:1', ['*']), entry])).toBe(false);
  });

  it('reads the effect ALLOW whatever its case', () => {
    expect(ask([allow('ecs:1', ['*'], { effect: 'allow' as never })])).toBe(true);
  });

  it.each([
    ['[]', []],
    ['"[]"', '[]'],
    ['[""]', ['']],
    ['an object', { a: 1 }],
    ['[1]', [1]],
  ])('a DENY whose actions are %s denies every action on its code; an ALLOW grants nothing', (_name, actions) => {
    expect(normalizeGrant(deny('ecs:1', actions as never))?.actions).toEqual(['*']);
    expect(ask([allow('ecs:1', ['*']), deny('ecs:1', actions as never)], 'other:Thing')).toBe(false);
    expect(normalizeGrant(allow('ecs:1', actions as never))?.actions).toEqual([]);
    expect(ask([allow('ecs:1', actions as never)], 'other:Thing')).toBe(false);
  });

  it('ignores empty action names beside real ones', () => {
    expect(normalizeGrant(deny('ecs:1', ['', 'ecs:Stop']))?.actions).toEqual(['ecs:Stop']);
    expect(ask([allow('ecs:1', ['*']), deny('ecs:1', ['', 'ecs:Stop'])])).toBe(true);
  });

  it.each([
    ['ecs:start', 'ecs:Start'],
    ['ECS:START', 'ecs:Start'],
    ['Ecs:*', 'ecs:Start'],
    ['ECS:*', 'eCs:sTaRt'],
    ['σ:read', 'Σ:read'],
    ['ς:*', 'Σ:read'],
    ['ΑΣ:*', 'ας:read'],
    ['ΑΣ:*', 'ΑΣ:read'],
    ['k:read', '\u212a:read'],
    ['straße:read', 'STRASSE:READ'],
    ['STRA\u1e9eE:*', 'straße:read'],
  ])('a DENY of %s denies %s (actions of a DENY match case-insensitively)', (denied, action) => {
    expect(ask([allow('ecs:1', ['*']), deny('ecs:1', [denied])], action)).toBe(false);
  });

  it('ALLOW actions still match exactly', () => {
    expect(ask([allow('ecs:1', ['ecs:start'])], 'ecs:Start')).toBe(false);
    expect(ask([allow('ecs:1', ['Ecs:*'])], 'ecs:Start')).toBe(false);
    expect(ask([allow('ecs:1', ['ecs:Start'])], 'ecs:Start')).toBe(true);
  });

  it('folds case one code point at a time, so a folded prefix stays a prefix', () => {
    expect(foldCase('Books:Read')).toBe('books:read');
    expect(foldCase('ΑΣ:')).toBe('ασ:');
    expect(foldCase('ΑΣ:x')).toBe(`${foldCase('ΑΣ:')}${foldCase('x')}`);
    expect(foldCase('\u212a')).toBe('k');
    expect(foldCase('\ud800x')).toBe('\ud800x');
    expect(foldCase('\u1e9e')).toBe(foldCase('ß'));
    expect(foldCase('ß')).toBe('ss');
  });

  it.each([
    ['FOO', 'FOO'],
    ['missing', undefined],
    ['a number', 1],
    ['empty', ''],
  ])('a resourceType that is %s is unknown: such an ALLOW counts only where no type is asked for', (_name, resourceType) => {
    const entry = raw({ resourceCode: 'ecs:1', resourceType, actions: ['*'], effect: 'ALLOW' });
    expect(normalizeGrant(entry)?.type).toBeNull();
    expect(ask([entry], 'ecs:Start', { resourceType: 'DATA' })).toBe(false);
    expect(ask([entry], 'ecs:Start', { resourceType: 'API' })).toBe(false);
    expect(ask([entry])).toBe(true);
    const denied = raw({ resourceCode: 'ecs:1', resourceType, actions: ['*'], effect: 'DENY' });
    expect(ask([allow('ecs:1', ['*']), denied])).toBe(false);
  });

  it.each([
    ['FOO', 'FOO'],
    ['missing', undefined],
    ['a number', 1],
    ['empty', ''],
  ])('a resourceType that is %s is unknown: such a DENY applies on a route that asks for any type (fail closed)', (_name, resourceType) => {
    const denied = raw({ resourceCode: 'ecs:1', resourceType, actions: ['ecs:Start'], effect: 'DENY' });
    for (const type of ['DATA', 'API', 'MENU'] as const) {
      const decision = decide(indexGrants([allow('ecs:1', ['*'], { resourceType: type }), denied]), 'ecs:1', normalizeRequirement('ecs:Start'), { resourceType: type });
      expect(decision, type).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'ecs:1', effect: 'DENY', type: null } });
    }
    // Remembered decisions too, asked in turn with and without a type.
    const index = indexGrants([allow('ecs:1', ['*']), denied]);
    const memo: DecisionMemo = { index, held: heldGrants(index), lastDecision: undefined, lastResourceType: undefined };
    const start = normalizeRequirement('ecs:Start');
    for (const type of ['DATA', undefined, 'DATA'] as const) expect(decideRemembered(memo, 'ecs:1', start, type).reason, String(type)).toBe('denied');
    // A DENY of another known type still does not count on a typed route; nor on actions it does not name.
    expect(ask([allow('ecs:1', ['*']), deny('ecs:1', ['*'], { resourceType: 'MENU' })], 'ecs:Start', { resourceType: 'DATA' })).toBe(true);
    expect(ask([allow('ecs:1', ['*']), denied], 'ecs:Stop', { resourceType: 'DATA' })).toBe(true);
  });

  it('reads a known resourceType whatever its case', () => {
    expect(normalizeGrant(allow('ecs:1', ['*'], { resourceType: 'api' as never }))?.type).toBe('API');
  });

  it('estimates the bytes of a condition in every shape it may arrive in', () => {
    const base = indexGrants([allow('ecs:1', ['*'])]).bytes;
    const big = 'x'.repeat(10_000);
    for (const condition of [big, [big], { param: big, operator: 'StringEquals', value: 'x' }, [{ param: 'p', operator: 'o', value: [big] }]]) {
      expect(indexGrants([allow('ecs:1', ['*'], { condition: condition as never })]).bytes, JSON.stringify(condition).slice(0, 40)).toBeGreaterThan(base + 4 * 9_900);
    }
    expect(indexGrants([allow('ecs:1', ['*'], { resourceType: big as never })]).bytes).toBeGreaterThan(base + 4 * 9_900);
  });
});

describe('a DENY code in another case', () => {
  // GenAuth does not say whether resource codes are case-sensitive. A DENY of `Books` that leaves `books`
  // to an ALLOW fails open if they are one resource, so a DENY's code covers every spelling of it (as its
  // actions already do); an ALLOW's code stays exact.
  it.each([
    ['a differently cased exact code', 'Books', 'books'],
    ['an upper-cased code', 'BOOKS:1', 'books:1'],
    ['a lower-cased code against a cased resource', 'books:1', 'Books:1'],
    ['a prefix wildcard', 'Books:*', 'books:1'],
    ['a prefix wildcard covering the bare code', 'Books:*', 'books'],
    ['a segment wildcard', '*:DISK', 'ecs:1:disk'],
    ['a non-ASCII fold', 'STRASSE', 'straße'],
    ['Kelvin', 'k:1', '\u212a:1'],
  ])('%s: a DENY of %s denies %s, in both indexes', (_name, denied, resource) => {
    const grants = [allow(resource, ['*']), deny(denied, ['*'])];
    for (const index of [indexGrants(grants), indexGrantsCompact(grants)]) {
      const decision = decide(index, resource, normalizeRequirement('x:read'));
      expect(decision).toMatchObject({ allowed: false, reason: 'denied' });
      expect(decision.grant?.code).toBe(denied);
    }
  });

  it.each([
    ['another code', 'Bookshelf', 'books'],
    ['a prefix wildcard of another code', 'Book:*', 'books:1'],
  ])('%s: a DENY of %s does not deny %s', (_name, denied, resource) => {
    const grants = [allow(resource, ['*']), deny(denied, ['*'])];
    for (const index of [indexGrants(grants), indexGrantsCompact(grants)]) expect(decide(index, resource, normalizeRequirement('x:read')).allowed).toBe(true);
  });

  it('an ALLOW code stays exact, wildcard or not', () => {
    for (const index of [indexGrants([allow('Books', ['*']), allow('ECS:*', ['*'])]), indexGrantsCompact([allow('Books', ['*']), allow('ECS:*', ['*'])])]) {
      expect(decide(index, 'books', normalizeRequirement('x:read')).allowed).toBe(false);
      expect(decide(index, 'ecs:1', normalizeRequirement('x:read')).allowed).toBe(false);
      expect(decide(index, 'Books', normalizeRequirement('x:read')).allowed).toBe(true);
    }
  });

  it('the same code in one case keeps the exact path (one grant per lookup, no repeat)', () => {
    const grants = [allow('books', ['*']), deny('books', ['x:write'])];
    const index = indexGrantsCompact(grants);
    expect(decide(index, 'books', normalizeRequirement('x:read')).allowed).toBe(true);
    expect(decide(index, 'books', normalizeRequirement('x:write')).reason).toBe('denied');
  });
});

describe('an index with DENYs of one code in several cases', () => {
  const list = [allow('books', ['*']), deny('Books', ['x:write']), deny('BOOKS', ['x:read']), allow('Books', ['x:list'])];
  it.each([['lazy', indexGrants], ['compact', indexGrantsCompact]] as const)('%s: lookup adds the other spellings\' DENYs, grants lists each grant once', (_name, make) => {
    const index = make(list);
    expect(index.lookup('books')?.map((g) => `${g.effect} ${g.code}`)).toEqual(['ALLOW books', 'DENY Books', 'DENY BOOKS']);
    expect(index.lookup('Books')?.map((g) => `${g.effect} ${g.code}`)).toEqual(['DENY Books', 'ALLOW Books', 'DENY BOOKS']);
    expect(index.lookup('bOOks')).toBeUndefined();
    expect(index.grants).toHaveLength(4);
    expect(decide(index, 'books', normalizeRequirement('x:read')).grant?.code).toBe('BOOKS');
    expect(decide(index, 'bOOks', normalizeRequirement('x:write')).reason).toBe('denied');
    expect(decide(index, 'Books', normalizeRequirement('x:list')).reason).toBe('allowed');
  });
});
