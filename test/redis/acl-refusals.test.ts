// A Redis ACL user that lacks a command the tier needs (PUBLISH, SUBSCRIBE on its channel, EVAL, GET):
// Redis answers NOPERM, a set-up problem, not an outage. The instance must say so once (a
// `redis_permission` set-up problem naming the command and `cache.redis`; `ready()` rejects with it),
// must not churn (a heartbeat it may not publish used to drop the subscription, set it up again on a
// fresh connection and drop every local grant and verified token, each interval), and stays fail-closed:
// a subscription it cannot prove is down, under the rules of a lost one (the `redisMaxUnsubscribed` bound).
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import { GuardNotReadyError } from '../../src/index.js';
import { bearerFor, resetToAliceReading, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, sharedOptions, sleep, startInstance, subscribed, until, wrappedClient, type Instance } from './harness.js';
import { ask, redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/acl-refusals.test.ts');

/** Connections Redis has accepted since it started (INFO stats), the one that asks included. */
async function connectionsReceived(port: number): Promise<number> {
  const info = await ask(port, 'INFO stats');
  return Number(/total_connections_received:(\d+)/.exec(info)?.[1]);
}

/** Connections accepted since `before` was counted, not counting the one that asks now. */
async function connectionsSince(port: number, before: number): Promise<number> {
  return (await connectionsReceived(port)) - before - 1;
}

/** The reasons `ready()` rejects with (none when it resolves). */
async function readinessReasons(guard: { ready(): Promise<void> }): Promise<ReadonlyArray<{ kind: string; option: string; cause: string }>> {
  try {
    await guard.ready();
    return [];
  } catch (error) {
    if (!(error instanceof GuardNotReadyError)) throw error;
    return error.reasons;
  }
}

describe.skipIf(!run)('a Redis user the ACL refuses a command the tier needs', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let events: RedisTierEvent[] = [];
  let warnings: string[] = [];
  const logger = { warn: (line: string) => void warnings.push(line) };
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);
  let users = 0;

  /** A client of a fresh ACL user with `rules` (on top of a password). */
  async function userClient(rules: string) {
    const name = `acl${++users}`;
    expect(await ask(redis().port, `ACL SETUSER ${name} on >${name}-pw ${rules}`)).toMatch(/^\+OK/);
    return { name, client: await open.client(`redis://${name}:${name}-pw@127.0.0.1:${redis().port}`) };
  }

  const permissionProblems = (reasons: ReadonlyArray<{ kind: string; option: string; cause: string }>) => reasons.filter((r) => r.kind === 'redis_permission');
  const setupLines = () => warnings.filter((line) => line.includes('set-up problem'));
  /**
   * Every other warning: none is due for a refusal by the ACL. The "tier unavailable ... (the client
   * reconnects by itself)" line would send the operator waiting on a reconnect that cures nothing.
   */
  const otherLines = () => warnings.filter((line) => !line.includes('set-up problem'));

  beforeEach(() => {
    resetToAliceReading(emulator());
    events = [];
    warnings = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await closeInstances(instances);
    open.closeAll();
  });

  it('no PUBLISH: the heartbeat refused is one set-up problem, the subscription stays down without churn, and it comes back once the ACL allows it', { timeout: 60_000 }, async () => {
    const { name, client } = await userClient('~* &* +@all -publish');
    let publishes = 0;
    const counting = wrappedClient(client, { published: () => void publishes++ });
    // A Redis deadline fit for a loaded machine: a PUBLISH refusal answered late would read as a
    // timeout, which rightly sets the subscription up again (a new connection this test forbids).
    const a = await startInstance(sharedOptions(emulator(), counting, { redisPrefix: freshPrefix(), redisTimeout: 1000, redisHeartbeat: 1200 }, { logger }));
    instances.push(a);
    await subscribed(a.guard);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);

    const connections = await connectionsReceived(redis().port);
    // Three PUBLISHes refused (the heartbeat's, then the probes' on their backoff): before the fix, each
    // second or third heartbeat dropped the subscription, set it up again on a fresh connection and resynced.
    const published = publishes;
    await until(() => publishes >= published + 3, 20_000, 'three refused PUBLISHes');
    expect(events.filter((e) => e.event === 'resynced')).toEqual([]);
    expect(await connectionsSince(redis().port, connections)).toBe(0);
    // Fail closed: a subscription it cannot prove is down (its bound and 503s apply).
    expect(a.guard.cacheStats().redis?.subscribed).toBe(false);
    expect(setupLines()).toHaveLength(1);
    expect(otherLines()).toEqual([]);
    const problems = permissionProblems(await readinessReasons(a.guard));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.option).toBe('cache.redis');
    expect(problems[0]?.cause).toContain('PUBLISH');

    // The ACL fixed: the next probe is published and heard, and the instance resyncs once.
    expect(await ask(redis().port, `ACL SETUSER ${name} +publish`)).toMatch(/^\+OK/);
    await until(() => events.some((e) => e.event === 'resynced'), 20_000, 'the resync');
    await subscribed(a.guard);
    expect(await readinessReasons(a.guard)).toEqual([]);
    expect(await a.status(alice)).toBe(200);
  });

  it('no PUBLISH and no GET: past redisMaxUnsubscribed a request whose revocation record cannot be read is a 503, never an allow', { timeout: 30_000 }, async () => {
    const { client } = await userClient('~* &* +@all -publish -get');
    const a = await startInstance(
      sharedOptions(emulator(), client, { redisPrefix: freshPrefix(), redisTimeout: 200, redisHeartbeat: 300, redisMaxUnsubscribed: 500 }, { logger }),
    );
    instances.push(a);
    await subscribed(a.guard);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);
    await until(async () => (await a.status(alice)) === 503, 10_000, 'the 503 past the bound');
    expect(a.guard.cacheStats().redis?.subscribed).toBe(false);
    const problems = permissionProblems(await readinessReasons(a.guard));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.cause).toContain('GET');
    expect(problems[0]?.cause).toContain('PUBLISH');
  });

  it('no access to channels (resetchannels): ready() names PUBLISH and SUBSCRIBE, and set-ups are retried slowly', { timeout: 30_000 }, async () => {
    const { client } = await userClient('~* resetchannels +@all');
    const before = await connectionsReceived(redis().port);
    const a = await startInstance(sharedOptions(emulator(), client, { redisPrefix: freshPrefix(), redisTimeout: 200, redisHeartbeat: 300 }, { logger }));
    instances.push(a);
    await until(() => setupLines().length > 0, 5_000, 'the set-up problem');
    await sleep(4_000);
    // A set-up the ACL refuses is retried on a backoff of its own, not every few hundred ms.
    expect(await connectionsSince(redis().port, before)).toBeLessThanOrEqual(3);
    expect(a.guard.cacheStats().redis?.subscribed).toBe(false);
    expect(otherLines()).toEqual([]);
    const problems = permissionProblems(await readinessReasons(a.guard));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.cause).toContain('PUBLISH');
    expect(problems[0]?.cause).toContain('SUBSCRIBE');
  });

  it('no EVAL: ready() names it; a request is answered from GenAuth, and the refusal is told as the set-up problem only', async () => {
    const { client } = await userClient('~* &* +@all -eval');
    const a = await startInstance(sharedOptions(emulator(), client, { redisPrefix: freshPrefix() }, { logger }));
    instances.push(a);
    await subscribed(a.guard);
    // The tier's read (EVAL) refused: the request goes on to GenAuth, and observers still see the tier unusable.
    expect(await a.status(await bearerFor(emulator(), 'alice'))).toBe(200);
    expect(events).toContainEqual({ event: 'unavailable', reason: 'denied' });
    expect(setupLines()).toHaveLength(1);
    expect(otherLines()).toEqual([]);
    const problems = permissionProblems(await readinessReasons(a.guard));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.option).toBe('cache.redis');
    expect(problems[0]?.cause).toContain('EVAL');
  });

  it('the least the docs grant (docs/many-instances.md): ready() resolves, grants are shared, the heartbeat is heard', { timeout: 30_000 }, async () => {
    const prefix = freshPrefix();
    const { client } = await userClient(`resetkeys ~${prefix}* resetchannels &${prefix}* -@all +get +eval +publish +subscribe +set +del +pexpire +type +strlen`);
    // The instance's own messages as sent, and how many of them it heard back: the test waits for
    // heartbeats heard, not for a time. Deadlines fit for a loaded machine (a beat unheard within the
    // interval is a drop, which is the heartbeat's job, not what this test is about).
    const sent = new Set<string>();
    let heard = 0;
    const counting = wrappedClient(client, {
      published: (message) => void sent.add(message),
      deliver: (handOver, message) => {
        if (sent.has(message)) heard++;
        handOver();
      },
    });
    const a = await startInstance(sharedOptions(emulator(), counting, { redisPrefix: prefix, redisTimeout: 1000, redisHeartbeat: 1200 }, { logger }));
    instances.push(a);
    await subscribed(a.guard);
    expect(await readinessReasons(a.guard)).toEqual([]);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);
    expect(a.guard.cacheStats().redis?.writes).toBe(1);
    // Several heartbeats, each heard: no drop, no resync, no problem.
    const before = heard;
    await until(() => heard >= before + 3, 15_000, 'three heartbeats heard');
    expect(events.filter((e) => e.event === 'resynced' || e.event === 'unavailable')).toEqual([]);
    expect(a.guard.cacheStats().redis?.subscribed).toBe(true);
    expect(setupLines()).toEqual([]);
  });
});
