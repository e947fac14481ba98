// The bookkeeping behind identity.resolve's first read of a user's revocation record (the HTTP side,
// with a real redis-server, is test/redis/late-identity.test.ts): one read per user, shared by
// concurrent first requests, read again after forgetUser/forgetAll, bounded, nothing without a store.
import { describe, expect, it } from 'vitest';
import { createIdentityLookups } from '../../src/core/identity-lookups.js';
import { createMemoryRevocations, type RevocationStore } from '../../src/token/revocations.js';

/**
 * An in-process store whose lookUp is answered by the test: the reads asked so far, each with its
 * `finish` (`answered` false: the store could not say in time).
 */
function sharedStore() {
  const store: RevocationStore = createMemoryRevocations({ ttl: 60_000, max: 100, now: Date.now });
  const asked: Array<{ userId: string; finish(answered?: boolean): void }> = [];
  store.lookUp = (userId) => new Promise<boolean>((resolve) => asked.push({ userId, finish: (answered = true) => resolve(answered) }));
  return { store, asked };
}

describe('createIdentityLookups', () => {
  it('is undefined without a shared store (no lookUp): nothing to read', () => {
    expect(createIdentityLookups(createMemoryRevocations({ ttl: 1000, max: 10, now: Date.now }))).toBeUndefined();
  });

  it('reads a user once: concurrent first requests share the read, later ones are synchronous', async () => {
    const { store, asked } = sharedStore();
    const lookups = createIdentityLookups(store)!;
    const first = lookups.read('alice');
    const second = lookups.read('alice');
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first);
    expect(asked.map((read) => read.userId)).toEqual(['alice']);
    asked[0]!.finish();
    await first;
    expect(lookups.read('alice')).toBeUndefined();
    expect(lookups.read('bob')).toBeInstanceOf(Promise);
    expect(asked.map((read) => read.userId)).toEqual(['alice', 'bob']);
  });

  it('reads the user again after forgetUser, and everyone after forgetAll', async () => {
    const { store, asked } = sharedStore();
    const lookups = createIdentityLookups(store)!;
    for (const user of ['alice', 'bob']) {
      const reading = lookups.read(user);
      asked.at(-1)!.finish();
      await reading;
    }
    lookups.forgetUser('alice');
    expect(lookups.read('bob')).toBeUndefined();
    expect(lookups.read('alice')).toBeInstanceOf(Promise);
    lookups.forgetAll();
    expect(lookups.read('bob')).toBeInstanceOf(Promise);
  });

  it('a read in flight when everything is forgotten (a resync) does not count: the next request reads again', async () => {
    const { store, asked } = sharedStore();
    const lookups = createIdentityLookups(store)!;
    const reading = lookups.read('alice');
    lookups.forgetAll();
    asked[0]!.finish();
    await reading;
    expect(lookups.read('alice')).toBeInstanceOf(Promise);
    expect(asked).toHaveLength(2);
  });

  it('a read the store could not answer in time is not remembered: that request goes on, the next reads again', async () => {
    const { store, asked } = sharedStore();
    const lookups = createIdentityLookups(store)!;
    const reading = lookups.read('alice');
    asked[0]!.finish(false);
    await expect(reading).resolves.toBeUndefined();
    const again = lookups.read('alice');
    expect(again).toBeInstanceOf(Promise);
    asked[1]!.finish();
    await again;
    expect(lookups.read('alice')).toBeUndefined();
    expect(asked).toHaveLength(2);
  });

  it('remembers at most `max` users: the least recently seen is read again', async () => {
    const { store, asked } = sharedStore();
    const lookups = createIdentityLookups(store, 2)!;
    for (const user of ['a', 'b', 'c']) {
      const reading = lookups.read(user);
      asked.at(-1)!.finish();
      await reading;
    }
    expect(lookups.read('c')).toBeUndefined();
    expect(lookups.read('b')).toBeUndefined();
    expect(lookups.read('a')).toBeInstanceOf(Promise);
  });

  it('a read that rejects (lookUp never should) is not remembered: the next request reads again', async () => {
    const store: RevocationStore = createMemoryRevocations({ ttl: 1000, max: 10, now: Date.now });
    let calls = 0;
    store.lookUp = () => (++calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(true));
    const lookups = createIdentityLookups(store)!;
    await expect(lookups.read('alice')).rejects.toThrow('boom');
    await lookups.read('alice');
    expect(calls).toBe(2);
    expect(lookups.read('alice')).toBeUndefined();
  });
});
