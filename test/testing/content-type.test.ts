import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rawSend } from '../adversarial/raw-http.js';
import { managementToken, useEmulator } from '../fixtures.js';

// A POST body is JSON only when the request says so: GenAuth's SDKs send `content-type:
// application/json` on every POST, and a server that parses bodies by content type does not read a
// text/plain or form body as JSON. What GenAuth answers is not documented, so the emulator takes the
// strict reading: HTTP and body 400, nothing done.

const TOKEN = '/api/v3/get-management-token';
const AUTHORIZE = '/api/v3/authorize-resources';

const emu = useEmulator();
let token = '';
beforeAll(async () => {
  token = await managementToken(emu());
});
afterEach(() => {
  emu().reset();
  emu().resetCalls();
});

const port = () => Number(new URL(emu().url).port);

async function post(target: string, body: unknown, contentType: string | undefined, extra: Array<[string, string]> = []) {
  const headers: Array<[string, string]> = [...extra];
  if (contentType !== undefined) headers.push(['content-type', contentType]);
  const answer = await rawSend(port(), { method: 'POST', target, headers, body: JSON.stringify(body) });
  return { status: answer.status, body: JSON.parse(answer.body) as { statusCode: number; data?: { access_token?: string } } };
}

const credentials = () => ({ accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret });
const grant = { list: [{ targetType: 'USER', targetIdentifiers: ['alice'], resources: [{ code: 'ecs:1', actions: ['ecs:Start'], resourceType: 'DATA' }] }] };
const auth = (): Array<[string, string]> => [['authorization', `Bearer ${token}`], ['x-authing-userpool-id', emu().userPoolId]];

async function aliceCodes(): Promise<number> {
  const answer = await rawSend(port(), { method: 'GET', target: '/api/v3/get-user-authorized-resources?userId=alice&namespace=default', headers: auth() });
  return (JSON.parse(answer.body) as { statusCode: number }).statusCode;
}

describe('POST bodies need a JSON content type', () => {
  it.each([
    ['no content-type', undefined],
    ['text/plain', 'text/plain'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['application/jsonx', 'application/jsonx'],
    ['a JSON type named only in a parameter', 'text/plain; x=application/json'],
  ])('get-management-token with %s: HTTP and body 400, no token', async (_label, contentType) => {
    const { status, body } = await post(TOKEN, credentials(), contentType);
    expect(status).toBe(400);
    expect(body.statusCode).toBe(400);
    expect(body.data).toBeUndefined();
  });

  it.each([
    ['no content-type', undefined],
    ['text/plain', 'text/plain'],
  ])('authorize-resources with %s: HTTP and body 400, nothing granted', async (_label, contentType) => {
    const { status, body } = await post(AUTHORIZE, grant, contentType, auth());
    expect(status).toBe(400);
    expect(body.statusCode).toBe(400);
    expect(await aliceCodes()).toBe(404); // alice is still unknown: nothing was granted
  });

  it.each([
    ['application/json', 'application/json'],
    ['with a charset', 'application/json; charset=utf-8'],
    ['in upper case, spaced', 'Application/JSON ;charset=UTF-8'],
  ])('the JSON content type %s is read', async (_label, contentType) => {
    const issued = await post(TOKEN, credentials(), contentType);
    expect(issued.body.statusCode).toBe(200);
    expect(typeof issued.body.data?.access_token).toBe('string');
    const granted = await post(AUTHORIZE, grant, contentType, auth());
    expect(granted.body.statusCode).toBe(200);
    expect(await aliceCodes()).toBe(200);
  });
});
