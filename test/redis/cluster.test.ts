// The node-redis Cluster client (createCluster) against a real three-node Redis Cluster
// (redis-server --cluster-enabled yes, joined by redis-cli --cluster create): the shared tier reads
// and writes across slots (a user's keys share one slot, so each script is atomic), and
// invalidations reach every instance.
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, until, withLateMessages, type Instance } from './harness.js';
import { ask, redisTestsRun, startRedisCluster, type RedisCluster } from './server.js';
import { startSlowAnswers, type SlowAnswers } from './slow-answers.js';

const run = redisTestsRun('test/redis/cluster.test.ts');

describe.skipIf(!run)('a three-node Redis Cluster', () => {
  const emulator = useEmulator();
  const open = clients();
  let cluster: RedisCluster;
  const instances: Instance[] = [];
  let prefix = '';
  let hop: SlowAnswers | undefined;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(() => {
    prefix = freshPrefix();
    const e = emulator();
    resetEmulator(e);
    for (const user of users) e.setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  });
  afterEach(async () => {
    await closeInstances(instances);
    await hop?.close();
    hop = undefined;
    open.closeAll();
  });

  async function instance(options: { lateBy?: () => number; genauthHost?: string } = {}): Promise<Instance> {
    const client = await open.cluster(cluster.nodes.map((node) => node.port));
    const redis = options.lateBy === undefined ? client : withLateMessages(client, options.lateBy);
    const genauth = { ...emulator().guardOptions().genauth, ...(options.genauthHost !== undefined && { host: options.genauthHost }) };
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), redis, { redisPrefix: prefix }, { genauth })));
  }

  it('reads and writes the tier: users spread over the nodes, each loaded from GenAuth once for both instances', async () => {
    const [a, b] = [await instance(), await instance()];
    const tokens = await Promise.all(users.map((user) => bearerFor(emulator(), user)));
    for (const token of tokens) expect(await a.status(token)).toBe(200);
    for (const token of tokens) expect(await b.status(token)).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(users.length);
    expect(b.guard.cacheStats().redis).toMatchObject({ hits: users.length, failures: 0 });
    // The entries did land on more than one node.
    const perNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const one = await open.client(`redis://127.0.0.1:${node.port}`);
        return (await one.keys(`${prefix}*:grants`)).length;
      }),
    );
    expect(perNode.reduce((sum, count) => sum + count, 0)).toBe(users.length);
    expect(perNode.filter((count) => count > 0).length).toBeGreaterThan(1);
  });

  it.each(['invalidateUser', 'invalidateAll'] as const)('%s on one instance reaches the others', async (how) => {
    const group = [await instance(), await instance(), await instance()];
    const alice = await bearerFor(emulator(), 'alice');
    for (const one of group) expect(await one.status(alice)).toBe(200);
    emulator().setGrants('alice', []);
    const first = group[0]!;
    await (how === 'invalidateUser' ? first.guard.invalidateUser('alice') : first.guard.invalidateAll());
    for (const one of group) await until(async () => (await one.status(alice)) === 403, 2000, `${one.url} denying`);
  });

  it('a load answered before the revocation, ending before its instance hears of it, is not written back', async () => {
    let slow = 1;
    hop = await startSlowAnswers(emulator().url, (path) => (path === RESOURCES && slow > 0 ? (slow--, 300) : 0));
    const a = await instance();
    const b = await instance({ lateBy: () => 1000, genauthHost: hop.url });
    const alice = await bearerFor(emulator(), 'alice');
    const waiting = b.status(alice);
    await until(() => hop!.pending === 1, 5000, 'the held answer');
    emulator().setGrants('alice', []);
    await a.guard.invalidateUser('alice');
    expect(await waiting).toBe(403);
    expect(await (await instance()).status(alice)).toBe(403);
  });

  it('the subscription dropped on its node: the instance drops its local grants when it is back', async () => {
    const a = await instance();
    const alice = await bearerFor(emulator(), 'alice');
    expect(await a.status(alice)).toBe(200);
    expect(a.guard.cacheStats().entries).toBe(1);
    const resynced: unknown[] = [];
    const onEvent = (event: unknown) => void ((event as { event: string }).event === 'resynced' && resynced.push(event));
    diagnostics.subscribe('genauth-guard:redis', onEvent);
    try {
      for (const node of cluster.nodes) await ask(node.port, 'CLIENT KILL TYPE pubsub');
      await until(() => resynced.length > 0, 10_000, 'the resync');
      expect(a.guard.cacheStats().entries).toBe(0);
      expect(await a.status(alice)).toBe(200);
    } finally {
      diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    }
  });
});
