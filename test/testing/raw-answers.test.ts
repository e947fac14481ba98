import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { managementToken, RESOURCES, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
let auth: Record<string, string>;

beforeAll(async () => {
  auth = { authorization: await managementToken(emulator()), 'x-authing-userpool-id': emulator().userPoolId };
});
afterEach(() => {
  emulator().clearFaults();
  emulator().clearGrants();
});

async function list(userId: string, extra = '') {
  const res = await request(`${emulator().url}${RESOURCES}?userId=${userId}&namespace=default${extra}`, { headers: auth });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('setRawGrants', () => {
  it('serves entries exactly as given, after the filled grants', async () => {
    const raw = [{ resourceCode: 'books', actions: ['books:read'] }, { resourceCode: 'x', resourceType: 'FOO', condition: { param: 'a' } }, 'junk', null];
    emulator().setGrants('u1', [{ resourceCode: 'filled', actions: ['a'] }]);
    emulator().setRawGrants('u1', raw);
    const body = JSON.parse((await list('u1')).text);
    expect(body.data.list[0]).toMatchObject({ resourceCode: 'filled', effect: 'ALLOW' });
    expect(body.data.list.slice(1)).toEqual(raw);
    expect(body.data.totalCount).toBe(5);
  });

  it('makes the user known and applies the resourceType filter to object entries only', async () => {
    emulator().setRawGrants('u2', [{ resourceCode: 'a', resourceType: 'API', actions: [] }, { resourceCode: 'b', actions: [] }, 7]);
    const body = JSON.parse((await list('u2', '&resourceType=API')).text);
    expect(body.data.list).toEqual([{ resourceCode: 'a', resourceType: 'API', actions: [] }]);
  });

  it('is forgotten by clearGrants', async () => {
    emulator().setRawGrants('u3', [{ resourceCode: 'a', actions: [] }]);
    emulator().clearGrants();
    expect(JSON.parse((await list('u3')).text).apiCode).toBe(2004);
  });
});

describe('respond fault', () => {
  it('answers the status, headers and body given, byte for byte', async () => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-encoding': 'gzip', 'x-a': '1' }, body: '{"statusCode":200}', path: RESOURCES, times: 1 });
    const first = await list('u1');
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(first.headers['x-a']).toBe('1');
    expect(first.text).toBe('{"statusCode":200}');
    expect(emulator().calls.at(-1)?.fault).toBe('respond');
    expect((await list('u1')).text).toContain('2004'); // times: 1 spent; the real answer again
  });

  it('sends a non-string body as its JSON text', async () => {
    const body = { statusCode: 200, data: { totalCount: 9, list: { resourceCode: 'a', actions: ['r'] } } };
    emulator().fault({ kind: 'respond', status: 503, body });
    const answer = await list('u1');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.text)).toEqual(body);
  });
});
