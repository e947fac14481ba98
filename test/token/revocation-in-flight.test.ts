// A request whose token was accepted before its user was revoked, but whose decision is still waiting
// (on GenAuth's answer, or on the conditions context), is decided after the revocation: it must be
// refused as revoked, as the next request is, never allowed on grants reloaded for it. Over real HTTP:
// an Express app, the emulator holding the grants call with a latency fault.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { RESOURCES, closeAfterEach, resetToAliceReading, useEmulator, sleep, until } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => resetToAliceReading(emulator()));


function app(extra: Partial<ExpressGuardOptions> = {}) {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: false, ...extra }));
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const api = express();
  api.use(guard.api());
  api.get('/reports', (_req, res) => void res.send('ok'));
  return { server, api, guard };
}

describe.each([
  ['the cache', {}],
  ['cache: false', { cache: false as const }],
])('%s: a user revoked while their request waits on GenAuth', (_mode, extra) => {
  it.each(['route', 'api'] as const)('%s: the waiting request is refused as revoked', async (kind) => {
    emulator().setGrants('alice', [
      { resourceCode: 'reports', actions: ['reports:Read'] },
      { resourceCode: 'reports-api', resourceType: 'API', actions: ['read'], apiIdentifier: '/reports' },
    ]);
    const { server, api, guard } = app(extra);
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const waiting = request(kind === 'route' ? server : api).get(kind === 'route' ? '/r' : '/reports').set('authorization', auth);
    const answer = waiting.then((response) => response);
    await until(() => emulator().callCount(RESOURCES) >= 1);
    guard.revokeUser('alice'); // blocked in GenAuth: the grants stay, the tokens do not
    const response = await answer;
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('revoked');
    // And the next request with it, as documented.
    expect((await request(kind === 'route' ? server : api).get(kind === 'route' ? '/r' : '/reports').set('authorization', auth)).status).toBe(401);
  });
});

describe('a user revoked while their request waits on the conditions context', () => {
  it('the waiting request is refused as revoked', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'reports', actions: ['reports:Read'], condition: [{ param: 'Device', operator: 'StringEquals', value: 'laptop' }] },
    ]);
    let release: () => void = () => {};
    let entered = false;
    const { server, guard } = app({
      conditions: {
        context: () =>
          new Promise((resolve) => {
            entered = true;
            release = () => resolve({ Device: 'laptop' });
          }),
      },
    });
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    const answer = request(server).get('/r').set('authorization', auth).then((response) => response);
    await until(() => entered);
    guard.revokeUser('alice');
    release();
    const response = await answer;
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('revoked');
  });
});
