// An invalidation that Redis refused (out of memory, a client reconnecting): the instance that made it
// is invalidated anyway (docs/many-instances.md), so its next request for the user must not read the
// grants back from the shared entry the invalidation could not delete.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, subscribed, type Instance } from './harness.js';
import { ask, redisTestsRun, startRedisServer, type RedisServer } from './server.js';

const run = redisTestsRun('test/redis/failed-invalidation.test.ts');

describe.skipIf(!run)('an invalidation Redis could not record', () => {
  const emulator = useEmulator();
  const open = clients();
  let server: RedisServer;
  const instances: Instance[] = [];
  let prefix = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    server = await startRedisServer();
    const e = emulator();
    resetEmulator(e);
    for (const user of ['alice', 'bob']) e.setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
    await server.stop();
  });

  async function instance(): Promise<Instance> {
    const client = await open.client(server.url);
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix })));
  }

  it('invalidateUser refused by a Redis out of memory: this instance denies, it does not read the old entry back', async () => {
    const a = await instance();
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);
    expect(a.guard.cacheStats().redis!.writes).toBe(1);

    await ask(server.port, 'CONFIG SET maxmemory 1'); // writes refused (noeviction), reads still answered
    emulator().setGrants('alice', []);
    await expect(a.guard.invalidateUser('alice')).rejects.toMatchObject({ name: 'RedisTierError' });
    expect(await a.status(alice)).toBe(403);
  });

  it('invalidateAll refused by a Redis out of memory: this instance denies, it does not read the old entries back', async () => {
    const a = await instance();
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);

    await ask(server.port, 'CONFIG SET maxmemory 1');
    emulator().setGrants('alice', []);
    await expect(a.guard.invalidateAll()).rejects.toMatchObject({ name: 'RedisTierError' });
    expect(await a.status(alice)).toBe(403);
  });

  it('a permission:revoke webhook that Redis could not record (503): the receiving instance denies meanwhile', async () => {
    const client = await open.client(server.url);
    const a = await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix }), 'a-webhook-secret-of-16+');
    instances.push(a);
    await subscribed(a.guard);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);

    await ask(server.port, 'CONFIG SET maxmemory 1');
    emulator().setGrants('alice', []);
    const delivery = await fetch(`${a.url}/hooks/genauth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-authing-webhook-secret': 'a-webhook-secret-of-16+' },
      body: JSON.stringify({ eventName: 'permission:revoke', data: { targetType: 'USER', targetIdentifiers: ['alice'], namespace: 'default' } }),
    });
    expect(delivery.status).toBe(503);
    emulator().resetCalls();
    expect(await a.status(alice)).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});
