import { describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { REMEMBERED_RESOURCE_MAX, decide, decideRemembered, normalizeRequirement, type DecisionMemo, type Requirement } from '../../src/policy/decide.js';
import { indexGrants } from '../../src/policy/grants.js';

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
  const memoOf = (grants: AuthorizedResource[]): DecisionMemo => ({ index: indexGrants(grants), lastDecision: undefined, lastResourceType: undefined });
  const grants = [allow('ecs:1', ['ecs:Start']), allow('api:1', ['ecs:Start'], { resourceType: 'API' }), deny('ecs:2', ['ecs:Start'])];
  const start = normalizeRequirement('ecs:Start');

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
