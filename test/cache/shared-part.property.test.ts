// The permission cache's shared parts (interned grant sets) under random traffic: loads (several at
// once, some users asking again while their load runs), invalidations of one user or of everyone,
// a shared part growing (API mode). After every step: what the cache charges is within maxBytes, and
// each set's count of holders equals the stored users whose value is that set; when all is dropped,
// every count is back to 0 and nothing is charged. The grant store's table is the one under test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGrantSetTable, type GrantSet } from '../../src/cache/grant-sets.js';
import { createPermissionCache } from '../../src/cache/permission-cache.js';

type Value = { set: GrantSet<number[], { id: number }> };

const SET_BYTES = 1_000;
const USER_BYTES = 100;

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('get' as const), users: fc.array(fc.nat(11), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), user: fc.nat(11) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const), user: fc.nat(11) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), user: fc.nat(11), to: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'all' as const }) },
);

describe('shared parts of the permission cache', () => {
  it('holder counts match the stored users and the budget holds, whatever the traffic', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.integer({ min: 3_000, max: 6_000 }), async (ops, maxBytes) => {
        const table = createGrantSetTable<number[], { id: number }>({ build: (list) => ({ id: list[0] as number }), sizeOf: () => SET_BYTES });
        const setOf = new Map<string, number>(); // user -> which of 4 lists GenAuth serves them
        const cache = createPermissionCache<Value>({
          ttl: 60_000, max: Number.POSITIVE_INFINITY, maxBytes, maxEntryBytes: 2_000, maxStale: 0, staleWhileRevalidate: false, errorTtl: 0, clock: performance,
          load: async (userId) => {
            await new Promise((r) => setImmediate(r));
            return { set: await table.intern([setOf.get(userId) ?? 0]) };
          },
          sizeOf: () => USER_BYTES,
          shared: { retain: (v) => table.retain(v.set), release: (v) => table.release(v.set), bytesOf: (v) => v.set.bytes, bytes: () => table.bytes, count: () => table.size },
        });
        const seen = new Set<GrantSet<number[], { id: number }>>();
        const check = () => {
          const stats = cache.stats();
          expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
          const holders = new Map<GrantSet<number[], { id: number }>, number>();
          for (let u = 0; u < 12; u++) {
            const entry = cache.peek(`u${u}`);
            if (entry !== undefined) holders.set(entry.value.set, (holders.get(entry.value.set) ?? 0) + 1);
          }
          for (const set of seen) expect(set.users).toBe(holders.get(set) ?? 0);
        };
        for (const step of ops) {
          if (step.kind === 'get') {
            const values = await Promise.all(step.users.map((u) => cache.get(`u${u}`)));
            values.forEach((v, i) => {
              seen.add(v.set);
              expect(v.set.built.id).toBe(setOf.get(`u${step.users[i]}`) ?? 0);
            });
          } else if (step.kind === 'invalidate') cache.invalidateUser(`u${step.user}`);
          else if (step.kind === 'move') {
            setOf.set(`u${step.user}`, step.to);
            cache.invalidateUser(`u${step.user}`);
          } else if (step.kind === 'grow') {
            const entry = cache.peek(`u${step.user}`);
            if (entry !== undefined) {
              table.grew(entry.value.set, 200);
              cache.fit(`u${step.user}`);
            }
          } else cache.invalidateAll();
          check();
        }
        cache.invalidateAll();
        for (const set of seen) expect(set.users).toBe(0);
        expect(table.bytes).toBe(0);
        expect(table.size).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
