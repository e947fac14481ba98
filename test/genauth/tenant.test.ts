import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { startEmulator, type EmulatorOptions, type GenAuthEmulator } from '../../src/testing/index.js';

// The guard with genauth.tenantId over the emulator's tenants: the grants of the tenant it names decide;
// a tenant header the emulator does not read gets the pool's grants, which the test sees.

const USER_GRANTS = '/api/v3/get-user-authorized-resources';
const TOKEN = '/api/v3/get-management-token';

let emulator: GenAuthEmulator;
const guards: ExpressGuard[] = [];

async function start(options: EmulatorOptions = {}): Promise<void> {
  emulator = await startEmulator(options);
  emulator.setGrants('alice', [{ resourceCode: 'pool:doc', actions: ['doc:Read'] }]);
  emulator.setGrants('alice', [{ resourceCode: 't1:doc', actions: ['doc:Read'] }], { tenant: 't1' });
  emulator.setGrants('alice', [{ resourceCode: 't2:doc', actions: ['doc:Read'] }], { tenant: 't2' });
  for (const member of ['m0', 'm1', 'm2']) emulator.setGrants(member, [{ resourceCode: 't1:doc', actions: ['doc:Read'] }], { tenant: 't1' });
  emulator.setGrants('bob', [{ resourceCode: 'pool:doc', actions: ['doc:Read'] }, { resourceCode: 't1:doc', actions: ['doc:Read'] }]);
}

function app(genauth: Partial<ExpressGuardOptions['genauth']>, lines: string[] = []) {
  const base = emulator.guardOptions();
  const guard = createExpressGuard({ ...base, cache: { errorTtl: 0 }, logger: { warn: (line: string) => lines.push(line) }, genauth: { ...base.genauth, ...genauth } });
  guards.push(guard);
  const server = express();
  server.get('/t1', guard.requirePermission('t1:doc', 'doc:Read'), (_req, res) => void res.send('t1'));
  server.get('/pool', guard.requirePermission('pool:doc', 'doc:Read'), (_req, res) => void res.send('pool'));
  return server;
}

async function get(server: express.Express, path: string, user = 'alice') {
  return request(server).get(path).set('authorization', `Bearer ${await emulator.mintToken(user)}`);
}

const tenantsSent = () => emulator.calls.filter((call) => call.path === USER_GRANTS).map((call) => call.tenant);

afterEach(async () => {
  await Promise.all(guards.splice(0).map((guard) => guard.close()));
  await emulator.close();
});

describe('genauth.tenantId', () => {
  beforeEach(() => start());

  it("the tenant's grants decide, not the pool's", async () => {
    const server = app({ tenantId: 't1' });
    expect((await get(server, '/t1')).status).toBe(200);
    expect((await get(server, '/pool')).status).toBe(403);
    expect(tenantsSent()).toEqual(['t1']);
  });

  it("another tenant's grants decide for another tenant id", async () => {
    const server = app({ tenantId: 't2' });
    expect((await get(server, '/t1')).status).toBe(403);
    expect((await get(server, '/pool')).status).toBe(403);
  });

  it('with the signature scheme and with the x-genauth- prefix too', async () => {
    const signed = app({ tenantId: 't1', authScheme: 'signature' });
    expect((await get(signed, '/t1')).status).toBe(200);
    const genauthPrefix = app({ tenantId: 't1', headerPrefix: 'x-genauth-' });
    expect((await get(genauthPrefix, '/t1')).status).toBe(200);
    expect((await get(genauthPrefix, '/pool')).status).toBe(403);
  });

  it('a tenantHeader the emulator does not read: the pool grants decide, and the test sees it', async () => {
    const server = app({ tenantId: 't1', tenantHeader: 'x-tenant-id' });
    expect((await get(server, '/t1')).status).toBe(403);
    expect((await get(server, '/pool')).status).toBe(200);
    expect(tenantsSent()).toEqual([undefined]);
  });

  it('a user of the pool outside the tenant (apiCode 2120008) is refused, never answered the pool grants', async () => {
    const server = app({ tenantId: 't1' });
    const res = await get(server, '/pool', 'bob');
    expect(res.status).toBe(503);
    expect(emulator.calls.find((call) => call.path === USER_GRANTS)).toMatchObject({ tenant: 't1', apiCode: 2120008 });
  });
});

describe('apiCode 2120008 (a user outside the tenant) is about the user, not the credentials', () => {
  beforeEach(() => start());

  it('keeps the management token: no new one per refused user, no credentials warning', async () => {
    const lines: string[] = [];
    const server = app({ tenantId: 't1' }, lines);
    // Members and a non-member in turn: each member's answer makes the token one GenAuth accepted.
    for (let i = 0; i < 3; i += 1) {
      expect((await get(server, '/t1', `m${i}`)).status).toBe(200);
      expect((await get(server, '/pool', 'bob')).status).toBe(503);
    }
    expect(emulator.callCount(TOKEN)).toBe(1);
    expect(lines.join('\n')).not.toMatch(/credential|accessKeySecret/i);
  });

  it('under any statusCode GenAuth may send with it', async () => {
    await emulator.close();
    await start({ nonMemberStatusCode: 401 });
    const server = app({ tenantId: 't1' });
    for (let i = 0; i < 2; i += 1) {
      expect((await get(server, '/t1', `m${i}`)).status).toBe(200);
      expect((await get(server, '/pool', 'bob')).status).toBe(503);
    }
    expect(emulator.callCount(TOKEN)).toBe(1);
  });

  it('under a 5xx statusCode: a definite answer, asked once (never retried as an outage)', async () => {
    await emulator.close();
    await start({ nonMemberStatusCode: 503 });
    const server = app({ tenantId: 't1' });
    expect((await get(server, '/pool', 'bob')).status).toBe(503);
    expect(emulator.calls.filter((call) => call.path === USER_GRANTS).map((call) => [call.statusCode, call.apiCode])).toEqual([[503, 2120008]]);
    // The same statusCode without the apiCode is an outage, retried (genauth.retries, 2 by default).
    emulator.fault({ kind: 'body-error', statusCode: 503, path: USER_GRANTS });
    expect((await get(server, '/t1', 'm0')).status).toBe(503);
    expect(emulator.callCount(USER_GRANTS)).toBe(1 + 3);
  });

  it('without genauth.tenantId too (a disabled user), under any 5xx statusCode', async () => {
    const server = app({});
    for (const [i, statusCode] of [500, 502, 503].entries()) {
      emulator.fault({ kind: 'body-error', statusCode, apiCode: 2120008, path: USER_GRANTS, times: 1 });
      expect((await get(server, '/pool', `disabled-${i}`)).status).toBe(503);
      expect(emulator.callCount(USER_GRANTS)).toBe(i + 1);
    }
  });
});

describe('an emulator that reads one tenant header', () => {
  beforeEach(() => start({ tenantHeaders: ['x-authing-app-tenant-id'] }));

  it('a guard sending another header gets the pool grants', async () => {
    const server = app({ tenantId: 't1' });
    expect((await get(server, '/t1')).status).toBe(403);
    expect((await get(server, '/pool')).status).toBe(200);
  });

  it('a guard sending that header gets the tenant grants', async () => {
    const server = app({ tenantId: 't1', tenantHeader: 'x-authing-app-tenant-id' });
    expect((await get(server, '/t1')).status).toBe(200);
    expect((await get(server, '/pool')).status).toBe(403);
  });
});
