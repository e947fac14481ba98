import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signatureNonce, signRequest } from '../../src/genauth/signature.js';
import { rawSend } from '../adversarial/raw-http.js';
import { managementToken, useEmulator } from '../fixtures.js';

// The user-pool-id headers of a management-token call, sent byte for byte over a raw socket: every
// pool header the request carries must name the pool; a second one naming another pool is refused,
// never authenticated by whichever the emulator read first.

const GRANTS = '/api/v3/get-user-authorized-resources?userId=alice&namespace=default';
const OTHER = 'another-pool';

const emu = useEmulator();
let token = '';
beforeAll(async () => {
  token = await managementToken(emu());
});
afterEach(() => {
  emu().clearGrants();
  emu().resetCalls();
});

/** The headers of an AK/SK-signed call (the `x-authing-` scheme) of GRANTS, its pool header included when given. */
function signed(pool?: string): Array<[string, string]> {
  const [path = '', query = ''] = GRANTS.split('?');
  const headers = signRequest({
    method: 'GET', path, data: Object.fromEntries(new URLSearchParams(query)),
    accessKeyId: emu().accessKeyId, accessKeySecret: emu().accessKeySecret,
    headerPrefix: 'x-authing-', scheme: 'authing', sdkVersion: 'test:1', date: new Date().toUTCString(), nonce: signatureNonce(),
    ...(pool === undefined ? {} : { extraHeaders: { 'x-authing-userpool-id': pool } }),
  });
  return Object.entries(headers);
}

async function grantsWith(poolHeaders: Array<[string, string]>, auth: Array<[string, string]> = [['authorization', `Bearer ${token}`]]) {
  emu().setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
  const answer = await rawSend(Number(new URL(emu().url).port), {
    method: 'GET',
    target: GRANTS,
    headers: [...auth, ...poolHeaders],
  });
  return { status: answer.status, body: JSON.parse(answer.body) as { statusCode: number; apiCode?: number; data?: unknown } };
}

describe('user pool id headers with a management token', () => {
  it.each([
    ['x-authing-userpool-id', 'x-authing-userpool-id'],
    ['x-genauth-userpool-id', 'x-genauth-userpool-id'],
  ])('one %s naming the pool is authenticated', async (name) => {
    const { body } = await grantsWith([[name, emu().userPoolId]]);
    expect(body.statusCode).toBe(200);
  });

  it.each([
    ['the pool, then another pool', () => [emu().userPoolId, OTHER]],
    ['another pool, then the pool', () => [OTHER, emu().userPoolId]],
  ])('x-authing-userpool-id sent twice (%s) is refused: body 403, apiCode 2224, no grants', async (_label, values) => {
    const { status, body } = await grantsWith(values().map((value): [string, string] => ['x-authing-userpool-id', value]));
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2224 });
    expect(body.data).toBeUndefined();
  });

  it.each([
    ['x-authing- names the pool, x-genauth- another', () => [['x-authing-userpool-id', emu().userPoolId], ['x-genauth-userpool-id', OTHER]]],
    ['x-genauth- names the pool, x-authing- another', () => [['x-genauth-userpool-id', emu().userPoolId], ['x-authing-userpool-id', OTHER]]],
    ['x-authing- another, x-genauth- the pool', () => [['x-authing-userpool-id', OTHER], ['x-genauth-userpool-id', emu().userPoolId]]],
  ])('both spellings naming two pools (%s) are refused: body 403, apiCode 2224, no grants', async (_label, headers) => {
    const { status, body } = await grantsWith(headers() as Array<[string, string]>);
    expect(status).toBe(200);
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2224 });
    expect(body.data).toBeUndefined();
  });

  it('x-authing-userpool-id sent twice, both times the pool, is refused (a server reading it joined sees no such pool)', async () => {
    const { body } = await grantsWith([['x-authing-userpool-id', emu().userPoolId], ['x-authing-userpool-id', emu().userPoolId]]);
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2224 });
  });

  it('both spellings naming the pool are authenticated (they name one pool)', async () => {
    const { body } = await grantsWith([['x-authing-userpool-id', emu().userPoolId], ['x-genauth-userpool-id', emu().userPoolId]]);
    expect(body.statusCode).toBe(200);
  });
});

describe('user pool id headers with an AK/SK signature (optional, must not contradict the key)', () => {
  it('a signed call without a pool header, or with one naming the pool, is authenticated', async () => {
    expect((await grantsWith([], signed())).body.statusCode).toBe(200);
    expect((await grantsWith([], signed(emu().userPoolId))).body.statusCode).toBe(200);
  });

  it('an unsigned x-genauth-userpool-id naming another pool beside the signed x-authing- one is refused', async () => {
    const { body } = await grantsWith([['x-genauth-userpool-id', OTHER]], signed(emu().userPoolId));
    expect(body).toMatchObject({ statusCode: 403, apiCode: 2224 });
    expect(body.data).toBeUndefined();
  });
});
