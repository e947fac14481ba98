// Item 1: Redis as a shared second tier behind the in-process cache. A local miss reads Redis before
// GenAuth; what GenAuth returned is written with its fetch time, so a Redis hit is fresh until fetch
// time + ttl on every instance, and the key expires at ttl + maxStale. Keys carry the prefix and the
// scope: two guards of different scopes never read each other's entries. Real redis-server, real HTTP.
import { RESP_TYPES } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { RESOURCES, bearerFor, useEmulator, resetToAliceReading } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, subscribed, until, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/tier.test.ts');

describe.skipIf(!run)('the shared tier', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let prefix = '';

  beforeEach(() => {
    prefix = freshPrefix();
    const e = emulator();
    resetToAliceReading(e);
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
  });

  async function instance(cache: Record<string, unknown> = {}, extra = {}): Promise<Instance> {
    const client = await open.client(redis().url);
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix, ...cache }, extra)));
  }

  it('a second instance answers a user from Redis: one GenAuth call for both', async () => {
    const [a, b] = [await instance(), await instance()];
    const auth = await bearerFor(emulator(), 'alice');
    expect(await a.status(auth)).toBe(200);
    expect(await b.status(auth)).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(a.guard.cacheStats().redis).toMatchObject({ misses: 1, writes: 1, hits: 0 });
    expect(b.guard.cacheStats().redis).toMatchObject({ misses: 0, writes: 0, hits: 1 });
  });

  it('the cached request never touches Redis (the hot path is in-process)', async () => {
    const a = await instance();
    const auth = await bearerFor(emulator(), 'alice');
    expect(await a.status(auth)).toBe(200);
    const before = { ...a.guard.cacheStats().redis };
    for (let i = 0; i < 20; i++) expect(await a.status(auth)).toBe(200);
    expect(a.guard.cacheStats().redis).toEqual(before);
  });

  it('a Redis hit is fresh until fetch time + ttl, not read time + ttl', async () => {
    const time = manualClock(Date.now());
    const options = { clock: time.clock, now: () => time.clock.now() };
    const a = await instance({ ttl: 60_000 }, options);
    const b = await instance({ ttl: 60_000 }, options);
    const auth = await bearerFor(emulator(), 'alice');
    expect(await a.status(auth)).toBe(200); // fetched at t
    time.advance(59_000);
    expect(await b.status(auth)).toBe(200); // read at t + 59 s: fresh for 1 s more on b
    expect(emulator().callCount(RESOURCES)).toBe(1);
    time.advance(1_500);
    expect(await b.status(auth)).toBe(200); // t + 60.5 s: stale locally and in Redis, so GenAuth again
    await until(() => emulator().callCount(RESOURCES) === 2);
  });

  it('the key expires at ttl + maxStale after the fetch', async () => {
    const client = await open.client(redis().url);
    const a = await instance({ ttl: 2_000, maxStale: 3_000 });
    expect(await a.status(await bearerFor(emulator(), 'alice'))).toBe(200);
    const keys = await client.keys(`${prefix}*:grants`);
    expect(keys).toHaveLength(1);
    const ttl = await client.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(4_000);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('a stale Redis entry is served while GenAuth fails, within maxStale only', async () => {
    const time = manualClock(Date.now());
    const options = { clock: time.clock, now: () => time.clock.now(), genauth: { ...emulator().guardOptions().genauth, retries: 0 } };
    const a = await instance({ ttl: 1_000, maxStale: 10_000, errorTtl: 0 }, options);
    const b = await instance({ ttl: 1_000, maxStale: 10_000, errorTtl: 0 }, options);
    const auth = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    expect(await a.status(auth)).toBe(200);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    time.advance(5_000);
    expect(await b.status(auth)).toBe(200); // stale by 4 s, GenAuth down: the shared copy
    time.advance(7_000);
    const c = await instance({ ttl: 1_000, maxStale: 10_000, errorTtl: 0 }, options);
    expect(await c.status(auth)).toBe(503); // stale by 11 s > maxStale: nothing to serve
  });

  describe('keys carry the prefix and the scope', () => {
    it.each([
      ['another namespace', { namespace: 'other' }, {}],
      ['another resource type', { resourceType: 'DATA' }, {}],
      ['another id type', { userIdType: 'external_id' }, {}],
      ['another prefix', {}, { redisPrefix: 'other-app:' }],
    ])('%s: its guard never reads the entry', async (_name, genauth, cache) => {
      const a = await instance();
      const auth = await bearerFor(emulator(), 'alice');
      expect(await a.status(auth)).toBe(200);
      const b = await instance(cache, { genauth: { ...emulator().guardOptions().genauth, ...genauth } });
      await b.status(auth);
      expect(emulator().callCount(RESOURCES)).toBe(2);
      expect(b.guard.cacheStats().redis?.hits).toBe(0);
    });
  });

  it('a RESP3 client and a client that maps strings to Buffers read and write the same entries', async () => {
    const resp3 = await open.client(redis().url, { RESP: 3 });
    const buffers = (await open.client(redis().url)).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const [a, b] = [resp3, buffers].map((client) => startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix })));
    const started = await Promise.all([a!, b!]);
    instances.push(...started);
    await Promise.all(started.map((one) => subscribed(one.guard)));
    const auth = await bearerFor(emulator(), 'alice');
    expect(await started[0]!.status(auth)).toBe(200);
    expect(await started[1]!.status(auth)).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(started[1]!.guard.cacheStats().redis).toMatchObject({ hits: 1, ignored: 0, failures: 0 });
    emulator().setGrants('alice', []);
    await started[0]!.guard.invalidateUser('alice');
    await until(async () => (await started[1]!.status(auth)) === 403, 2000, 'the Buffer-mapped instance denying');
  });
});
