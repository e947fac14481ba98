import { describe, expect, it } from 'vitest';
import { createPermissionCache } from '../../src/cache/permission-cache.js';
import { indexGrants } from '../../src/policy/grants.js';

const options = { ttl: 60_000, max: 2, maxBytes: 64 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024, maxStale: 0, staleWhileRevalidate: false, errorTtl: 0 };
const load = async (userId: string) => indexGrants([{ resourceCode: `doc:${userId}`, resourceType: 'DATA', actions: ['doc:Read'], effect: 'ALLOW' }]);

describe('permission cache links', () => {
  it('a kept link lets go of its grants when they are evicted, invalidated or replaced', async () => {
    const cache = createPermissionCache({ ...options, load });
    await cache.get('a');
    const link = cache.peek('a')!.link;
    expect(cache.stillFresh(link)?.index.lookup('doc:a')).toHaveLength(1);
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
    const cache = createPermissionCache({ ...options, ttl: 50, load });
    await cache.get('a');
    const link = cache.peek('a')!.link;
    expect(cache.stillFresh(link)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(cache.stillFresh(link)).toBeUndefined();
    expect(cache.peek('a')).toBeUndefined();
  });
});
