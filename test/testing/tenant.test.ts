import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type AuthorizeItem } from '../../src/testing/index.js';
import { managementToken, useEmulator } from '../fixtures.js';

const USER_GRANTS = '/api/v3/get-user-authorized-resources';
const TARGET = '/api/v3/get-authorized-resources';
const AUTHORIZE = '/api/v3/authorize-resources';
const CREATE = '/api/v3/create-resource';
const LIST = '/api/v3/list-resources';
const NAMESPACE = '/api/v3/create-namespace';

let auth: Record<string, string>;

const emu = useEmulator();

beforeAll(async () => {
  auth = { authorization: `Bearer ${await managementToken(emu())}`, 'x-authing-userpool-id': emu().userPoolId };
});
afterEach(() => {
  emu().reset();
  emu().resetCalls();
});

async function post(path: string, body: unknown, headers = auth) {
  const res = await request(`${emu().url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

async function get(path: string, query: string | Record<string, string>) {
  const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
  const res = await request(`${emu().url}${path}?${qs}`, { headers: auth });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

const codes = (body: any) => (body.data.list as Array<{ resourceCode: string }>).map((g) => g.resourceCode).sort();

/** An `authorize-resources` item; loosely typed so the refusal tables can pass invalid values. */
const grant = (targetType: string, ids: string[], ...resources: Array<[string, string[], string?]>) =>
  ({
    targetType,
    targetIdentifiers: ids,
    resources: resources.map(([code, actions, resourceType = 'DATA']) => ({ code, actions, resourceType })),
  }) as AuthorizeItem;

describe('create-resource', () => {
  it('defines an API resource whose apiIdentifier is served on every grant of its code', async () => {
    const created = await post(CREATE, {
      code: 'orders', type: 'API', apiIdentifier: '/api/orders/*', description: 'Orders API',
      actions: [{ name: 'orders:read', description: 'read' }, { name: 'orders:write' }],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      statusCode: 200,
      data: {
        code: 'orders', type: 'API', apiIdentifier: '/api/orders/*', namespace: 'default', name: 'orders',
        actions: [{ name: 'orders:read', description: 'read' }, { name: 'orders:write', description: '' }],
      },
    });
    expect((await post(AUTHORIZE, { list: [grant('USER', ['alice'], ['orders', ['orders:read'], 'API'])] })).body).toMatchObject({
      statusCode: 200, data: { success: true },
    });
    const { body } = await get(USER_GRANTS, { userId: 'alice' });
    expect(body.data).toEqual({
      totalCount: 1,
      list: [{
        resourceCode: 'orders', resourceType: 'API', actions: ['orders:read'], effect: 'ALLOW',
        apiIdentifier: '/api/orders/*', description: 'Orders API', condition: [],
      }],
    });
  });

  it.each<[string, unknown, number]>([
    ['missing code', { type: 'DATA' }, 400],
    ['unknown type', { code: 'x', type: 'FILE' }, 400],
    ['actions not objects', { code: 'x', type: 'DATA', actions: ['read'] }, 400],
    ['unknown namespace', { code: 'x', type: 'DATA', namespace: 'nowhere' }, 404],
  ])('refuses %s (body %i)', async (_name, body, statusCode) => {
    const res = await post(CREATE, body);
    expect(res).toMatchObject({ status: 200, body: { statusCode } });
    expect(res.body.data).toBeUndefined();
  });

  it('refuses a duplicate code in a namespace, allows it in another', async () => {
    expect((await post(CREATE, { code: 'x', type: 'DATA' })).body.statusCode).toBe(200);
    expect((await post(CREATE, { code: 'x', type: 'DATA' })).body.statusCode).toBe(409);
    expect((await post(NAMESPACE, { code: 'ns2', name: 'Second' })).body).toMatchObject({ statusCode: 200, data: { code: 'ns2', name: 'Second' } });
    expect((await post(NAMESPACE, { code: 'ns2' })).body.statusCode).toBe(409);
    expect((await post(CREATE, { code: 'x', type: 'DATA', namespace: 'ns2' })).body.statusCode).toBe(200);
  });

  it('list-resources pages the definitions of a namespace, filtered by type', async () => {
    for (let i = 0; i < 12; i++) emu().createResource({ code: `r${i}`, type: i % 2 ? 'API' : 'DATA' });
    const first = await get(LIST, { page: '1' });
    expect(first.body.data.totalCount).toBe(12);
    expect(first.body.data.list).toHaveLength(10);
    expect((await get(LIST, { page: '2' })).body.data.list).toHaveLength(2);
    expect((await get(LIST, { type: 'API', limit: '50' })).body.data.totalCount).toBe(6);
  });

  it('the code helper throws on a bad definition', () => {
    emu().createResource({ code: 'dup', type: 'DATA' });
    expect(() => emu().createResource({ code: 'dup', type: 'DATA' })).toThrow(TypeError);
    expect(() => emu().createNamespace('')).toThrow(TypeError);
  });
});

describe('authorize-resources', () => {
  it('grants to several users at once; an unknown code is accepted; repeated grants merge actions', async () => {
    const res = await post(AUTHORIZE, {
      namespace: 'default',
      list: [grant('USER', ['u1', 'u2'], ['books:*', ['books:read']], ['never-created', ['x']])],
    });
    expect(res.body).toMatchObject({ statusCode: 200, data: { success: true } });
    await post(AUTHORIZE, { list: [grant('USER', ['u1'], ['books:*', ['books:write']])] });
    const u1 = (await get(USER_GRANTS, { userId: 'u1' })).body.data.list;
    expect(u1).toContainEqual(expect.objectContaining({ resourceCode: 'books:*', actions: ['books:read', 'books:write'], apiIdentifier: null }));
    expect(codes((await get(USER_GRANTS, { userId: 'u2' })).body)).toEqual(['books:*', 'never-created']);
  });

  it.each<[string, unknown, number]>([
    ['an empty list', { list: [] }, 400],
    ['more than 10 items', { list: Array.from({ length: 11 }, () => grant('USER', ['u'], ['a', ['x']])) }, 400],
    ['a bad targetType', { list: [grant('TEAM', ['u'], ['a', ['x']])] }, 400],
    ['no targetIdentifiers', { list: [grant('USER', [], ['a', ['x']])] }, 400],
    ['a bad resourceType', { list: [grant('USER', ['u'], ['a', ['x'], 'FILE'])] }, 400],
    ['actions not an array', { list: [{ targetType: 'USER', targetIdentifiers: ['u'], resources: [{ code: 'a', actions: 'x', resourceType: 'DATA' }] }] }, 400],
    ['a missing namespace (权限组不存在)', { namespace: 'nowhere', list: [grant('USER', ['u'], ['a', ['x']])] }, 404],
  ])('refuses %s (body %i), granting nothing', async (_name, body, statusCode) => {
    expect((await post(AUTHORIZE, body)).body.statusCode).toBe(statusCode);
    expect((await get(USER_GRANTS, { userId: 'u' })).body.apiCode).toBe(2004);
  });

  it('refuses a JSON body that is not an object, and an unauthenticated call', async () => {
    expect((await post(AUTHORIZE, '[1]')).status).toBe(400);
    expect((await post(AUTHORIZE, '{oops')).status).toBe(400);
    const anonymous = await post(AUTHORIZE, { list: [grant('USER', ['u'], ['a', ['x']])] }, {});
    expect(anonymous).toMatchObject({ status: 200, body: { statusCode: 401 } });
    expect((await get(USER_GRANTS, { userId: 'u' })).body.apiCode).toBe(2004);
  });
});

describe('get-user-authorized-resources: union of direct, role, group and department grants', () => {
  it('merges all four sources, drops exact duplicates, and respects resourceType', async () => {
    emu().setGrants('alice', [{ resourceCode: 'direct', actions: ['d'] }]);
    emu().assignRole('alice', 'admin');
    emu().addToGroup('alice', 'devs');
    emu().addToDepartment('alice', 'dept-1');
    emu().authorizeResources([
      grant('ROLE', ['admin'], ['role-res', ['r']], ['shared', ['s']]),
      grant('GROUP', ['devs'], ['group-res', ['g'], 'MENU'], ['shared', ['s']]),
      grant('DEPARTMENT', ['dept-1'], ['dept-res', ['p']]),
      grant('ROLE', ['other-role'], ['not-mine', ['n']]),
    ]);
    const { body } = await get(USER_GRANTS, { userId: 'alice' });
    expect(codes(body)).toEqual(['dept-res', 'direct', 'group-res', 'role-res', 'shared']);
    expect(body.data.totalCount).toBe(5);
    expect(codes((await get(USER_GRANTS, { userId: 'alice', resourceType: 'MENU' })).body)).toEqual(['group-res']);
  });

  it('setGrants replaces only the direct grants; roles are per namespace', async () => {
    emu().assignRole('bob', 'viewer', { namespace: 'ns2' });
    emu().authorizeResources([grant('ROLE', ['viewer'], ['ns2-res', ['v']])], { namespace: 'ns2' });
    emu().authorizeResources([grant('ROLE', ['viewer'], ['default-res', ['v']])]);
    emu().setGrants('bob', [{ resourceCode: 'mine', actions: ['m'] }], { namespace: 'ns2' });
    expect(codes((await get(USER_GRANTS, { userId: 'bob', namespace: 'ns2' })).body)).toEqual(['mine', 'ns2-res']);
    // bob holds viewer in ns2 only, so the default namespace's viewer grants are not his.
    expect((await get(USER_GRANTS, { userId: 'bob' })).body.data).toEqual({ totalCount: 0, list: [] });
    emu().setGrants('bob', [], { namespace: 'ns2' });
    expect(codes((await get(USER_GRANTS, { userId: 'bob', namespace: 'ns2' })).body)).toEqual(['ns2-res']);
  });

  it('a member with no grants is known (empty list); clearGrants forgets members', async () => {
    emu().addToGroup('carol', 'empty-group');
    expect((await get(USER_GRANTS, { userId: 'carol' })).body).toMatchObject({ statusCode: 200, data: { totalCount: 0 } });
    emu().addUser('dave');
    expect((await get(USER_GRANTS, { userId: 'dave' })).body.statusCode).toBe(200);
    emu().clearGrants();
    expect((await get(USER_GRANTS, { userId: 'carol' })).body).toMatchObject({ statusCode: 404, apiCode: 2004 });
  });

  it('clearGrants keeps resource definitions; reset forgets them', async () => {
    emu().createResource({ code: 'kept', type: 'API', apiIdentifier: '/kept' });
    emu().clearGrants();
    expect(() => emu().createResource({ code: 'kept', type: 'API' })).toThrow(TypeError);
    emu().reset();
    expect(() => emu().createResource({ code: 'kept', type: 'API' })).not.toThrow();
  });
});

describe('get-authorized-resources', () => {
  it('answers the grants of one principal, without inheritance', async () => {
    emu().setGrants('alice', [{ resourceCode: 'direct', actions: ['d'] }]);
    emu().assignRole('alice', 'admin');
    emu().authorizeResources([grant('ROLE', ['admin'], ['role-res', ['r']])]);
    expect(codes((await get(TARGET, { targetType: 'USER', targetIdentifier: 'alice' })).body)).toEqual(['direct']);
    expect(codes((await get(TARGET, { targetType: 'ROLE', targetIdentifier: 'admin' })).body)).toEqual(['role-res']);
  });

  it('resourceList matches prefixes (books:* and books:fictions_), in every wire form', async () => {
    emu().authorizeResources([
      grant('GROUP', ['readers'], ['books:123', ['books:read']], ['books:fictions_123', ['books:read']], ['films:1', ['films:read']]),
    ]);
    const base = 'targetType=GROUP&targetIdentifier=readers';
    expect(codes((await get(TARGET, `${base}&resourceList[]=books:*`)).body)).toEqual(['books:123', 'books:fictions_123']);
    expect(codes((await get(TARGET, `${base}&resourceList=books:fictions_`)).body)).toEqual(['books:fictions_123']);
    expect(codes((await get(TARGET, `${base}&resourceList=films:&resourceList=books:1`)).body)).toEqual(['books:123', 'films:1']);
    expect(codes((await get(TARGET, `${base}&resourceList[0]=films:1`)).body)).toEqual(['films:1']);
    expect(codes((await get(TARGET, `${base}&resourceList[]=nothing`)).body)).toEqual([]);
  });

  it('DENY rows only with withDenied=true; resourceType filters', async () => {
    emu().authorizeResources([
      { targetType: 'USER', targetIdentifiers: ['u1'], resources: [
        { code: 'open', actions: ['x'], resourceType: 'DATA' },
        { code: 'secret', actions: ['*'], resourceType: 'API', effect: 'DENY' },
      ] },
    ]);
    const query = { targetType: 'USER', targetIdentifier: 'u1' };
    expect(codes((await get(TARGET, query)).body)).toEqual(['open']);
    expect(codes((await get(TARGET, { ...query, withDenied: 'false' })).body)).toEqual(['open']);
    expect(codes((await get(TARGET, { ...query, withDenied: 'true' })).body)).toEqual(['open', 'secret']);
    expect(codes((await get(TARGET, { ...query, withDenied: 'true', resourceType: 'API' })).body)).toEqual(['secret']);
    // get-user-authorized-resources has no switch: DENY rows are always there.
    expect(codes((await get(USER_GRANTS, { userId: 'u1' })).body)).toEqual(['open', 'secret']);
  });

  // Whether get-user-authorized-resources includes DENY rows is not documented (GENAUTH-PROTOCOL 3.1):
  // the emulator serves them unless told otherwise, so a policy can be tested under both answers.
  it("deniedRows: 'omitted' leaves DENY rows out of get-user-authorized-resources (get-authorized-resources keeps withDenied)", async () => {
    const other = await startEmulator({ deniedRows: 'omitted' });
    try {
      other.setGrants('u1', [{ resourceCode: 'ecs:*', actions: ['ecs:Start'] }, { resourceCode: 'ecs:9', actions: ['*'], effect: 'DENY' }]);
      other.setRawGrants('u1', [{ resourceCode: 'raw', actions: ['x'], resourceType: 'DATA', effect: 'DENY' }]);
      const token = await managementToken(other);
      const headers = { authorization: token, 'x-authing-userpool-id': other.userPoolId };
      const user = await request(`${other.url}${USER_GRANTS}?userId=u1`, { headers });
      expect(((await user.body.json()) as any).data).toEqual({ totalCount: 1, list: [expect.objectContaining({ resourceCode: 'ecs:*', effect: 'ALLOW' })] });
      const target = await request(`${other.url}${TARGET}?targetType=USER&targetIdentifier=u1&withDenied=true`, { headers });
      expect(codes(await target.body.json())).toEqual(['ecs:*', 'ecs:9']);
    } finally {
      await other.close();
    }
  });

  it.each<[string, Record<string, string>, number, number | undefined]>([
    ['no targetType', { targetIdentifier: 'x' }, 400, undefined],
    ['a bad targetType', { targetType: 'TEAM', targetIdentifier: 'x' }, 400, undefined],
    ['no targetIdentifier', { targetType: 'USER' }, 400, undefined],
    // authing-node-sdk test/resource/getAuthorizedResources.spec.ts: an empty identifier is "not found", not invalid.
    ['an empty group identifier', { targetType: 'GROUP', targetIdentifier: '' }, 404, undefined],
    ['an empty user identifier', { targetType: 'USER', targetIdentifier: '' }, 404, 2004],
    ['an unknown user', { targetType: 'USER', targetIdentifier: 'ghost' }, 404, 2004],
    ['an unknown group', { targetType: 'GROUP', targetIdentifier: 'ghosts' }, 404, undefined],
    ['an unknown role', { targetType: 'ROLE', targetIdentifier: 'ghost' }, 404, undefined],
    ['a missing namespace', { targetType: 'USER', targetIdentifier: 'x', namespace: 'nowhere' }, 404, undefined],
    ['a resourceType outside the spec', { targetType: 'USER', targetIdentifier: 'x', resourceType: 'api' }, 400, undefined],
  ])('refuses %s (body %i)', async (_name, query, statusCode, apiCode) => {
    const { status, body } = await get(TARGET, query);
    expect(status).toBe(200);
    expect(body.statusCode).toBe(statusCode);
    expect(body.apiCode).toBe(apiCode);
  });

  it('an unknown group is refused with the message GenAuth sends, identifier verbatim', async () => {
    for (const id of ['', '额！ ']) {
      const { body } = await get(TARGET, { targetType: 'GROUP', targetIdentifier: id });
      expect(body).toMatchObject({ statusCode: 404, message: `group not exists with code: ${id}` });
    }
  });

  // Before: a namespace given twice was no string, so the default space's grants were served.
  it('a namespace given as a list is body 400, never the default namespace', async () => {
    emu().addUser('u1');
    emu().authorizeResources([grant('USER', ['u1'], ['in-default', ['x']])]);
    for (const query of ['targetType=USER&targetIdentifier=u1&namespace=ns2&namespace=ns2', 'targetType=USER&targetIdentifier=u1&namespace[]=ns2']) {
      const { body } = await get(TARGET, query);
      expect(body.statusCode).toBe(400);
      expect(body.data).toBeUndefined();
    }
  });

  it('refuses more than 50 resourceList entries', async () => {
    emu().addUser('x');
    const list = Array.from({ length: 51 }, (_, i) => `resourceList[]=r${i}`).join('&');
    expect((await get(TARGET, `targetType=USER&targetIdentifier=x&${list}`)).body.statusCode).toBe(400);
  });
});
