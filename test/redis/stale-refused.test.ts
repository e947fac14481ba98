// With cache.redis: GenAuth's apiCode 2120008 ("user disabled or not a member of this tenant") on a
// refresh is not an outage, so neither the instance's own stale copy nor the shared one in Redis is
// served: every instance that refreshes the user answers the 503 a cold load gets. (The refusal is also
// passed on as the user's invalidation: test/redis/refusal-invalidates.test.ts.) Real redis-server, real
// Express instances, the emulator; TTLs pass on the guards' shared test clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../clock.js';
import { RESOURCES, bearerFor, resetEmulator, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/stale-refused.test.ts');
const NOT_A_MEMBER = 2120008;
const TTL = 1_000;

describe.skipIf(!run)('apiCode 2120008 on the refresh of stale grants, with cache.redis', () => {
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
  /** alice stays in the pool but leaves the tenant t1. */
  function removeAlice(): void {
    emulator().deleteUser('alice');
    emulator().addUser('alice');
  }

  it('no instance serves the stale grants, its own or the shared entry, once GenAuth refused the user', async () => {
    const [a, b] = [await instance(), await instance()];
    const alice = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    expect(await a.status(alice)).toBe(200);
    expect(await b.status(alice)).toBe(200); // from Redis: both cache alice now
    expect(emulator().callCount(RESOURCES)).toBe(1);
    removeAlice();
    time.advance(TTL + 1); // stale on both, and in Redis
    const refused = await a.answer(alice);
    expect(refusals()).toBe(1);
    expect(refused.status).not.toBe(200);
    expect(a.guard.cacheStats()).toMatchObject({ users: 0 });
    // b asks GenAuth itself (a wrote nothing, and invalidated alice), and is refused too.
    expect(await b.status(alice)).toBe(503);
    expect(refusals()).toBe(2);
    // A new instance finds no shared entry (a stale one would not be served either).
    const c = await instance();
    expect(await c.answer(alice)).toEqual(refused);
    expect(refusals()).toBe(3);
    // What a cold load of alice answers (a 503), on every one of them.
    expect(refused.status).toBe(503);
  });

  it('an outage on the same refresh still serves the shared entry', async () => {
    const a = await instance({ errorTtl: 0 });
    const alice = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    expect(await a.status(alice)).toBe(200);
    time.advance(TTL + 1);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const b = await instance({ errorTtl: 0 });
    expect(await b.status(alice)).toBe(200); // the stale shared entry, GenAuth down
    emulator().clearFaults();
    removeAlice();
    time.advance(2); // past the 1 ms an entry already stale is kept for (permission-cache.ts)
    expect(await b.status(alice)).toBe(503);
    expect(refusals()).toBe(1);
  });
});
