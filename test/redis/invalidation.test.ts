// Item 2: invalidations that reach every instance sharing the Redis. invalidateUser/invalidateAll
// resolve once recorded in Redis and published; every instance then denies within one Pub/Sub
// delivery (the test measures it). A load that began before an invalidation never writes its answer
// back, to Redis or to any instance's cache, whichever comes first: the message or the load's end
// (forced with the emulator's latency fault and a subscription that hears messages late). Three
// in-process instances, each an Express app over its own guard and its own client, one redis-server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExpressGuardOptions } from '../../src/adapters/express.js';
import { RESOURCES, bearerFor, useEmulator, resetToAliceReading } from '../fixtures.js';
import {
  clients,
  closeInstances,
  freshPrefix,
  keepSubscribed,
  sharedOptions,
  sleep,
  startInstance,
  until,
  wrappedClient,
  type Instance,
} from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';
import { startSlowAnswers, type SlowAnswers } from './slow-answers.js';

const run = redisTestsRun('test/redis/invalidation.test.ts');

/** The scope's global mark key of an entry key: `<prefix>{<scope>|<user>}:grants` -> `<prefix>{<scope>}:all`. */
const globalMarkOf = (key: string) => `${key.slice(0, key.indexOf('|'))}}:all`;

/** The JSON of a stored entry (behind its seal, `<mac>.<json>`). */
const storedEntry = (value: unknown) => JSON.parse(String(value).slice(String(value).indexOf('.') + 1)) as unknown;

/** Every instance must deny within this long of the invalidation's promise resolving (README states it). */
const BOUND_MS = 2000;

describe.skipIf(!run)('invalidation across instances', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let hops: SlowAnswers[] = [];
  let prefix = '';
  let alice = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    const e = emulator();
    resetToAliceReading(e);
    alice = await bearerFor(e, 'alice');
  });
  afterEach(async () => {
    await closeInstances(instances);
    await Promise.all(hops.map((hop) => hop.close()));
    hops = [];
    open.closeAll();
  });

  /**
   * Every message the instances sent, and each instance's count of those it heard (handed over, late
   * or not), by text: `allHeard()` says each instance has heard all sent so far.
   */
  const sent = new Map<string, number>();
  let heardBy: Array<Map<string, number>> = [];
  const allHeard = () => heardBy.every((heard) => [...sent].every(([text, count]) => (heard.get(text) ?? 0) >= count));
  beforeEach(() => {
    sent.clear();
    heardBy = [];
  });

  async function instance(options: { lateBy?: () => number; cache?: Record<string, unknown>; extra?: Partial<ExpressGuardOptions> } = {}): Promise<Instance> {
    const client = await open.client(redis().url);
    const heard = new Map<string, number>();
    heardBy.push(heard);
    const late = options.lateBy;
    const redisClient = wrappedClient(client, {
      published: (text) => void sent.set(text, (sent.get(text) ?? 0) + 1),
      deliver: (handOver, text) => {
        const hand = () => {
          handOver();
          heard.set(text, (heard.get(text) ?? 0) + 1);
        };
        if (late === undefined) hand();
        else setTimeout(hand, late());
      },
    });
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), redisClient, { redisPrefix: prefix, ...options.cache }, options.extra)));
  }

  /** Polls each instance until it denies; resolves the longest wait, in ms, after `since`. */
  async function allDeny(group: Instance[], since: number): Promise<number> {
    const waits = await Promise.all(
      group.map(async (one) => {
        await until(async () => (await one.status(alice)) === 403, BOUND_MS, `${one.url} denying`);
        return performance.now() - since;
      }),
    );
    return Math.max(...waits);
  }

  it.each(['invalidateUser', 'invalidateAll'] as const)('%s on one instance: every instance denies within the bound', async (how) => {
    const group = [await instance(), await instance(), await instance()];
    for (const one of group) expect(await one.status(alice)).toBe(200); // each caches alice in-process
    emulator().setGrants('alice', []); // revoked in GenAuth
    const [first] = group as [Instance];
    const result = how === 'invalidateUser' ? first.guard.invalidateUser('alice') : first.guard.invalidateAll();
    expect(result).toBeInstanceOf(Promise);
    await result;
    const since = performance.now();
    const longest = await allDeny(group, since);
    console.log(`${how}: every instance denied within ${longest.toFixed(1)} ms of the promise resolving`);
  });

  it('the promise resolves once the invalidation is recorded in Redis: the entry is gone, and no instance reads it', async () => {
    const client = await open.client(redis().url);
    const [a, b] = [await instance(), await instance()];
    expect(await a.status(alice)).toBe(200);
    expect(await client.keys(`${prefix}*:grants`)).toHaveLength(1);
    emulator().setGrants('alice', []);
    await a.guard.invalidateUser('alice');
    expect(await client.keys(`${prefix}*:grants`)).toHaveLength(0);
    const c = await instance(); // a cold instance after the invalidation: nothing to read but GenAuth's new answer
    expect(await c.status(alice)).toBe(403);
    await allDeny([a, b, c], performance.now());
  });

  /** An instance whose GenAuth answers come through a hop that hands the next `slow` grants answers back `ms` late. */
  async function slowInstance(ms: () => number, lateBy?: () => number) {
    let slow = 0;
    const hop = await startSlowAnswers(emulator().url, (path) => (path === RESOURCES && slow > 0 ? (slow--, ms()) : 0));
    hops.push(hop);
    const genauth = { ...emulator().guardOptions().genauth, host: hop.url };
    const one = await instance({ lateBy, extra: { genauth } });
    return { one, hop, slowNext: (count = 1) => void (slow += count) };
  }

  /** Starts a request on `one` whose GenAuth answer (the grants before the revocation) is held by its hop. */
  async function heldLoad(slow: Awaited<ReturnType<typeof slowInstance>>): Promise<{ waiting: Promise<number> }> {
    slow.slowNext();
    const waiting = slow.one.status(alice);
    await until(() => slow.hop.pending === 1, 5000, 'the held answer');
    return { waiting }; // wrapped: an async function returning the promise itself would wait for it
  }

  it('the emulator\'s latency fault: the requests waiting on a load that an invalidation made moot share a fresh load, never a 503', async () => {
    const [a, b] = [await instance(), await instance()];
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const waiting = Promise.all([b.status(alice), b.status(alice), b.status(alice)]);
    await until(() => emulator().callCount(RESOURCES) === 1);
    emulator().setGrants('alice', []);
    await a.guard.invalidateUser('alice');
    expect(await waiting).toEqual([403, 403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('a load answered before the revocation, its instance told first: the answer is dropped, the waiting request gets 403', async () => {
    const a = await instance();
    const b = await slowInstance(() => 300);
    const { waiting } = await heldLoad(b);
    emulator().setGrants('alice', []);
    await a.guard.invalidateUser('alice');
    expect(await waiting).toBe(403);
    expect(await b.one.status(alice)).toBe(403);
    expect(await (await instance()).status(alice)).toBe(403); // nothing old in Redis
  });

  it.each(['invalidateUser', 'invalidateAll'] as const)(
    '%s: a load answered before the revocation that ends before its instance hears of it: not written to Redis, not kept locally',
    async (how) => {
      const client = await open.client(redis().url);
      const a = await instance();
      const b = await slowInstance(() => 300, () => 1000); // b hears every message a second late
      const { waiting } = await heldLoad(b);
      emulator().setGrants('alice', []);
      await (how === 'invalidateUser' ? a.guard.invalidateUser('alice') : a.guard.invalidateAll());
      // The old answer reaches b before the message: its write finds the mark replaced, so b drops it
      // and loads again, rather than keep it or share it.
      expect(await waiting).toBe(403);
      expect(await b.one.status(alice)).toBe(403);
      expect(await (await instance()).status(alice)).toBe(403);
      for (const key of await client.keys(`${prefix}*:grants`)) {
        const entry = storedEntry(await client.get(key)) as { list: unknown[]; globalMark: string };
        if (entry.globalMark === (await client.get(globalMarkOf(key)))) expect(entry.list).toEqual([]);
      }
    },
  );

  it('in any interleaving of loads, invalidations and late messages, the revoked grant never comes back', async () => {
    const client = await open.client(redis().url);
    const random = (max: number) => Math.floor(Math.random() * max);
    const group = [
      await slowInstance(() => random(200)),
      await slowInstance(() => random(200), () => random(150)),
      await slowInstance(() => random(200), () => random(150)),
    ];
    // Counted from here, once all three hear: a heartbeat sent before the last subscribed is not heard by it.
    sent.clear();
    for (const heard of heardBy) heard.clear();
    for (let round = 0; round < 8; round++) {
      emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
      await Promise.all(group.map(({ one }) => one.guard.invalidateUser('alice')));
      await until(allHeard, 10_000, 'the late messages of the re-grant'); // every instance heard them
      for (const slow of group) slow.slowNext(random(3));
      const loads = group.map(({ one }) => sleep(random(100)).then(() => one.status(alice)));
      await sleep(random(150));
      emulator().setGrants('alice', []);
      const { one: invalidator } = group[random(group.length)]!;
      await (round % 2 === 0 ? invalidator.guard.invalidateUser('alice') : invalidator.guard.invalidateAll());
      for (const status of await Promise.all(loads)) expect([200, 403]).toContain(status); // began before the revocation: either, never 503
      await until(() => group.every(({ hop }) => hop.pending === 0));
      // Every message heard by every instance, however late (not a fixed time a loaded machine can outlast).
      await until(allHeard, 10_000, 'every late message');
      for (const { one } of group) expect(await one.status(alice)).toBe(403);
      for (const key of await client.keys(`${prefix}*:grants`)) {
        const entry = storedEntry(await client.get(key)) as { list: unknown[]; globalMark: string };
        if (entry.globalMark === (await client.get(globalMarkOf(key)))) expect(entry.list).toEqual([]);
      }
    }
  });
});
