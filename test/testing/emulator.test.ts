import { generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';

const GRANTS = '/api/v3/get-user-authorized-resources';
const TOKEN = '/api/v3/get-management-token';


const emu = useEmulator();
afterEach(() => {
  emu().clearFaults();
  emu().clearGrants();
  emu().resetCalls();
  emu().setJwksAvailable(true);
});

async function post(path: string, body: string | object) {
  const res = await request(`${emu().url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

async function managementToken(): Promise<string> {
  const { body } = await post(TOKEN, { accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret });
  return body.data.access_token as string;
}

async function grants(query: Record<string, string>, headers?: Record<string, string>, signal?: AbortSignal) {
  const auth = headers ?? { authorization: `Bearer ${await managementToken()}`, 'x-authing-userpool-id': emu().userPoolId };
  const res = await request(`${emu().url}${GRANTS}?${new URLSearchParams(query)}`, { headers: auth, signal });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

describe('management token', () => {
  it('round-trips: token carries scoped_userpool_id and exp, and authorizes API calls', async () => {
    const { status, body } = await post(TOKEN, { accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret });
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 200, message: '', data: { expires_in: 7200 } });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const claims = decodeJwt(body.data.access_token);
    expect(claims.scoped_userpool_id).toBe(emu().userPoolId);
    expect(claims.exp! - claims.iat!).toBe(7200);
    expect(decodeProtectedHeader(body.data.access_token).alg).toBe('RS256');

    emu().setGrants('u1', []);
    // Raw token (Java style) and the x-genauth header spelling are both accepted.
    const raw = await grants({ userId: 'u1' }, { authorization: body.data.access_token, 'x-genauth-userpool-id': emu().userPoolId });
    expect(raw.body).toMatchObject({ statusCode: 200, data: { totalCount: 0, list: [] } });
  });

  it('managementTokenPoolId: the claim names that pool (or is left out with null); calls are still checked against userPoolId', async () => {
    for (const [managementTokenPoolId, claim] of [['65a1b2c3d4e5f60718293aff', '65a1b2c3d4e5f60718293aff'], [null, undefined]] as const) {
      const other = await startEmulator({ userPoolId: '65a1b2c3d4e5f60718293a4b', managementTokenPoolId });
      try {
        const res = await request(`${other.url}${TOKEN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessKeyId: other.accessKeyId, accessKeySecret: other.accessKeySecret }) });
        const token = ((await res.body.json()) as { data: { access_token: string } }).data.access_token;
        expect(decodeJwt(token).scoped_userpool_id).toBe(claim);
        other.setGrants('u1', []);
        const query = `${other.url}${GRANTS}?${new URLSearchParams({ userId: 'u1', namespace: 'default' })}`;
        const ours = await request(query, { headers: { authorization: `Bearer ${token}`, 'x-authing-userpool-id': other.userPoolId } });
        expect(((await ours.body.json()) as { statusCode: number }).statusCode).toBe(200);
        const theirs = await request(query, { headers: { authorization: `Bearer ${token}`, 'x-authing-userpool-id': '65a1b2c3d4e5f60718293aff' } });
        expect(((await theirs.body.json()) as { statusCode: number }).statusCode).toBe(403);
      } finally {
        await other.close();
      }
    }
  });

  it('wrong secret -> HTTP 200 with body statusCode 401', async () => {
    const { status, body } = await post(TOKEN, { accessKeyId: emu().accessKeyId, accessKeySecret: 'nope' });
    expect(status).toBe(200);
    expect(body.statusCode).toBe(401);
    expect(body.data).toBeUndefined();
  });

  it('bad JSON -> 400 envelope, server keeps running', async () => {
    const { status, body } = await post(TOKEN, '{not json');
    expect(status).toBe(400);
    expect(body.statusCode).toBe(400);
    expect((await post(TOKEN, { accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret })).body.statusCode).toBe(200);
  });

  it('missing, forged, revoked token or wrong pool -> body 401/403', async () => {
    emu().setGrants('u1', []);
    expect((await grants({ userId: 'u1' }, { 'x-authing-userpool-id': emu().userPoolId })).body.statusCode).toBe(401);
    const forged = await emu().mintToken('u1');
    expect((await grants({ userId: 'u1' }, { authorization: forged, 'x-authing-userpool-id': emu().userPoolId })).body.statusCode).toBe(401);
    const token = await managementToken();
    const wrongPool = await grants({ userId: 'u1' }, { authorization: token, 'x-authing-userpool-id': 'other' });
    expect(wrongPool).toMatchObject({ status: 200, body: { statusCode: 403, apiCode: 2224 } });
    emu().revokeManagementTokens();
    expect((await grants({ userId: 'u1' }, { authorization: token, 'x-authing-userpool-id': emu().userPoolId })).body.statusCode).toBe(401);
  });

  it('expired management token -> body 401', async () => {
    const short = await startEmulator({ managementTokenTtl: 1 });
    try {
      const res = await request(`${short.url}${TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accessKeyId: short.accessKeyId, accessKeySecret: short.accessKeySecret }),
      });
      const token = ((await res.body.json()) as any).data.access_token;
      await new Promise((r) => setTimeout(r, 1100));
      const api = await request(`${short.url}${GRANTS}?userId=x`, { headers: { authorization: token, 'x-authing-userpool-id': short.userPoolId } });
      expect(((await api.body.json()) as any).statusCode).toBe(401);
    } finally {
      await short.close();
    }
  });
});

describe('get-user-authorized-resources', () => {
  it('serves grants with the full AuthorizedResourceDto shape', async () => {
    emu().setGrants('u1', [
      { resourceCode: 'books:*', actions: ['books:read'] },
      { resourceCode: 'api:/orders', resourceType: 'API', actions: ['GET'], effect: 'DENY', apiIdentifier: '/orders', description: 'd',
        condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }] },
    ]);
    const { status, body } = await grants({ userId: 'u1', userIdType: 'user_id' });
    expect(status).toBe(200);
    expect(body.statusCode).toBe(200);
    expect(body.data.totalCount).toBe(2);
    expect(body.data.list[0]).toEqual({
      resourceCode: 'books:*', resourceType: 'DATA', actions: ['books:read'], effect: 'ALLOW',
      apiIdentifier: null, description: '', condition: [],
    });
    expect(body.data.list[1]).toMatchObject({ resourceType: 'API', effect: 'DENY', apiIdentifier: '/orders' });
    expect(emu().calls.at(-1)).toMatchObject({ method: 'GET', path: GRANTS, status: 200, statusCode: 200, userId: 'u1', query: { userIdType: 'user_id' } });
  });

  it('addGrants appends; resourceType filters', async () => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'] }]);
    emu().addGrants('u1', [{ resourceCode: 'b', actions: '["y"]', resourceType: 'MENU' }]);
    expect((await grants({ userId: 'u1' })).body.data.totalCount).toBe(2);
    const menu = await grants({ userId: 'u1', resourceType: 'MENU' });
    expect(menu.body.data).toEqual({ totalCount: 1, list: [expect.objectContaining({ resourceCode: 'b', actions: '["y"]' })] });
  });

  it('isolates namespaces', async () => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'] }]);
    emu().setGrants('u1', [{ resourceCode: 'other', actions: ['y'] }], { namespace: 'ns2' });
    expect((await grants({ userId: 'u1' })).body.data.list.map((g: any) => g.resourceCode)).toEqual(['a']);
    expect((await grants({ userId: 'u1', namespace: 'default' })).body.data.list.map((g: any) => g.resourceCode)).toEqual(['a']);
    expect((await grants({ userId: 'u1', namespace: 'ns2' })).body.data.list.map((g: any) => g.resourceCode)).toEqual(['other']);
  });

  // The one documented answer about a missing namespace is authorize-resources' body 404 "权限组不存在"
  // (authing-node-sdk test); an empty list would tell a guard with a mistyped namespace "no grants".
  it('an unknown namespace is body 404 "权限组不存在", not an empty list', async () => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'] }]);
    for (const userId of ['u1', 'ghost']) {
      const { status, body } = await grants({ userId, namespace: 'ns3' });
      expect(status).toBe(200);
      expect(body).toMatchObject({ statusCode: 404, message: '权限组不存在' });
      expect(body.apiCode).toBeUndefined();
    }
    emu().createNamespace('ns3');
    expect((await grants({ userId: 'u1', namespace: 'ns3' })).body.data).toEqual({ totalCount: 0, list: [] });
  });

  it('unknown user -> HTTP 200, body 404 apiCode 2004; missing userId -> body 400', async () => {
    const { status, body } = await grants({ userId: 'ghost' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 404, apiCode: 2004, message: '用户不存在' });
    expect((await grants({})).body.statusCode).toBe(400);
  });

  // GenAuth's spec enumerates both (GENAUTH-PROTOCOL 3.1): a value outside it is a bad request, not a filter
  // that matches nothing (resourceType) or a lookup by user id anyway (userIdType).
  it.each<[string, Record<string, string>]>([
    ['a lower-case resourceType', { resourceType: 'api' }],
    ['an unknown resourceType', { resourceType: 'TABLE' }],
    ['an unknown userIdType', { userIdType: 'uid' }],
    ['a userIdType in the wrong case', { userIdType: 'USER_ID' }],
  ])('refuses %s with body 400', async (_name, query) => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'], resourceType: 'API' }]);
    const { status, body } = await grants({ userId: 'u1', ...query });
    expect(status).toBe(200);
    expect(body.statusCode).toBe(400);
    expect(body.data).toBeUndefined();
  });

  // Before: a namespace given twice (or as namespace[]) was no string, so the default space's grants were
  // served: a client that sent its namespace twice was answered from another space.
  it.each([
    'userId=u1&namespace=ns2&namespace=ns2',
    'userId=u1&namespace[]=ns2',
    'userId=u1&namespace=ns2&userIdType=user_id&userIdType=user_id',
    'userId=u1&userId=u1&namespace=ns2',
  ])('a key given as a list (%s) is body 400, never another namespace', async (query) => {
    emu().setGrants('u1', [{ resourceCode: 'in-default', actions: ['x'] }]);
    emu().setGrants('u1', [{ resourceCode: 'in-ns2', actions: ['x'] }], { namespace: 'ns2' });
    const res = await request(`${emu().url}${GRANTS}?${query}`, {
      headers: { authorization: `Bearer ${await managementToken()}`, 'x-authing-userpool-id': emu().userPoolId },
    });
    const body = (await res.body.json()) as any;
    expect(body.statusCode).toBe(400);
    expect(body.data).toBeUndefined();
  });

  it('takes every userIdType and resourceType of the spec', async () => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'], resourceType: 'API' }]);
    for (const userIdType of ['user_id', 'external_id', 'phone', 'email', 'username', 'identity', 'sync_relation', 'custom_field']) {
      expect((await grants({ userId: 'u1', userIdType })).body.statusCode).toBe(200);
    }
    for (const resourceType of ['DATA', 'API', 'MENU', 'BUTTON', 'UI']) {
      expect((await grants({ userId: 'u1', resourceType })).body.data.totalCount).toBe(resourceType === 'API' ? 1 : 0);
    }
  });

  it("unknownUser: 'empty' answers an empty list", async () => {
    const other = await startEmulator({ unknownUser: 'empty', userPoolId: 'p2' });
    try {
      const tokenRes = await request(`${other.url}${TOKEN}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessKeyId: 'p2', accessKeySecret: other.accessKeySecret }),
      });
      const token = ((await tokenRes.body.json()) as any).data.access_token;
      const res = await request(`${other.url}${GRANTS}?userId=ghost`, { headers: { authorization: `Bearer ${token}`, 'x-authing-userpool-id': 'p2' } });
      expect(await res.body.json()).toMatchObject({ statusCode: 200, data: { totalCount: 0, list: [] } });
    } finally {
      await other.close();
    }
  });
});

describe('faults', () => {
  it('latency delays, then serves normally', async () => {
    emu().setGrants('u1', []);
    emu().fault({ kind: 'latency', ms: 200, path: GRANTS, times: 1 });
    const started = Date.now();
    const { body } = await grants({ userId: 'u1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(body.statusCode).toBe(200);
  });

  it('delays many calls at once without a MaxListenersExceededWarning', async () => {
    emu().setGrants('u1', []);
    emu().fault({ kind: 'latency', ms: 100, path: GRANTS, times: 20 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => grants({ userId: 'u1' })));
      expect(answers.every((a) => a.body.statusCode === 200)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('status answers the HTTP status with an envelope and Retry-After, `times` bounded', async () => {
    emu().setGrants('u1', []);
    emu().fault({ kind: 'status', status: 429, retryAfter: 7, path: GRANTS, times: 1 });
    const first = await grants({ userId: 'u1' });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect(first.body.statusCode).toBe(429);
    expect((await grants({ userId: 'u1' })).status).toBe(200);
    expect(emu().calls.filter((c) => c.path === GRANTS).map((c) => [c.status, c.fault])).toEqual([[429, 'status'], [200, undefined]]);
  });

  it('body-error answers HTTP 200 with the error envelope', async () => {
    emu().fault({ kind: 'body-error', statusCode: 500, apiCode: 4021, message: 'boom', path: GRANTS });
    const { status, body } = await grants({ userId: 'u1' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 500, apiCode: 4021, message: 'boom' });
  });

  it('hang never answers (client times out)', async () => {
    emu().fault({ kind: 'hang', path: GRANTS, times: 1 });
    const token = await managementToken();
    await expect(
      grants({ userId: 'u1' }, { authorization: token, 'x-authing-userpool-id': emu().userPoolId }, AbortSignal.timeout(300)),
    ).rejects.toThrow();
    expect(emu().calls.at(-1)).toMatchObject({ path: GRANTS, status: 0, fault: 'hang' });
  });

  it('drop destroys the socket (client gets a socket error)', async () => {
    emu().fault({ kind: 'drop', path: GRANTS, times: 1 });
    const token = await managementToken();
    await expect(grants({ userId: 'u1' }, { authorization: token, 'x-authing-userpool-id': emu().userPoolId })).rejects.toThrow(
      /socket|closed|reset/i,
    );
    emu().setGrants('u1', []);
    expect((await grants({ userId: 'u1' })).body.statusCode).toBe(200);
  });

  it('faults without path apply to every endpoint, until cleared', async () => {
    emu().fault({ kind: 'status', status: 503 });
    expect((await post(TOKEN, {})).status).toBe(503);
    expect((await request(emu().jwksUri)).statusCode).toBe(503);
    emu().clearFaults();
    expect((await request(emu().jwksUri)).statusCode).toBe(200);
  });

  it('close() ends hanging requests', async () => {
    const other = await startEmulator();
    other.fault({ kind: 'hang' });
    const pending = request(`${other.url}/anything`).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('callCount', () => {
  it('counts all calls and per path', async () => {
    emu().setGrants('u1', []);
    await grants({ userId: 'u1' });
    await grants({ userId: 'u1' });
    expect(emu().callCount(GRANTS)).toBe(2);
    expect(emu().callCount(TOKEN)).toBe(2);
    expect(emu().callCount()).toBe(4);
    emu().resetCalls();
    expect(emu().callCount()).toBe(0);
  });
});

describe('user tokens and JWKS', () => {
  it('minted RS256 token verifies against jwksUri with the default claims', async () => {
    const token = await emu().mintToken('user-1', { claims: { scope: 'openid' } });
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(emu().jwksUri)), {
      issuer: emu().issuer, audience: emu().audience, algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: 'user-1', iss: emu().issuer, aud: 'emulator-app', scope: 'openid' });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('with jwksAlgorithms, ES256, PS256 and EdDSA tokens verify against the published keys (public only, with kid/alg/use)', async () => {
    const all = await startEmulator({ jwksAlgorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] });
    try {
      for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
        const token = await all.mintToken('u', { alg });
        const { protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(all.jwksUri)), { algorithms: [alg] });
        expect(protectedHeader.alg).toBe(alg);
      }
      const { keys } = (await (await request(all.jwksUri)).body.json()) as { keys: Array<Record<string, unknown>> };
      expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'PS256', 'RS256']);
      for (const key of keys) {
        expect(key).toMatchObject({ use: 'sig', kid: expect.any(String) });
        expect(key.d).toBeUndefined();
      }
    } finally {
      await all.close();
    }
  });

  it('HS256 token verifies with hs256Secret', async () => {
    const token = await emu().mintToken('u2', { alg: 'HS256' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(emu().hs256Secret), { issuer: emu().issuer, algorithms: ['HS256'] });
    expect(payload.sub).toBe('u2');
  });

  it('null options omit claims; claims override', async () => {
    const token = await emu().mintToken('u', { expiresIn: null, issuer: null, audience: null, notBefore: 5, claims: { sub: 42 } });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 42, nbf: 5 });
    expect(claims).not.toHaveProperty('exp');
    expect(claims).not.toHaveProperty('iss');
    expect(claims).not.toHaveProperty('aud');
  });

  it('foreign key keeps the emulator kid and fails signature verification', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await emu().mintToken('u', { key: privateKey });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: 'emulator-rs256' });
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(emu().jwksUri)))).rejects.toThrow(/signature/i);
    const ec = await new Promise<import('node:crypto').KeyObject>((resolve, reject) =>
      nodeGenerateKeyPair('ec', { namedCurve: 'P-256' }, (err, _pub, key) => (err ? reject(err) : resolve(key))),
    );
    expect(decodeProtectedHeader(await emu().mintToken('u', { key: ec })).alg).toBe('ES256');
  });

  it('setJwksAvailable(false) -> 503; discovery document points at the JWKS', async () => {
    emu().setJwksAvailable(false);
    const down = await request(emu().jwksUri);
    expect(down.statusCode).toBe(503);
    await down.body.dump();
    emu().setJwksAvailable(true);
    const discovery = (await (await request(`${emu().issuer}/.well-known/openid-configuration`)).body.json()) as any;
    expect(discovery).toMatchObject({ issuer: emu().issuer, jwks_uri: emu().jwksUri });
  });

  it('guardOptions points at the emulator', () => {
    expect(emu().guardOptions()).toEqual({
      genauth: { host: emu().url, userPoolId: 'emulator-pool', accessKeyId: 'emulator-pool', accessKeySecret: 'emulator-secret', namespace: 'default' },
      jwt: { issuer: emu().issuer, audience: 'emulator-app', jwksUri: emu().jwksUri, algorithms: ['RS256'] },
    });
  });
});
