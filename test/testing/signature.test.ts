import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { signatureNonce, signRequest, type SignedData } from '../../src/genauth/signature.js';
import { startEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';

const GRANTS = '/api/v3/get-user-authorized-resources';
const TARGET = '/api/v3/get-authorized-resources';
const AUTHORIZE = '/api/v3/authorize-resources';


const emu = useEmulator();
afterEach(() => {
  emu().reset();
  emu().clearFaults();
  emu().resetCalls();
});

interface SignedCall {
  method?: 'GET' | 'POST';
  path?: string;
  data?: SignedData;
  prefix?: string;
  scheme?: string;
  secret?: string;
  accessKeyId?: string;
  date?: string;
  nonce?: string;
  /** Edit the signed headers after signing (tampering, removal). */
  edit?: (headers: Record<string, string>) => void;
  /** Body actually sent (POST), when it should differ from the signed data. */
  sentBody?: unknown;
  /** Query string actually sent (GET), when it should differ from the default encoding. */
  sentQuery?: string;
}

/** Encodes a query like axios 1.x does: arrays as `key[]=v` repeated. */
function wireQuery(data: SignedData): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    if (Array.isArray(value)) for (const item of value) params.append(`${key}[]`, String(item));
    else if (value !== undefined) params.append(key, String(value));
  }
  return params.toString();
}

function signedHeaders(call: SignedCall): Record<string, string> {
  const prefix = call.prefix ?? 'x-authing-';
  const headers = signRequest({
    method: call.method ?? 'GET',
    path: call.path ?? GRANTS,
    data: call.data ?? {},
    accessKeyId: call.accessKeyId ?? emu().accessKeyId,
    accessKeySecret: call.secret ?? emu().accessKeySecret,
    headerPrefix: prefix,
    scheme: call.scheme ?? (prefix === 'x-genauth-' ? 'GenAuth' : 'authing'),
    sdkVersion: 'test:1',
    date: call.date ?? new Date().toUTCString(),
    nonce: call.nonce ?? signatureNonce(),
  });
  call.edit?.(headers);
  return headers;
}

async function send(call: SignedCall, headers = signedHeaders(call)) {
  const method = call.method ?? 'GET';
  const path = call.path ?? GRANTS;
  const data = call.data ?? {};
  const query = method === 'GET' ? (call.sentQuery ?? wireQuery(data)) : '';
  const res = await request(`${emu().url}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: method === 'POST' ? { ...headers, 'content-type': 'application/json' } : headers,
    body: method === 'POST' ? JSON.stringify(call.sentBody ?? data) : undefined,
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

describe('signature accepted', () => {
  it('matches the protocol test vector byte for byte (hard-coded authorization)', async () => {
    const vector = await startEmulator({ accessKeyId: 'AKID', accessKeySecret: 'SECRET', signatureClockSkew: 1e13 });
    try {
      vector.setGrants('u1', [{ resourceCode: 'a', actions: ['x'], resourceType: 'API' }]);
      const headers = {
        date: 'Sun, 23 Nov 2025 00:00:00 GMT',
        'x-authing-lang': 'zh-CN',
        'x-authing-sdk-version': 'authing-node-sdk:4.0.1',
        'x-authing-signature-method': 'HMAC-SHA1',
        'x-authing-signature-version': '1.0',
        'x-authing-signature-nonce': '0123456789abcdef0123456789abcdef',
        authorization: 'authing AKID:w7U2NPop7HmjOGkPLfjkiNsTjZM=',
      };
      const query = 'userId=u1&userIdType=user_id&namespace=default&resourceType=API';
      const ok = await request(`${vector.url}${GRANTS}?${query}`, { headers });
      expect(await ok.body.json()).toMatchObject({ statusCode: 200, data: { totalCount: 1 } });
      // Same signature, one query value changed: the canonical string no longer matches.
      const tampered = await request(`${vector.url}${GRANTS}?${query.replace('u1', 'u2')}`, {
        headers: { ...headers, 'x-authing-signature-nonce': 'ffffffffffffffffffffffffffffffff' },
      });
      expect(await tampered.body.json()).toMatchObject({ statusCode: 401, apiCode: 1300 });
    } finally {
      await vector.close();
    }
  });

  it('a signed GET is served and logged with its scheme and nonce', async () => {
    emu().setGrants('u1', [{ resourceCode: 'books:1', actions: ['books:read'] }]);
    const headers = signedHeaders({ data: { userId: 'u1', userIdType: 'user_id', namespace: 'default' } });
    const { status, body } = await send({ data: { userId: 'u1', userIdType: 'user_id', namespace: 'default' } }, headers);
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 200, data: { totalCount: 1 } });
    expect(emu().calls.at(-1)).toMatchObject({ auth: 'signature', nonce: headers['x-authing-signature-nonce'], statusCode: 200 });
  });

  it('x-genauth- headers with the GenAuth scheme word', async () => {
    emu().setGrants('u1', []);
    const { body } = await send({ prefix: 'x-genauth-', data: { userId: 'u1' } });
    expect(body).toMatchObject({ statusCode: 200, data: { totalCount: 0 } });
  });

  it('the date may be epoch milliseconds (old Java signer)', async () => {
    emu().setGrants('u1', []);
    expect((await send({ date: String(Date.now()), data: { userId: 'u1' } })).body.statusCode).toBe(200);
  });

  it('unsigned headers may change after signing', async () => {
    emu().setGrants('u1', []);
    const { body } = await send({ data: { userId: 'u1' }, edit: (h) => void (h['user-agent'] = 'something else') });
    expect(body.statusCode).toBe(200);
  });

  it('GET arrays are verified from the parsed query (JSON-signed, sent as key[]=v)', async () => {
    emu().authorizeResources([
      { targetType: 'ROLE', targetIdentifiers: ['admin'], resources: [
        { code: 'books:1', actions: ['books:read'], resourceType: 'DATA' },
        { code: 'films:1', actions: ['films:read'], resourceType: 'DATA' },
      ] },
    ]);
    const data = { targetType: 'ROLE', targetIdentifier: 'admin', resourceList: ['books:*', 'x/y'], withDenied: false };
    expect(wireQuery(data)).toContain('resourceList%5B%5D=x%2Fy');
    const { body } = await send({ path: TARGET, data });
    expect(body.statusCode).toBe(200);
    expect(body.data.list.map((g: any) => g.resourceCode)).toEqual(['books:1']);
  });

  it('POST signs the top-level body keys, nested values as JSON', async () => {
    const data = {
      namespace: 'default',
      list: [{ targetType: 'USER', targetIdentifiers: ['u9'], resources: [{ code: 'a&b=c', actions: ['r'], resourceType: 'DATA' }] }],
    };
    const { body } = await send({ method: 'POST', path: AUTHORIZE, data });
    expect(body).toMatchObject({ statusCode: 200, data: { success: true } });
    expect(emu().calls.at(-1)?.auth).toBe('signature');
  });
});

describe('signature refused (HTTP 200, body statusCode 401)', () => {
  it.each<[string, SignedCall, number]>([
    ['wrong secret', { secret: 'not-the-secret' }, 1300],
    ['unknown access key id', { accessKeyId: 'someone-else' }, 1300],
    ['signed header changed after signing', { edit: (h) => void (h['x-authing-lang'] = 'en-US') }, 1300],
    ['GenAuth word with x-authing- headers', { scheme: 'GenAuth' }, 1300],
    ['authing word with x-genauth- headers', { prefix: 'x-genauth-', scheme: 'authing' }, 1300],
    ['nonce missing', { edit: (h) => void delete h['x-authing-signature-nonce'] }, 1300],
    ['another method', { edit: (h) => void (h['x-authing-signature-method'] = 'HMAC-SHA256') }, 1301],
    ['another version', { edit: (h) => void (h['x-authing-signature-version'] = '2.0') }, 1302],
    ['date not a date', { date: 'yesterday' }, 1303],
    // Neither format an SDK sends (RFC 1123, epoch ms), though Date.parse reads them: taken before.
    ['date in ISO 8601', { date: new Date().toISOString() }, 1303],
    ["date in JavaScript's Date#toString form", { date: new Date().toString() }, 1303],
    ['date as a day only', { date: new Date().toISOString().slice(0, 10) }, 1303],
    ['date in RFC 1123 with a numeric zone', { date: new Date().toUTCString().replace('GMT', '+0000') }, 1303],
    ['date missing', { edit: (h) => void delete h.date }, 1304],
    ['date 16 minutes old', { date: new Date(Date.now() - 16 * 60_000).toUTCString() }, 1305],
    ['date 16 minutes ahead', { date: new Date(Date.now() + 16 * 60_000).toUTCString() }, 1305],
    ['query differs from the signed one', { data: { userId: 'u1' }, sentQuery: 'userId=u2' }, 1300],
  ])('%s -> apiCode %s', async (_name, call, apiCode) => {
    emu().setGrants('u1', [{ resourceCode: 'a', actions: ['x'] }]);
    emu().setGrants('u2', [{ resourceCode: 'b', actions: ['x'] }]);
    const { status, body } = await send({ data: { userId: 'u1' }, ...call });
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 401, apiCode });
    expect(body.data).toBeUndefined();
    expect(emu().calls.at(-1)).toMatchObject({ auth: 'signature', statusCode: 401, apiCode });
  });

  it('a date within the window is accepted (14 minutes old)', async () => {
    emu().setGrants('u1', []);
    expect((await send({ data: { userId: 'u1' }, date: new Date(Date.now() - 14 * 60_000).toUTCString() })).body.statusCode).toBe(200);
  });

  it('the skew window is an option', async () => {
    const strict = await startEmulator({ signatureClockSkew: 1000 });
    try {
      strict.setGrants('u1', []);
      const headers = signRequest({
        method: 'GET', path: GRANTS, data: { userId: 'u1' }, accessKeyId: strict.accessKeyId, accessKeySecret: strict.accessKeySecret,
        headerPrefix: 'x-authing-', scheme: 'authing', sdkVersion: 't', date: new Date(Date.now() - 5000).toUTCString(), nonce: signatureNonce(),
      });
      const res = await request(`${strict.url}${GRANTS}?userId=u1`, { headers });
      expect(await res.body.json()).toMatchObject({ statusCode: 401, apiCode: 1305 });
    } finally {
      await strict.close();
    }
  });

  it('a replayed nonce -> apiCode 1306, a fresh one passes', async () => {
    emu().setGrants('u1', []);
    const call: SignedCall = { data: { userId: 'u1' } };
    const headers = signedHeaders(call);
    expect((await send(call, headers)).body.statusCode).toBe(200);
    expect((await send(call, headers)).body).toMatchObject({ statusCode: 401, apiCode: 1306 });
    expect((await send(call)).body.statusCode).toBe(200);
  });

  it('a nonce consumed by a faulted first try cannot be replayed', async () => {
    emu().setGrants('u1', []);
    emu().fault({ kind: 'status', status: 503, path: GRANTS, times: 1 });
    const call: SignedCall = { data: { userId: 'u1' } };
    const headers = signedHeaders(call);
    expect((await send(call, headers)).status).toBe(503);
    expect((await send(call, headers)).body).toMatchObject({ statusCode: 401, apiCode: 1306 });
  });

  it('a forged signature does not report a replay (signature checked first)', async () => {
    emu().setGrants('u1', []);
    const call: SignedCall = { data: { userId: 'u1' }, secret: 'wrong' };
    const headers = signedHeaders(call);
    await send(call, headers);
    expect((await send(call, headers)).body.apiCode).toBe(1300);
  });

  it('a tampered POST body -> 1300', async () => {
    const data = { list: [{ targetType: 'USER', targetIdentifiers: ['u9'], resources: [{ code: 'a', actions: ['r'], resourceType: 'DATA' }] }] };
    const sentBody = { list: [{ ...data.list[0], targetIdentifiers: ['attacker'] }] };
    const { body } = await send({ method: 'POST', path: AUTHORIZE, data, sentBody });
    expect(body).toMatchObject({ statusCode: 401, apiCode: 1300 });
  });

  it('a pool header that contradicts the access key -> 403 apiCode 2224', async () => {
    emu().setGrants('u1', []);
    // An x-authing- header added after signing breaks the signature: the pool header is signed too.
    const { body } = await send({ data: { userId: 'u1' }, edit: (h) => void (h['x-authing-userpool-id'] = 'other-pool') });
    expect(body).toMatchObject({ statusCode: 401, apiCode: 1300 });
    const call: SignedCall = { data: { userId: 'u1' } };
    const headers = signRequest({
      method: 'GET', path: GRANTS, data: { userId: 'u1' }, accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret,
      headerPrefix: 'x-authing-', scheme: 'authing', sdkVersion: 't', date: new Date().toUTCString(), nonce: signatureNonce(),
      extraHeaders: { 'x-authing-userpool-id': 'other-pool' },
    });
    expect((await send(call, headers)).body).toMatchObject({ statusCode: 403, apiCode: 2224 });
  });
});
