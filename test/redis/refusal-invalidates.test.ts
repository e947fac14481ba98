// With cache.redis: an instance that learns from GenAuth that a user is refused (apiCode 2120008, user
// disabled or not a member of the tenant) publishes that user's invalidation, the message
// guard.invalidateUser sends, so another instance whose own copy of the user's grants is still fresh
// stops serving it (it loads again, and is refused too) instead of serving it for up to cache.ttl. At
// most once per user per short window: a burst of refused loads sends one message. Real redis-server,
// real Express instances, the emulator; TTLs and the window pass on the guards' shared test clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../clock.js';
import { RESOURCES, bearerFor, resetEmulator, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, until, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/refusal-invalidates.test.ts');
const NOT_A_MEMBER = 2120008;
const TTL = 1_000;
const LONG_TTL = 600_000;

describe.skipIf(!run)('apiCode 2120008 on one instance, with cache.redis: every instance forgets the user', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let prefix = '';
  let time: ManualClock;

  beforeEach(() => {
    prefix = freshPrefix();
    time = manualClock(Date.now());
    resetEmulator(emulator());
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }], { tenant: 't1' });
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
  });

  async function instance(cache: Record<string, unknown> = {}): Promise<Instance> {
    const client = await open.client(redis().url);
    const base = emulator().guardOptions();
    const extra = { clock: time.clock, now: () => time.clock.now(), genauth: { ...base.genauth, tenantId: 't1' } };
    const options = sharedOptions(emulator(), client, { redisPrefix: prefix, ttl: TTL, maxStale: 60_000, staleWhileRevalidate: false, ...cache }, extra);
    return keepSubscribed(instances, await startInstance(options));
  }

  const refusals = () => emulator().calls.filter((call) => call.path === RESOURCES && call.apiCode === NOT_A_MEMBER).length;
  /** alice stays in the pool but leaves the tenant t1: GenAuth answers 2120008 for her from now on. */
  function removeAlice(): void {
    emulator().deleteUser('alice');
    emulator().addUser('alice');
  }

  /** Polls `b` until it no longer answers alice 200 (its fresh copy): its answer then; fails if it keeps serving it. */
  async function answerOnceForgotten(b: Instance, alice: string): Promise<number> {
    let status = 200;
    await until(async () => (status = await b.status(alice)) !== 200, 5_000, 'the other instance forgetting alice');
    return status;
  }

  /** Two ways an instance comes to ask GenAuth while another's copy (and so Redis's) is still fresh. */
  const WAYS: Array<[string, (alice: string) => Promise<Instance>]> = [
    [
      'a cold load after Redis lost the shared entry (evicted)',
      async () => {
        const keys = await (await open.client(redis().url)).keys(`${prefix}*|=alice}:grants`);
        expect(keys).toHaveLength(1);
        await (await open.client(redis().url)).del(keys);
        return instance();
      },
    ],
    [
      "a refresh on an instance whose cache.ttl is shorter than the other's",
      async (alice) => {
        const a = await instance(); // ttl 1 s; the other's is 10 min
        expect(await a.status(alice)).toBe(200); // from Redis
        time.advance(TTL + 1); // stale on a: it asks GenAuth, the shared entry being as old
        return a;
      },
    ],
  ];

  it.each(WAYS)('another instance stops serving its fresh copy once one is refused: %s', async (_way, refusedOn) => {
    const b = await instance({ ttl: LONG_TTL });
    const alice = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    expect(await b.status(alice)).toBe(200); // b caches alice, fresh for 10 min
    const a = await refusedOn(alice);
    removeAlice();
    expect(await a.status(alice)).toBe(503);
    expect(refusals()).toBe(1);
    // b never serves its stale copy again: it forgets alice, loads her again and is refused.
    expect(await answerOnceForgotten(b, alice)).toBe(503);
    expect(refusals()).toBe(2);
    expect(await b.status(alice)).toBe(503);
  });

  it('a burst of refused loads publishes one invalidation per user per window', async () => {
    const heard: string[] = [];
    const listener = await open.client(redis().url);
    const publisher = await open.client(redis().url);
    await listener.pSubscribe(`${prefix}*:invalidate`, (message) => {
      const user = (JSON.parse(message) as { user?: unknown }).user;
      if (typeof user === 'string') heard.push(user);
    });
    const a = await instance({ errorTtl: 0 }); // every request asks GenAuth again
    const alice = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    removeAlice();
    for (let i = 0; i < 5; i++) expect(await a.status(alice)).toBe(503);
    expect(refusals()).toBe(5);
    /** Everything published so far has reached the listener once a marker published after it has. */
    async function heardSoFar(): Promise<string[]> {
      const marker = `marker-${heard.length}-${Math.random()}`;
      const channels = await publisher.pubSubChannels(`${prefix}*:invalidate`);
      expect(channels.length).toBeGreaterThan(0);
      for (const channel of channels) await publisher.publish(String(channel), JSON.stringify({ from: 'test', user: marker }));
      await until(() => heard.includes(marker), 5_000, 'the marker');
      return heard.filter((user) => !user.startsWith('marker-'));
    }
    expect(await heardSoFar()).toEqual(['alice']);
    time.advance(60_000); // past the window: a refusal now is published again
    expect(await a.status(alice)).toBe(503);
    expect(await heardSoFar()).toEqual(['alice', 'alice']);
  });
});
