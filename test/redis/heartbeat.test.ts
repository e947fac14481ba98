// A subscriber connection that dies silently: a NAT, firewall or load balancer drops the flow, or the
// peer vanishes without FIN or RST. The client raises no event (no `error`, no `reconnecting`, no
// end), so nothing said the subscription was down: the instance stopped hearing invalidations while
// believing it was subscribed, and a user revoked on another instance stayed allowed on it until
// its cached grants expired (cache.ttl), whatever cache.redisMaxUnsubscribed said. The heartbeat
// (cache.redisHeartbeat): each instance publishes a probe to itself every interval and expects to
// hear it back before the next; when it does not, its subscription is down, as for a known outage.
// Real parts: two Express instances, node-redis clients, one redis-server; instance A reaches Redis
// through a loopback TCP hop that can go silent on its subscriber connection only.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import type { RedisTierClient } from '../../src/index.js';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { aliceAndBobReading, clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, sleep, startInstance, until, wrappedClient, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';
import { startStallingProxy, type StallingProxy } from './stalling-proxy.js';

const run = redisTestsRun('test/redis/heartbeat.test.ts');

const GRANTS_PATH = RESOURCES;

describe.skipIf(!run)('the heartbeat: a subscriber connection that goes silent', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let proxy: StallingProxy | undefined;
  let prefix = '';
  let alice = '';
  let bob = '';
  let events: RedisTierEvent[] = [];
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);

  beforeEach(async () => {
    prefix = freshPrefix();
    ({ alice, bob } = await aliceAndBobReading(emulator()));
    events = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await closeInstances(instances);
    open.closeAll();
    await proxy?.close();
    proxy = undefined;
  });

  /** Instance A, its client (and the subscriber it duplicates) through the hop; grants fresh for a minute. */
  async function instanceA(cache: Record<string, unknown> = {}, warnings: string[] = []): Promise<Instance> {
    proxy = await startStallingProxy(redis().port);
    const client = await open.client(`redis://127.0.0.1:${proxy.port}`);
    const logger = { warn: (message: string) => void warnings.push(message) };
    const options = sharedOptions(emulator(), client, { redisPrefix: prefix, ttl: 60_000, redisMaxUnsubscribed: 300, ...cache }, { logger });
    return keepSubscribed(instances, await startInstance(options));
  }

  async function instanceB(): Promise<Instance> {
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix })));
  }

  it('a user revoked on another instance is refused once the silence is noticed (it stayed allowed until cache.ttl)', async () => {
    const warnings: string[] = [];
    // A Redis deadline generous for a loaded machine: a call of A's timing out before the silence would
    // be an outage of its own, and the warning (and event) said for it would stand for this one too.
    const a = await instanceA({ redisTimeout: 1000, redisHeartbeat: 1500 }, warnings);
    const b = await instanceB();
    expect(await a.status(alice)).toBe(200);

    // A's subscriber goes silent: no event on A's client, its connection still open.
    expect(proxy?.stallSubscribers()).toBe(1);
    await b.guard.revokeUser('alice');
    // Generous: the heartbeat notices within two intervals, the bound then drops the cache (or the
    // fresh subscription resyncs it); either way alice's next request reads her record.
    await until(async () => (await a.answer(alice)).status === 401, 15_000, 'alice refused on A');
    expect(await a.answer(alice)).toMatchObject({ status: 401, detail: 'The token has been revoked' });
    // The operator heard of it once, as of any loss of the subscription.
    expect(events.some((event) => event.event === 'unavailable' && event.reason === 'subscription')).toBe(true);
    expect(warnings.filter((line) => line.includes('shared Redis tier is unavailable (subscription)'))).toHaveLength(1);
  });

  // About 7 s unloaded: the loss noticed, then 5 s of probes (MAX_UNANSWERED_PROBES), then a set-up.
  it('heard again: the silent connection is replaced, the instance resyncs and hears invalidations again', { timeout: 40_000 }, async () => {
    const a = await instanceA({ redisTimeout: 200, redisHeartbeat: 400 });
    const b = await instanceB();
    expect(await a.status(bob)).toBe(200);

    expect(proxy?.stallSubscribers()).toBe(1);
    await until(() => events.some((event) => event.event === 'resynced'), 30_000, "A's resync on a fresh subscription");
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);
    expect(await a.status(bob)).toBe(200);

    // An invalidation published on B now reaches A (grants fresh for a minute: only the message can tell A).
    emulator().setGrants('bob', []);
    await b.guard.invalidateUser('bob');
    await until(async () => (await a.status(bob)) === 403, 5_000, "B's invalidation heard on A");
  });

  it('a fresh subscription whose SUBSCRIBE is never answered is set up again (the instance stayed unsubscribed for good)', { timeout: 40_000 }, async () => {
    const a = await instanceA({ redisTimeout: 200, redisHeartbeat: 400 });
    const b = await instanceB();
    expect(await a.status(bob)).toBe(200);

    // The subscriber goes silent, and so does the first fresh connection, just after its handshake.
    proxy?.stallNextSubscribe();
    expect(proxy?.stallSubscribers()).toBe(1);
    await until(() => events.some((event) => event.event === 'resynced'), 30_000, "A's resync on a second fresh subscription");
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);

    emulator().setGrants('bob', []);
    await b.guard.invalidateUser('bob');
    await until(async () => (await a.status(bob)) === 403, 5_000, "B's invalidation heard on A");
  });

  it("other instances' heartbeats are no invalidation: cached grants stay cached", async () => {
    // Each instance's heartbeats as sent (`sent`), and those of the other it heard (`heard`): the test
    // waits for heartbeats heard, not for a time. Deadlines generous for a loaded machine: a beat not
    // heard within the interval is a loss (and a resync), which is the heartbeat's job, not this test's.
    const sent: [Set<string>, Set<string>] = [new Set(), new Set()];
    const heard: [number, number] = [0, 0];
    const counting = (client: RedisTierClient, own: 0 | 1) =>
      wrappedClient(client, {
        published: (message) => void sent[own].add(message),
        deliver: (handOver, message) => {
          if (sent[own === 0 ? 1 : 0].has(message)) heard[own]++;
          handOver();
        },
      });
    const cache = { redisPrefix: prefix, ttl: 60_000, redisTimeout: 1000, redisHeartbeat: 1200 };
    const a = await keepSubscribed(instances, await startInstance(sharedOptions(emulator(), counting(await open.client(redis().url), 0), cache)));
    await keepSubscribed(instances, await startInstance(sharedOptions(emulator(), counting(await open.client(redis().url), 1), cache)));
    expect(await a.status(alice)).toBe(200);
    const asked = emulator().callCount(GRANTS_PATH);
    const before: [number, number] = [...heard];
    // Three heartbeats of each instance heard by the other.
    await until(() => heard[0] >= before[0] + 3 && heard[1] >= before[1] + 3, 15_000, "three of each other's heartbeats");
    expect(await a.status(alice)).toBe(200);
    expect(emulator().callCount(GRANTS_PATH)).toBe(asked);
    expect(a.guard.cacheStats().entries).toBe(1);
    expect(events.filter((event) => event.event === 'unavailable' || event.event === 'resynced')).toEqual([]);
  });

  it('a process held up past an interval (a GC pause, a long synchronous task) is no loss when the heartbeat came back meanwhile', async () => {
    // The heartbeat's echo arrives while the event loop is held; when it is free again, Node runs the
    // overdue tick before it reads the socket, and the tick took the unread echo for a lost one.
    let armed = false;
    let publishes = 0;
    let heldAt = 0;
    const holding = (client: RedisTierClient) => {
      const held = wrappedClient(client, {});
      const publish = held.publish;
      held.publish = (channel, message) => {
        const sent = publish(channel, message);
        publishes++;
        if (armed && heldAt === 0) {
          heldAt = publishes;
          // Queued after node-redis's write (a setImmediate too): the beat is on the wire, and the loop
          // is held past the next tick while Redis echoes it; the next phase Node runs is the timers'.
          setImmediate(() => {
            const end = performance.now() + 1500;
            while (performance.now() < end);
          });
        }
        return sent;
      };
      return held;
    };
    // Deadlines generous for a loaded machine; the hold longer than the interval.
    const options = sharedOptions(emulator(), holding(await open.client(redis().url)), { redisPrefix: prefix, ttl: 60_000, redisTimeout: 1000, redisHeartbeat: 1200 });
    const a = await keepSubscribed(instances, await startInstance(options));
    expect(await a.status(alice)).toBe(200);
    const asked = emulator().callCount(GRANTS_PATH);
    armed = true;
    // Two more publishes after the held one: the tick after the hold has run (a beat, or probes after a loss).
    await until(() => heldAt > 0 && publishes >= heldAt + 2, 10_000, 'two publishes after the hold');
    expect(events.filter((event) => event.event === 'unavailable' || event.event === 'resynced')).toEqual([]);
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);
    expect(await a.status(alice)).toBe(200);
    expect(emulator().callCount(GRANTS_PATH)).toBe(asked);
  });

  it('heartbeats are published while subscribed, none with redisHeartbeat: false, and none after guard.close()', async () => {
    let publishes = 0;
    const counting = (client: RedisTierClient) => wrappedClient(client, { published: () => void publishes++ });
    const beating = await keepSubscribed(instances, await startInstance(sharedOptions(emulator(), counting(await open.client(redis().url)), { redisPrefix: prefix, redisTimeout: 200, redisHeartbeat: 250 })));
    await until(() => publishes >= 3, 5_000, 'heartbeats');
    instances.splice(instances.indexOf(beating), 1);
    await beating.close();
    const atClose = publishes;
    await sleep(1000);
    expect(publishes).toBe(atClose);

    publishes = 0;
    await keepSubscribed(instances, await startInstance(sharedOptions(emulator(), counting(await open.client(redis().url)), { redisPrefix: prefix, redisHeartbeat: false })));
    await sleep(1000);
    expect(publishes).toBe(0);
  });
});
