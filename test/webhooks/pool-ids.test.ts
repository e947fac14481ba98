// Which user pool a webhook delivery names, over real HTTP on Express, Koa and Fastify, with GenAuth's
// kind of pool id (a hex object id). A delivery is ignored only when it clearly names another pool:
// the same id in another letter case or with whitespace around it is ours (hex ids have no case), and
// a value that is not a string names no pool. Dropping a revocation of ours is the failure to avoid;
// acting on one that may be ours is safe.
import { beforeEach, describe, expect, it } from 'vitest';
import { bearerFor, useEmulator } from '../fixtures.js';
import { jsonHeaders, post, useWebhookApps } from './http.js';

const SECRET = 'whsec-pools-0123456789';
const POOL = '65a1f0c3e4b0a1b2c3d4e5f6';
const OTHER_POOL = '65a1f0c3e4b0a1b2c3d4e5f7';
const emulator = useEmulator({ userPoolId: POOL });
const { apps, warnings } = useWebhookApps(emulator, { secret: SECRET, requirement: { anyOf: ['reports:Read', 'reports:Admin'] } });

describe.each(apps)('%s webhook route: the user pool a delivery names', (_name, start) => {
  let port: number;
  beforeEach(async () => {
    port = (await start()).port;
  });
  const reports = async (authorization: string) => (await post(port, '/reports', { method: 'GET', headers: { authorization } })).status;
  const block = (headers: Record<string, string>, data: Record<string, unknown>) =>
    post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET, headers), body: JSON.stringify({ eventName: 'user:blocked', data: { user: { userId: 'alice' }, ...data } }) });

  it.each([
    ['upper case, in x-authing-userpool-id', { 'x-authing-userpool-id': POOL.toUpperCase() }, {}],
    ['mixed case, in x-genauth-userpool-id', { 'x-genauth-userpool-id': `${POOL.slice(0, 12).toUpperCase()}${POOL.slice(12)}` }, {}],
    ['upper case, in data.userPoolId', {}, { userPoolId: POOL.toUpperCase() }],
    ['with whitespace around it, in data.userPoolId', {}, { userPoolId: ` ${POOL}\n` }],
    ['upper case in data.userPoolId, as is in the header', { 'x-authing-userpool-id': POOL }, { userPoolId: POOL.toUpperCase() }],
    ['a number in data.userPoolId (no pool id at all)', {}, { userPoolId: 65 }],
    ['an object in data.userPoolId (no pool id at all)', {}, { userPoolId: { id: OTHER_POOL } }],
  ])('our pool id %s: the revocation is made (204, the token is refused), nothing warned', async (_case, headers, data) => {
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    const answer = await block(headers, data);
    expect(answer.status).toBe(204);
    expect(await reports(alice)).toBe(401);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['in x-authing-userpool-id', { 'x-authing-userpool-id': OTHER_POOL.toUpperCase() }, {}],
    ['in data.userPoolId', {}, { userPoolId: ` ${OTHER_POOL} ` }],
  ])('another pool\'s id, whatever its case or whitespace, %s: still ignored (204, nothing revoked)', async (_where, headers, data) => {
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    expect((await block(headers, data)).status).toBe(204);
    expect(await reports(alice)).toBe(200);
    expect(warnings).toHaveLength(1);
  });
});
