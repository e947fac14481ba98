import { request } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { managementToken, useEmulator } from '../fixtures.js';

// Tenants of a user pool (GenAuth's multi-tenant): the emulator answers `get-user-authorized-resources`
// with the grants of the tenant a request names in a tenant header, and refuses what it cannot read.

const USER_GRANTS = '/api/v3/get-user-authorized-resources';
const LIST = '/api/v3/list-resources';

async function authOf(emulator: GenAuthEmulator): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await managementToken(emulator)}`, 'x-authing-userpool-id': emulator.userPoolId };
}

async function grantsOf(emulator: GenAuthEmulator, auth: Record<string, string>, userId: string, headers: Record<string, string | string[]> = {}) {
  const res = await request(`${emulator.url}${USER_GRANTS}?userId=${userId}&namespace=default`, { headers: { ...auth, ...headers } });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

const codes = (body: any): string[] => (body.data.list as Array<{ resourceCode: string }>).map((g) => g.resourceCode).sort();

function seed(emulator: GenAuthEmulator): void {
  emulator.setGrants('alice', [{ resourceCode: 'pool:doc', actions: ['doc:Read'] }]);
  emulator.setGrants('alice', [{ resourceCode: 't1:doc', actions: ['doc:Read'] }], { tenant: 't1' });
  emulator.setGrants('alice', [{ resourceCode: 't2:doc', actions: ['doc:Read'] }], { tenant: 't2' });
  emulator.setGrants('bob', [{ resourceCode: 'pool:bob', actions: ['doc:Read'] }]);
}

describe('tenant headers (default: the four spellings GenAuth SDKs send)', () => {
  const emu = useEmulator();
  let auth: Record<string, string>;
  const grants = (userId: string, headers: Record<string, string | string[]> = {}) => grantsOf(emu(), auth, userId, headers);

  beforeAll(async () => {
    auth = await authOf(emu());
  });
  beforeEach(() => seed(emu()));
  afterEach(() => {
    emu().reset();
    emu().resetCalls();
  });

  it('without a tenant header answers the pool grants only', async () => {
    const { body } = await grants('alice');
    expect(body.statusCode).toBe(200);
    expect(codes(body)).toEqual(['pool:doc']);
    expect(emu().calls.at(-1)?.tenant).toBeUndefined();
  });

  it.each(['x-authing-tenant-id', 'x-authing-app-tenant-id', 'x-genauth-tenant-id', 'x-genauth-app-tenant-id'])(
    '%s names the tenant whose grants are answered (and only those)',
    async (name) => {
      const first = await grants('alice', { [name]: 't1' });
      expect(codes(first.body)).toEqual(['t1:doc']);
      expect(emu().calls.at(-1)?.tenant).toBe('t1');
      const second = await grants('alice', { [name]: 't2' });
      expect(codes(second.body)).toEqual(['t2:doc']);
    },
  );

  it('an empty tenant header is no tenant (the Go SDK sends one on every call)', async () => {
    const { body } = await grants('alice', { 'x-authing-app-tenant-id': '' });
    expect(codes(body)).toEqual(['pool:doc']);
  });

  it.each(['x-tenant-id', 'x-authing-app-id', 'tenant-id'])('a header it does not honour (%s) is ignored: the pool grants, as a server that does not read it answers', async (name) => {
    const { body } = await grants('alice', { [name]: 't1' });
    expect(codes(body)).toEqual(['pool:doc']);
    expect(emu().calls.at(-1)?.tenant).toBeUndefined();
  });

  it('a user of the pool who is not a member of the tenant: statusCode 403, apiCode 2120008, no grants', async () => {
    const { status, body } = await grants('bob', { 'x-authing-tenant-id': 't1' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2120008 });
    expect(body.data).toBeUndefined();
  });

  it('a tenant nobody was seeded into is answered the same (never the pool grants)', async () => {
    const { body } = await grants('alice', { 'x-authing-tenant-id': 'nobody-here' });
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2120008 });
  });

  it('a user the pool does not know is "user not found" (2004) with a tenant too', async () => {
    const { body } = await grants('carol', { 'x-authing-tenant-id': 't1' });
    expect(body).toMatchObject({ statusCode: 404, apiCode: 2004 });
  });

  it('two honoured headers naming two tenants: refused (400), not one of them guessed', async () => {
    const { body } = await grants('alice', { 'x-authing-tenant-id': 't1', 'x-authing-app-tenant-id': 't2' });
    expect(body.statusCode).toBe(400);
    expect(body.data).toBeUndefined();
  });

  it('one header sent twice with two tenants: refused (400)', async () => {
    const { body } = await grants('alice', { 'x-authing-tenant-id': ['t1', 't2'] });
    expect(body.statusCode).toBe(400);
    expect(body.data).toBeUndefined();
  });

  it('two honoured headers naming the same tenant: that tenant', async () => {
    const { body } = await grants('alice', { 'x-authing-tenant-id': 't1', 'x-genauth-app-tenant-id': 't1' });
    expect(codes(body)).toEqual(['t1:doc']);
  });

  it('two tenants are refused on the other routes too', async () => {
    const res = await request(`${emu().url}${LIST}?namespace=default`, { headers: { ...auth, 'x-authing-tenant-id': 't1', 'x-genauth-tenant-id': 't2' } });
    expect(((await res.body.json()) as any).statusCode).toBe(400);
  });

  it('addGrants, setRawGrants and addUser seed inside a tenant; setGrants with [] makes a member with no grants', async () => {
    emu().addGrants('alice', [{ resourceCode: 't1:extra', actions: ['doc:Read'] }], { tenant: 't1' });
    emu().setRawGrants('alice', [{ resourceCode: 't1:raw', actions: ['doc:Read'], effect: 'DENY', resourceType: 'DATA' }], { tenant: 't1' });
    expect(codes((await grants('alice', { 'x-authing-tenant-id': 't1' })).body)).toEqual(['t1:doc', 't1:extra', 't1:raw']);
    expect(codes((await grants('alice')).body)).toEqual(['pool:doc']);
    emu().addUser('bob', { tenant: 't1' });
    expect((await grants('bob', { 'x-authing-tenant-id': 't1' })).body).toMatchObject({ statusCode: 200, data: { list: [] } });
    emu().setGrants('dave', [], { tenant: 't3' });
    expect((await grants('dave', { 'x-authing-tenant-id': 't3' })).body).toMatchObject({ statusCode: 200, data: { list: [] } });
  });

  it("roles, groups and departments are the pool's: a tenant answers only what was seeded into it", async () => {
    emu().authorizeResources([{ targetType: 'ROLE', targetIdentifiers: ['admin'], resources: [{ code: 'role:doc', actions: ['doc:Read'], resourceType: 'DATA' }] }]);
    emu().assignRole('alice', 'admin');
    expect(codes((await grants('alice')).body)).toEqual(['pool:doc', 'role:doc']);
    expect(codes((await grants('alice', { 'x-authing-tenant-id': 't1' })).body)).toEqual(['t1:doc']);
  });

  it('deleteUser and clearGrants forget tenant grants and memberships', async () => {
    emu().deleteUser('alice');
    expect((await grants('alice', { 'x-authing-tenant-id': 't1' })).body).toMatchObject({ statusCode: 404, apiCode: 2004 });
    seed(emu());
    emu().clearGrants();
    emu().addUser('alice');
    expect((await grants('alice', { 'x-authing-tenant-id': 't1' })).body).toMatchObject({ statusCode: 403, apiCode: 2120008 });
  });

  it('a bad tenant in a seeding helper is a TypeError', () => {
    expect(() => emu().setGrants('alice', [], { tenant: '' })).toThrow(TypeError);
    expect(() => emu().addGrants('alice', [], { tenant: 1 as unknown as string })).toThrow(TypeError);
    expect(() => emu().addUser('alice', { tenant: 't1', namespace: 'x' } as never)).toThrow(TypeError);
    expect(() => emu().assignRole('alice', 'admin', { tenant: 't1' } as never)).toThrow(TypeError);
  });
});

describe('tenant options', () => {
  it('tenantHeaders: only the names given are read; another one is ignored', async () => {
    const emulator = await startEmulator({ tenantHeaders: ['X-Authing-Tenant-Id'] });
    try {
      seed(emulator);
      const auth = await authOf(emulator);
      expect(codes((await grantsOf(emulator, auth, 'alice', { 'x-authing-tenant-id': 't1' })).body)).toEqual(['t1:doc']);
      expect(codes((await grantsOf(emulator, auth, 'alice', { 'x-authing-app-tenant-id': 't1' })).body)).toEqual(['pool:doc']);
    } finally {
      await emulator.close();
    }
  });

  it('nonMemberStatusCode: the statusCode of the 2120008 answer (GenAuth does not document it)', async () => {
    const emulator = await startEmulator({ nonMemberStatusCode: 400 });
    try {
      seed(emulator);
      const { body } = await grantsOf(emulator, await authOf(emulator), 'bob', { 'x-authing-tenant-id': 't1' });
      expect(body).toMatchObject({ statusCode: 400, apiCode: 2120008 });
    } finally {
      await emulator.close();
    }
  });

  it.each([
    ['startEmulator.tenantHeaders', { tenantHeaders: [] }],
    ['startEmulator.tenantHeaders', { tenantHeaders: 'x-authing-tenant-id' }],
    ['startEmulator.tenantHeaders[0]', { tenantHeaders: ['bad header'] }],
    ['startEmulator.nonMemberStatusCode', { nonMemberStatusCode: 200 }],
    ['startEmulator.nonMemberStatusCode', { nonMemberStatusCode: 4030 }],
  ])('%s refused at start', async (path, options) => {
    await expect(startEmulator(options as never)).rejects.toThrow(path);
  });
});
