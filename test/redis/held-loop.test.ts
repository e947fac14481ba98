// A Redis call answered while the process was busy (a GC pause, a long synchronous task) is answered,
// not timed out: after the event loop is held past a call's deadline, Node runs the overdue deadline
// timer before it reads the socket where Redis's answer waits, and the call "timed out" although its
// answer had come in time: a failure counted, an `unavailable (timeout)` event and warning, and the
// once-a-minute warning spent on nothing. Real parts: an Express instance, a node-redis client, one
// redis-server; the hold is a busy loop started just after the GET is on the wire.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import type { RedisTierClient } from '../../src/index.js';
import { useEmulator } from '../fixtures.js';
import { aliceAndBobReading, clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, wrappedClient, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/held-loop.test.ts');

describe.skipIf(!run)('a Redis call answered while the event loop was held', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let events: RedisTierEvent[] = [];
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);

  beforeEach(() => {
    events = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await closeInstances(instances);
    open.closeAll();
  });

  it('a GET whose answer came while the loop was held past redisTimeout is no timeout', async () => {
    const { alice } = await aliceAndBobReading(emulator());
    let armed = false;
    let holds = 0;
    const holding = (client: RedisTierClient) => {
      const held = wrappedClient(client, {});
      const get = held.get;
      held.get = (key) => {
        const answer = get(key);
        if (armed && holds++ === 0) {
          // Queued after node-redis's write (a setImmediate too): the GET is on the wire, and the loop
          // is held past its deadline while Redis answers; the next phase Node runs is the timers'.
          setImmediate(() => {
            const end = performance.now() + 1500;
            while (performance.now() < end);
          });
        }
        return answer;
      };
      return held;
    };
    const options = sharedOptions(emulator(), holding(await open.client(redis().url)), { redisPrefix: freshPrefix(), redisTimeout: 1000, redisHeartbeat: false });
    const a = await keepSubscribed(instances, await startInstance(options));
    armed = true;
    expect(await a.status(alice)).toBe(200);
    expect(holds).toBeGreaterThan(0);
    expect(a.guard.cacheStats().redis).toMatchObject({ failures: 0, misses: 1, writes: 1 });
    expect(events.filter((event) => event.event === 'unavailable')).toEqual([]);
  });
});
