// Item 5: Redis trouble is not an outage. Redis killed, paused (slow) or refusing writes: requests are
// answered from the in-process cache and GenAuth, never a 503 for Redis's sake; one warning through
// `logger` and one `unavailable` event per instance, not one per request; the clients reconnect by
// themselves, and when the subscription comes back each instance drops its local grants (an
// invalidation may have been missed meanwhile), so nothing revoked while Redis was away stays allowed.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, sleep, startInstance, subscribed, until, type Instance } from './harness.js';
import { ask, redisTestsRun, startRedisServer, type RedisServer } from './server.js';

const run = redisTestsRun('test/redis/trouble.test.ts');

describe.skipIf(!run)('Redis trouble', () => {
  const emulator = useEmulator();
  const open = clients();
  let server: RedisServer;
  const instances: Instance[] = [];
  let warnings: string[][] = [];
  let events: RedisTierEvent[] = [];
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);
  let prefix = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    server = await startRedisServer();
    const e = emulator();
    resetEmulator(e);
    for (const user of ['alice', 'bob', 'carol', 'dave']) e.setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    warnings = [];
    events = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await closeInstances(instances);
    open.closeAll();
    await server.stop();
  });

  /**
   * `redisTimeout`: the harness's, generous for a loaded machine, unless a test needs calls to time out
   * (with 100 ms, a call that merely ran late took the one warning a minute, or a write, a test expects).
   */
  async function instance(redisTimeout?: number): Promise<Instance> {
    const client = await open.client(server.url);
    const own: string[] = [];
    warnings.push(own);
    const logger = { warn: (message: string) => void own.push(message) };
    const cache = redisTimeout === undefined ? { redisPrefix: prefix } : { redisPrefix: prefix, redisTimeout };
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), client, cache, { logger })));
  }

  const tokens = async () => {
    const entries = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(async (user) => [user, await bearerFor(emulator(), user)] as const));
    return Object.fromEntries(entries) as Record<'alice' | 'bob' | 'carol' | 'dave', string>;
  };

  it('Redis killed mid-test and restarted: every answer stays right, one warning, recovery without a restart', async () => {
    const [a, b] = [await instance(), await instance()];
    const t = await tokens();
    expect(await a.status(t.alice)).toBe(200);
    expect(await b.status(t.alice)).toBe(200);

    await server.kill();
    // Cached users on the hot path, new users through GenAuth: no 503, however many requests.
    for (let i = 0; i < 10; i++) {
      expect(await a.status(t.alice)).toBe(200);
      expect(await b.status(i % 2 === 0 ? t.bob : t.carol)).toBe(200);
    }
    emulator().setGrants('dave', []);
    expect(await a.status(t.dave)).toBe(403);
    // Revoked while Redis is away: this instance forgets at once; the promise says the others could not be told.
    emulator().setGrants('alice', []);
    await expect(a.guard.invalidateUser('alice')).rejects.toMatchObject({ name: 'RedisTierError' });
    expect(await a.status(t.alice)).toBe(403);
    for (const own of warnings) expect(own.filter((w) => w.includes('shared Redis tier is unavailable'))).toHaveLength(1);
    expect(events.filter((e) => e.event === 'unavailable')).toHaveLength(2); // one per instance
    expect(events).toContainEqual({ event: 'invalidation-failed', reason: 'not-ready' });

    await server.start(); // same port, empty: the clients reconnect by themselves
    await until(() => events.filter((e) => e.event === 'resynced').length === 2, 10_000, 'both instances resynced');
    // b kept alice's grants through the outage (the documented window); the resync dropped them.
    expect(await b.status(t.alice)).toBe(403);
    expect(await a.status(t.alice)).toBe(403);
    // The tier works again: a new user loaded on a is read from Redis by b.
    // Each instance's command connection is back too (the subscription's may come back first).
    const reachable = (instance: typeof a) => instance.guard.ready().then(() => true, () => false);
    await until(async () => (await reachable(a)) && reachable(b), 10_000, 'both instances reach Redis again');
    emulator().resetCalls();
    // a's writes before the outage count too: wait for one more, carol's (written after she is answered).
    const written = a.guard.cacheStats().redis!.writes;
    await until(async () => (await a.status(t.carol)) === 200 && a.guard.cacheStats().redis!.writes > written, 10_000, "carol's entry written to Redis");
    expect(await b.status(t.carol)).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(events.some((e) => e.event === 'available')).toBe(true);
  });

  it('a paused (slow) Redis: answers come from GenAuth while it is still paused, bounded by redisTimeout', async () => {
    const a = await instance(100);
    const t = await tokens();
    let paused = true;
    await ask(server.port, 'CLIENT PAUSE 4000 ALL');
    const resumed = sleep(4000).then(() => (paused = false));
    expect(await a.status(t.alice)).toBe(200);
    emulator().setGrants('bob', []);
    expect(await a.status(t.bob)).toBe(403);
    expect(paused).toBe(true);
    expect(warnings[0]!.filter((w) => w.includes('(timeout)'))).toHaveLength(1);
    await resumed;
  });

  it('a Redis that refuses writes (out of memory): answers from GenAuth, one warning', async () => {
    const a = await instance();
    const t = await tokens();
    await ask(server.port, 'CONFIG SET maxmemory 1');
    for (const token of [t.alice, t.bob, t.carol]) expect(await a.status(token)).toBe(200);
    expect(a.guard.cacheStats().redis).toMatchObject({ writes: 0, hits: 0 });
    expect(warnings[0]!.filter((w) => w.includes('(error)'))).toHaveLength(1);
    await ask(server.port, 'CONFIG SET maxmemory 0');
    expect(await a.status(t.dave)).toBe(200);
    expect(a.guard.cacheStats().redis!.writes).toBe(1);
  });

  it('the subscription dropped on its own: the instance drops its local grants when it is back', async () => {
    const a = await instance();
    const t = await tokens();
    expect(await a.status(t.alice)).toBe(200);
    expect(a.guard.cacheStats().entries).toBe(1);
    await ask(server.port, 'CLIENT KILL TYPE pubsub');
    await until(() => events.some((e) => e.event === 'resynced'), 10_000, 'the resync');
    expect(a.guard.cacheStats().entries).toBe(0);
    expect(await a.status(t.alice)).toBe(200); // from Redis: the shared copy was never revoked
  });

  it('a guard started while Redis is down: GenAuth answers, and the tier and subscription come up with Redis, no restart', async () => {
    await server.kill();
    const client = open.unconnected(server.url);
    const connecting = client.connect(); // node-redis retries until the server is there
    const logger = { warn: (message: string) => void warnings.push([message]) };
    const a = await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix }, { logger }));
    instances.push(a);
    const t = await tokens();
    expect(await a.status(t.alice)).toBe(200);
    expect(a.guard.cacheStats().redis).toMatchObject({ subscribed: false, writes: 0 });
    await server.start();
    await connecting;
    await subscribed(a.guard);
    expect(await a.status(t.bob)).toBe(200);
    expect(a.guard.cacheStats().redis!.writes).toBe(1);
  });
});
