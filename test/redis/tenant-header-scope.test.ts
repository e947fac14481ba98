// Two guards of one tenant id that send it in different headers get different answers from GenAuth
// (one reading the header, the other not): they are two scopes, and never read each other's entries.
// Real redis-server, the emulator's tenants, real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearerFor, resetToAliceReading, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/tenant-header-scope.test.ts');

describe.skipIf(!run)('the shared tier and the tenant header', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let prefix = '';

  beforeEach(() => {
    prefix = freshPrefix();
    resetToAliceReading(emulator()); // the pool: alice reads reports
    emulator().setGrants('alice', [], { tenant: 't1' }); // tenant t1: alice is a member with no grants
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
  });

  async function instance(tenantHeader?: string): Promise<Instance> {
    const client = await open.client(redis().url);
    const base = emulator().guardOptions();
    const genauth = { ...base.genauth, tenantId: 't1', ...(tenantHeader === undefined ? {} : { tenantHeader }) };
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix }, { genauth })));
  }

  it("a guard whose header GenAuth ignores never hands the pool's grants to one whose header it reads", async () => {
    const misconfigured = await instance('x-tenant-id');
    const right = await instance();
    const auth = await bearerFor(emulator(), 'alice');
    expect(await misconfigured.status(auth)).toBe(200); // the pool's grants: its own misconfiguration
    expect(await right.status(auth)).toBe(403); // tenant t1's grants: none
  });

  it('guards sending the same header still share entries', async () => {
    const [a, b] = [await instance(), await instance()];
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }], { tenant: 't1' });
    const auth = await bearerFor(emulator(), 'alice');
    emulator().resetCalls();
    expect(await a.status(auth)).toBe(200);
    expect(await b.status(auth)).toBe(200);
    expect(emulator().callCount('/api/v3/get-user-authorized-resources')).toBe(1);
  });
});
