import { describe, expect, it } from 'vitest';
import { createPermissionCache } from '../../src/cache/permission-cache.js';
import { indexGrants } from '../../src/policy/grants.js';
import { manualClock } from '../clock.js';

const options = {
  ttl: 60_000, max: 2, maxBytes: 64 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024, maxStale: 0, staleWhileRevalidate: false, errorTtl: 0,
  clock: performance, sizeOf: (index: { bytes: number }) => index.bytes,
};
const load = async (userId: string) => indexGrants([{ resourceCode: `doc:${userId}`, resourceType: 'DATA', actions: ['doc:Read'], effect: 'ALLOW' }]);

describe('permission cache links', () => {
  it('a kept link lets go of its grants when they are evicted, invalidated or replaced', async () => {
    const cache = createPermissionCache({ ...options, load });
    await cache.get('a');
    const link = cache.peek('a')!.link;
    expect(cache.stillFresh(link)?.value.lookup('doc:a')).toHaveLength(1);
    await cache.get('b');
    await cache.get('c'); // max 2: evicts a
    expect(link.grants).toBeUndefined();
    expect(cache.stillFresh(link)).toBeUndefined();

    const b = cache.peek('b')!.link;
    cache.invalidateUser('b');
    expect(b.grants).toBeUndefined();
    const c = cache.peek('c')!.link;
    cache.invalidateAll();
    expect(c.grants).toBeUndefined();
  });

  it('a link reads as stale once its ttl has passed', async () => {
    const { clock, advance } = manualClock();
    const cache = createPermissionCache({ ...options, ttl: 50, clock, load });
    await cache.get('a');
    const link = cache.peek('a')!.link;
    advance(49);
    expect(cache.stillFresh(link)).toBeDefined();
    expect(cache.peek('a')).toBeDefined();
    advance(2);
    expect(cache.stillFresh(link)).toBeUndefined();
    expect(cache.peek('a')).toBeUndefined();
  });
});

describe('permission cache remeasure', () => {
  // A value that can grow after it was cached (an index is frozen: its size stands in, with room to grow).
  const grown = { ...options, sizeOf: (value: { bytes: number; extra?: number }) => value.bytes + (value.extra ?? 0) };

  it('charges a value that grew, keeps the link pointing at the entry and keeps the ttl', async () => {
    const { clock, advance } = manualClock();
    const cache = createPermissionCache({ ...grown, ttl: 1_000, clock, load: async (userId: string) => ({ bytes: (await load(userId)).bytes, extra: 0 }) });
    const value = await cache.get('a');
    const before = cache.stats().bytes;
    const link = cache.peek('a')!.link;
    advance(900);
    value.extra = 10_000;
    expect(cache.remeasure('a', value)).toBe(true);
    expect(cache.stats().bytes).toBe(before + 10_000);
    expect(cache.stillFresh(link)?.value).toBe(value);
    advance(101);
    expect(cache.peek('a')).toBeUndefined(); // expired at the ttl of its load
    expect(cache.stillFresh(link)).toBeUndefined();
  });

  it('leaves alone a stale entry, another value, and a missing user; drops an entry grown past maxEntryBytes', async () => {
    const { clock, advance } = manualClock();
    const cache = createPermissionCache({ ...grown, ttl: 1_000, maxStale: 60_000, maxEntryBytes: 5_000, clock, load: async (userId: string) => ({ bytes: (await load(userId)).bytes, extra: 0 }) });
    const value = await cache.get('a');
    expect(cache.remeasure('a', { ...value })).toBe(false);
    expect(cache.remeasure('b', value)).toBe(false);
    value.extra = 10_000;
    const link = cache.peek('a')!.link;
    expect(cache.remeasure('a', value)).toBe(true);
    expect(cache.stats().entries).toBe(0);
    expect(link.grants).toBeUndefined();
    const other = await cache.get('c');
    advance(1_001);
    other.extra = 1_000;
    const before = cache.stats().bytes;
    expect(cache.remeasure('c', other)).toBe(false);
    expect(cache.stats().bytes).toBe(before);
  });
});

describe('permission cache invalidation during a load', () => {
  /** A load per call whose answer the test releases by hand. */
  function manualLoads() {
    const pending: Array<{ userId: string; resolve: (code: string) => void; reject: (error: Error) => void }> = [];
    const load = (userId: string) =>
      new Promise<ReturnType<typeof indexGrants>>((resolve, reject) => {
        pending.push({ userId, resolve: (code) => resolve(indexGrants([{ resourceCode: code, actions: ['doc:Read'] }] as never)), reject });
      });
    return { pending, load };
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  it.each([
    ['maxStale 0', { maxStale: 0 }],
    ['maxStale 60 s', { maxStale: 60_000 }],
  ])('%s: the waiter takes the load begun after invalidateUser; the earlier one is never stored', async (_name, extra) => {
    const { pending, load } = manualLoads();
    const cache = createPermissionCache({ ...options, ...extra, load });
    const waiting = cache.get('a');
    await tick();
    expect(pending).toHaveLength(1);
    cache.invalidateUser('a');
    await tick();
    expect(pending).toHaveLength(2); // a fresh load for the waiter
    pending[1]!.resolve('after');
    expect((await waiting).lookup('after')).toHaveLength(1);
    pending[0]!.resolve('before');
    await tick();
    expect(cache.peek('a')?.value.lookup('after')).toHaveLength(1);
    expect(cache.peek('a')?.value.lookup('before')).toBeUndefined();
  });

  it.each([
    ['maxStale 0', { maxStale: 0 }],
    ['maxStale 60 s', { maxStale: 60_000 }],
  ])('%s: a load evicted in flight, then invalidated, is not its waiter\'s answer', async (_name, extra) => {
    const { pending, load } = manualLoads();
    const cache = createPermissionCache({ ...options, ...extra, max: 1, load });
    const waiting = cache.get('a');
    void cache.get('b'); // max 1: evicts a's load while it is in flight
    await tick();
    cache.invalidateUser('a');
    pending[0]!.resolve('before');
    await tick();
    expect(pending).toHaveLength(3); // a fresh load for a's waiter
    pending[2]!.resolve('after');
    const answer = await waiting;
    expect(answer.lookup('after')).toHaveLength(1);
    expect(answer.lookup('before')).toBeUndefined();
  });

  it('invalidateAll: a failing earlier load is not the waiter\'s answer nor remembered', async () => {
    const { pending, load } = manualLoads();
    const cache = createPermissionCache({ ...options, errorTtl: 60_000, load });
    const waiting = cache.get('a');
    await tick();
    cache.invalidateAll();
    await tick();
    pending[0]!.reject(new Error('down'));
    pending[1]!.resolve('after');
    expect((await waiting).lookup('after')).toHaveLength(1);
    cache.invalidateUser('a');
    const next = cache.get('a');
    await tick();
    expect(pending).toHaveLength(3); // loaded, not answered with the remembered failure
    pending[2]!.resolve('next');
    expect((await next).lookup('next')).toHaveLength(1);
  });

  it('waits through seven invalidations in a row, then answers from the eighth load', async () => {
    const { pending, load } = manualLoads();
    const cache = createPermissionCache({ ...options, load });
    const waiting = cache.get('a').then(
      () => 'answered',
      () => 'failed',
    );
    for (let i = 0; i < 7; i++) {
      await tick();
      cache.invalidateUser('a');
    }
    await tick();
    for (const entry of pending) entry.resolve('x');
    expect(await waiting).toBe('answered');
    expect(pending).toHaveLength(8);
  });

  it('gives up (an error, so a 503) when every load it waits on is invalidated (an invalidation storm)', async () => {
    const { pending, load } = manualLoads();
    const cache = createPermissionCache({ ...options, load });
    const waiting = cache.get('a').then(
      () => 'answered',
      () => 'failed',
    );
    for (let i = 0; i < 8; i++) {
      await tick();
      cache.invalidateUser('a');
    }
    for (const entry of pending) entry.resolve('x');
    expect(await waiting).toBe('failed');
  });
});

describe('permission cache eviction during a load', () => {
  it.each([
    ['maxStale 0', 0],
    ['maxStale 60 s', 60_000],
  ])('%s: loads evicted in flight still answer their waiters, once each, and are not stored', async (_name, maxStale) => {
    const releases: Array<() => void> = [];
    let loads = 0;
    const cache = createPermissionCache({
      ...options,
      maxStale,
      load: (userId) => {
        loads++;
        return new Promise<ReturnType<typeof indexGrants>>((resolve) => releases.push(() => void load(userId).then(resolve)));
      },
    });
    // Two requests per user, the second joining the first's load; a, b and c are evicted by c, d, e.
    const requests = ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'e', 'e'];
    const waiting = Promise.allSettled(requests.map((user) => cache.get(user)));
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const release of releases) release();
    const results = await waiting;
    expect(results.map((r, i) => (r.status === 'fulfilled' ? r.value.lookup(`doc:${requests[i]}`)?.length : r.reason))).toEqual(Array(10).fill(1));
    expect(loads).toBe(5);
    expect(cache.stats().entries).toBeLessThanOrEqual(2);
    expect(cache.peek('a')).toBeUndefined(); // evicted in flight: answered, not stored
    expect(cache.peek('e')).toBeDefined();
  });
});

describe('permission cache failures', () => {
  it.each([
    ['maxStale 0', 0],
    ['maxStale 60 s', 60_000],
  ])('%s, errorTtl 0: requests waiting on a load that fails share its failure, one load in all', async (_name, maxStale) => {
    let loads = 0;
    const down = new Error('down');
    const cache = createPermissionCache({
      ...options,
      maxStale,
      errorTtl: 0,
      load: async () => {
        loads++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw down;
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.get('a')));
    expect(results).toEqual(Array(5).fill({ status: 'rejected', reason: down }));
    expect(loads).toBe(1);
  });
});
