// The subscription dropped, and the probes that would prove it back cannot be published (a Redis ACL
// that forbids PUBLISH, or a publish that fails): the instance must not probe forever, remembering
// four probe ids a second and never resyncing. A probe that cannot be published counts as lost
// contact: the subscription is set up again on a fresh connection, whose SUBSCRIBE answer proves it
// live, and the instance drops its local grants (an invalidation may have been missed meanwhile).
// The heartbeat is off here (these tests count probes; it has test/redis/heartbeat.test.ts).
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import type { RedisTierClient } from '../../src/index.js';
import { bearerFor, useEmulator, resetToAliceReading } from '../fixtures.js';
import { MAX_UNANSWERED_PROBES } from '../../src/cache/redis/subscription.js';
import { clients, closeInstances, freshPrefix, sharedOptions, sleep, startInstance, subscribed, until, wrappedClient, type Instance } from './harness.js';
import { ask, redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/unpublishable-probes.test.ts');

/**
 * The same real client, counting its PUBLISH calls (the invalidations it sends and its probes); with
 * `deaf()` true, its subscriptions hear nothing (messages are published but never come back).
 */
function countingPublishes(client: RedisTierClient, deaf = () => false): { client: RedisTierClient; readonly publishes: number } {
  let publishes = 0;
  return {
    client: wrappedClient(client, {
      published: () => void publishes++,
      deliver: (handOver) => {
        if (!deaf()) handOver();
      },
    }),
    get publishes() {
      return publishes;
    },
  };
}

describe.skipIf(!run)('probes that cannot be published', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let events: RedisTierEvent[] = [];
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);

  beforeEach(() => {
    const e = emulator();
    resetToAliceReading(e);
    events = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await closeInstances(instances);
    open.closeAll();
  });

  it('an ACL forbidding PUBLISH: after a drop the instance resyncs on a fresh subscription and stops probing', async () => {
    const { port } = redis();
    expect(await ask(port, 'ACL SETUSER nopublish on >nopublish-pw ~* &* +@all -publish')).toMatch(/^\+OK/);
    const counted = countingPublishes(await open.client(`redis://nopublish:nopublish-pw@127.0.0.1:${port}`));
    const a = await startInstance(sharedOptions(emulator(), counted.client, { redisPrefix: freshPrefix(), redisHeartbeat: false }));
    instances.push(a);
    await subscribed(a.guard);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);
    expect(a.guard.cacheStats().entries).toBe(1);

    await ask(port, 'CLIENT KILL TYPE pubsub');
    await until(() => events.some((e) => e.event === 'resynced'), 5_000, 'the resync');
    expect(a.guard.cacheStats().entries).toBe(0);
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);
    // No more probes once it is back: the publishes stop.
    const publishes = counted.publishes;
    await sleep(1_000);
    expect(counted.publishes).toBe(publishes);
    expect(await a.status(alice)).toBe(200);
  });

  // About 5 s of probes, then a set-up: the wait allows for a loss seen again meanwhile (a second round).
  it('probes published that never come back: at most MAX_UNANSWERED_PROBES, then a fresh subscription and a resync', { timeout: 40_000 }, async () => {
    let deaf = false;
    const counted = countingPublishes(await open.client(redis().url), () => deaf);
    const a = await startInstance(sharedOptions(emulator(), counted.client, { redisPrefix: freshPrefix(), redisHeartbeat: false }));
    instances.push(a);
    await subscribed(a.guard);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);

    deaf = true;
    const before = counted.publishes;
    await ask(redis().port, 'CLIENT KILL TYPE pubsub');
    await until(() => events.some((e) => e.event === 'resynced'), 30_000, 'the resync');
    expect(counted.publishes - before).toBeLessThanOrEqual(MAX_UNANSWERED_PROBES);
    expect(a.guard.cacheStats().entries).toBe(0);
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);
    const publishes = counted.publishes;
    await sleep(1_000);
    expect(counted.publishes).toBe(publishes);
  });
});
