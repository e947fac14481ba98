import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSeed, SeedError } from '../../src/cli/seed.js';
import { schemaErrors } from './schema-check.js';

// docs/seed.schema.json and the CLI's own seed checks say the same thing: the example conforms to
// both, and each bad seed below is refused by both, the CLI naming the JSON path the schema names.
const schema = JSON.parse(readFileSync(new URL('../../docs/seed.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const example = JSON.parse(readFileSync(new URL('../../examples/seed/tenant.json', import.meta.url), 'utf8')) as unknown;

function cliPath(seed: unknown): string | undefined {
  try {
    checkSeed(seed);
    return undefined;
  } catch (error) {
    if (error instanceof SeedError) return error.path;
    throw error;
  }
}

const BAD: Array<[string, unknown, string]> = [
  ['not an object', [], '$'],
  ['an unknown top-level field', { user: [] }, '$.user'],
  ['an unknown emulator field', { emulator: { port: 80 } }, '$.emulator.port'],
  ['an empty pool id', { emulator: { userPoolId: '' } }, '$.emulator.userPoolId'],
  ['jwksAlgorithms not a list', { emulator: { jwksAlgorithms: 'RS256' } }, '$.emulator.jwksAlgorithms'],
  ['jwksAlgorithms empty', { emulator: { jwksAlgorithms: [] } }, '$.emulator.jwksAlgorithms'],
  ['jwksAlgorithms naming a symmetric algorithm', { emulator: { jwksAlgorithms: ['RS256', 'HS256'] } }, '$.emulator.jwksAlgorithms[1]'],
  ['jwksAlgorithms naming an algorithm twice', { emulator: { jwksAlgorithms: ['RS256', 'ES256', 'ES256'] } }, '$.emulator.jwksAlgorithms'],
  ['jwksAlgorithms without RS256', { emulator: { jwksAlgorithms: ['ES256'] } }, '$.emulator.jwksAlgorithms'],
  ['users not a list', { users: { alice: {} } }, '$.users'],
  ['a user without id', { users: [{ grants: [] }] }, '$.users[0].id'],
  ['a grant without actions', { users: [{ id: 'a', grants: [{ resourceCode: 'r' }] }] }, '$.users[0].grants[0].actions'],
  ['actions as a string', { users: [{ id: 'a', grants: [{ resourceCode: 'r', actions: 'r:Read' }] }] }, '$.users[0].grants[0].actions'],
  ['an unknown effect', { users: [{ id: 'a', grants: [{ resourceCode: 'r', actions: ['x'], effect: 'MAYBE' }] }] }, '$.users[0].grants[0].effect'],
  ['an unknown resource type', { users: [{ id: 'a', grants: [{ resourceCode: 'r', actions: ['x'], resourceType: 'DISK' }] }] }, '$.users[0].grants[0].resourceType'],
  ['a misspelt grant field', { users: [{ id: 'a', grants: [{ resourceCode: 'r', actions: ['x'], efect: 'DENY' }] }] }, '$.users[0].grants[0].efect'],
  ['a condition without value', { users: [{ id: 'a', grants: [{ resourceCode: 'r', actions: ['x'], condition: [{ param: 'SourceIp', operator: 'IpAddress' }] }] }] }, '$.users[0].grants[0].condition[0].value'],
  ['a role that is not a string', { users: [{ id: 'a', roles: [1] }] }, '$.users[0].roles[0]'],
  ['an empty tenant', { users: [{ id: 'a', tenant: '' }] }, '$.users[0].tenant'],
  ['a tenant that is not a string', { users: [{ id: 'a', tenant: ['acme'] }] }, '$.users[0].tenant'],
  ['a misspelt tenant field', { users: [{ id: 'a', tenantId: 'acme' }] }, '$.users[0].tenantId'],
  ['a resource without type', { resources: [{ code: 'ecs' }] }, '$.resources[0].type'],
  ['an action without name', { resources: [{ code: 'ecs', type: 'API', actions: [{ description: 'x' }] }] }, '$.resources[0].actions[0].name'],
  ['an unknown target type', { authorizations: [{ targetType: 'TEAM', targetIdentifiers: ['t'], resources: [{ code: 'c', actions: [], resourceType: 'DATA' }] }] }, '$.authorizations[0].targetType'],
  ['no target identifiers', { authorizations: [{ targetType: 'ROLE', targetIdentifiers: [], resources: [{ code: 'c', actions: [], resourceType: 'DATA' }] }] }, '$.authorizations[0].targetIdentifiers'],
  ['no resources', { authorizations: [{ targetType: 'ROLE', targetIdentifiers: ['r'], resources: [] }] }, '$.authorizations[0].resources'],
  ['a resource without resourceType', { authorizations: [{ targetType: 'ROLE', targetIdentifiers: ['r'], resources: [{ code: 'c', actions: [] }] }] }, '$.authorizations[0].resources[0].resourceType'],
];

describe('the seed file: docs/seed.schema.json and the CLI agree', () => {
  it('the example conforms to the schema and to the CLI', () => {
    expect(schemaErrors(schema, example)).toEqual([]);
    expect(cliPath(example)).toBeUndefined();
  });

  it.each(BAD)('%s: refused by both, at %s', (_name, seed, path) => {
    expect(cliPath(seed)).toBe(path);
    const errors = schemaErrors(schema, seed);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${path}:`))).toBe(true);
  });

  it('an apiIdentifier on a grant that is not of type API is refused, saying to add the type (beyond what the schema can say)', () => {
    // resourceType defaults to DATA, and API mode reads API grants only: such a grant would allow nothing.
    const seed = { users: [{ id: 'erin', grants: [{ resourceCode: 'servers', apiIdentifier: '/api/v1/servers/*', actions: ['read'] }] }] };
    expect(() => checkSeed(seed)).toThrow('$.users[0].grants[0].apiIdentifier is read on API grants only (resourceType defaults to DATA): add "resourceType": "API"');
    expect(cliPath({ users: [{ id: 'erin', grants: [{ resourceCode: 's', resourceType: 'DATA', apiIdentifier: '/s', actions: ['read'] }] }] })).toBe('$.users[0].grants[0].apiIdentifier');
    expect(cliPath({ users: [{ id: 'erin', grants: [{ resourceCode: 's', resourceType: 'API', apiIdentifier: '/s', actions: ['read'] }] }] })).toBeUndefined();
    expect(cliPath({ users: [{ id: 'erin', grants: [{ resourceCode: 's', apiIdentifier: null, actions: ['read'] }] }] })).toBeUndefined();
  });

  it('emulator.jwksAlgorithms (startEmulator\'s option): distinct asymmetric algorithms with RS256, accepted by both', () => {
    for (const jwksAlgorithms of [['RS256'], ['RS256', 'ES256'], ['EdDSA', 'PS256', 'ES256', 'RS256']]) {
      const seed = { emulator: { userPoolId: 'demo-pool', jwksAlgorithms } };
      expect(schemaErrors(schema, seed)).toEqual([]);
      expect(cliPath(seed)).toBeUndefined();
      expect(checkSeed(seed).emulator?.jwksAlgorithms).toEqual(jwksAlgorithms);
    }
  });

  it('repeated user ids are refused (beyond what the schema can say)', () => {
    expect(cliPath({ users: [{ id: 'a' }, { id: 'a' }] })).toBe('$.users[1].id');
    expect(cliPath({ users: [{ id: 'a', tenant: 'acme' }, { id: 'a', tenant: 'acme' }] })).toBe('$.users[1].id');
  });

  it('tenants: a user\'s entry in a tenant (grants there, or membership alone) beside the pool\'s, accepted by both', () => {
    const seed = {
      users: [
        { id: 'alice', grants: [{ resourceCode: 'reports', actions: ['reports:Read'] }] },
        { id: 'alice', tenant: 'acme', namespace: 'default', grants: [{ resourceCode: 'invoices', actions: ['invoices:Read'] }] },
        { id: 'alice', tenant: 'globex' },
        { id: 'dave', tenant: 'acme' },
      ],
    };
    expect(schemaErrors(schema, seed)).toEqual([]);
    expect(cliPath(seed)).toBeUndefined();
  });

  it.each(['roles', 'groups', 'departments'])('%s in a tenant\'s entry are refused: a tenant answers its own grants only (beyond what the schema can say)', (key) => {
    expect(() => checkSeed({ users: [{ id: 'a', tenant: 'acme', [key]: ['x'] }] })).toThrow(`$.users[0].${key} is not read inside a tenant`);
  });
});
