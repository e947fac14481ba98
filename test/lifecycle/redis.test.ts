// close() with the shared Redis tier, on a real redis-server: while Redis is down (the subscription
// lost), when it was never reachable, and while a request waits on a paused Redis. close() resolves,
// the guard opens no connection afterwards (Redis back or not), a request in flight gets an answer,
// and a closed instance still records what its webhook route receives, so the others hear it. A
// revocation whose Redis steps are pending at close() is recorded and published when Redis answers (its
// promise resolves), or its promise rejects with RedisTierError; one nobody awaits is no unhandled rejection.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { GuardNotReadyError } from '../../src/core/readiness.js';
import { bearerFor, resetToAliceReading, sleep, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, sharedOptions, startInstance, subscribed, until, type Instance } from '../redis/harness.js';
import { ask, freePort, redisTestsRun, startRedisServer, type RedisServer } from '../redis/server.js';

const run = redisTestsRun('test/lifecycle/redis.test.ts');

/** Connections redis-server has open besides the one asking. */
async function connections(port: number): Promise<number> {
  const list = await ask(port, 'CLIENT LIST');
  return list.split('\n').filter((line) => line.includes('id=')).length - 1;
}

/** How long a client that is still trying would take, at most, to be back (node-redis backs off up to 2 s). */
const RECONNECT_WINDOW_MS = 3000;

/** Closes the instance's guard (its server stays up for afterEach): the guard, not the app, is what is tested. */
const closeGuard = (instance: Instance): Promise<void> => instance.guard.close();

describe.skipIf(!run)('close() and the shared Redis tier', () => {
  const emulator = useEmulator();
  const open = clients();
  let servers: RedisServer[] = [];
  const instances: Instance[] = [];

  beforeEach(() => resetToAliceReading(emulator()));
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
    await Promise.all(servers.map((server) => server.stop()));
    servers = [];
  });

  async function server(): Promise<RedisServer> {
    const started = await startRedisServer();
    servers.push(started);
    return started;
  }

  it('closed while Redis is down: close() resolves, and once Redis is back the guard connects no more', async () => {
    const redis = await server();
    const client = await open.client(redis.url);
    const guard = createExpressGuard(sharedOptions(emulator(), client, { redisPrefix: freshPrefix() }));
    await subscribed(guard);
    expect(await connections(redis.port)).toBe(2); // the client and the guard's subscription
    await redis.kill();
    await until(() => guard.cacheStats().redis?.subscribed === false, 5000, 'the loss seen');
    await guard.close();
    open.closeAll(); // the app's own client, after the guard
    await redis.start();
    await sleep(RECONNECT_WINDOW_MS);
    expect(await connections(redis.port)).toBe(0);
  });

  it('Redis never reachable: close() resolves, ready() says closed, and a Redis started later sees no connection', async () => {
    const port = await freePort();
    const client = open.unconnected(`redis://127.0.0.1:${port}`);
    void client.connect().catch(() => {});
    const guard = createExpressGuard(sharedOptions(emulator(), client, { redisPrefix: freshPrefix() }));
    await sleep(300); // the subscription is trying by now
    await guard.close();
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GuardNotReadyError);
    expect((error as GuardNotReadyError).reasons.map((reason) => reason.kind)).toEqual(['closed']);
    open.closeAll();
    const late = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await until(async () => (await ask(port, 'PING', 200).catch(() => '')).startsWith('+PONG'), 10_000, 'redis-server on the port');
      await sleep(RECONNECT_WINDOW_MS);
      expect(await connections(port)).toBe(0);
    } finally {
      late.kill('SIGKILL');
    }
  });

  it('a request waiting on a paused Redis when the guard closes gets an answer (503)', async () => {
    const redis = await server();
    const client = await open.client(redis.url);
    const instance = await startInstance(sharedOptions(emulator(), client, { redisPrefix: freshPrefix(), redisTimeout: 500 }));
    instances.push(instance);
    await subscribed(instance.guard);
    await instance.guard.ready();
    await ask(redis.port, 'CLIENT PAUSE 2000 ALL');
    const answer = instance.status(await bearerFor(emulator(), 'alice'));
    await sleep(100);
    await instance.guard.close();
    expect(await answer).toBe(503);
  });

  it('a revocation whose Redis steps are pending when the guard closes is still recorded and published: the others refuse the token', async () => {
    const redis = await server();
    const prefix = freshPrefix();
    const closing = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: prefix, redisTimeout: 5000 }));
    const other = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: prefix }));
    instances.push(closing, other);
    await Promise.all([subscribed(closing.guard), subscribed(other.guard)]);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await other.status(alice)).toBe(200);
    await ask(redis.port, 'CLIENT PAUSE 500 ALL');
    const revoked = closing.guard.revokeUser('alice');
    await closeGuard(closing);
    // The pause ends: the script and the PUBLISH run, and the promise says so.
    await expect(revoked).resolves.toBeUndefined();
    await until(async () => (await other.answer(alice)).status === 401, 5000, 'the other instance refusing the token');
  });

  it('a revocation Redis cannot take in time after the guard closed rejects with RedisTierError, and one not awaited is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const recordUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', recordUnhandled);
    try {
      const redis = await server();
      const closing = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: freshPrefix(), redisTimeout: 200 }));
      instances.push(closing);
      await subscribed(closing.guard);
      await ask(redis.port, 'CLIENT PAUSE 1500 ALL');
      const awaited = closing.guard.revokeUser('alice');
      void closing.guard.revokeUser('bob'); // not awaited
      await closeGuard(closing);
      await expect(awaited).rejects.toMatchObject({ name: 'RedisTierError' });
      await sleep(100); // a turn for Node to report an unhandled rejection, if any
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', recordUnhandled);
    }
  });

  it('a closed instance still records the revocation its webhook route receives: the others refuse the token', async () => {
    const redis = await server();
    const prefix = freshPrefix();
    const secret = 'a-webhook-secret-of-enough-length';
    const closing = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: prefix }), secret);
    const other = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: prefix }));
    instances.push(closing, other);
    await Promise.all([subscribed(closing.guard), subscribed(other.guard)]);
    const alice = await bearerFor(emulator(), 'alice');
    expect(await other.status(alice)).toBe(200);
    await closing.guard.close();
    const remove = emulator().addWebhook({ url: `${closing.url}/hooks/genauth`, secret, events: ['user:blocked'] });
    try {
      emulator().blockUser('alice');
      await emulator().webhooksSettled();
      expect(emulator().webhookDeliveries.at(-1)).toMatchObject({ eventName: 'user:blocked', status: 204 });
      await until(async () => (await other.answer(alice)).status === 401, 5000, 'the other instance refusing the token');
      expect(await closing.status(alice)).toBe(503); // closed: not judged
    } finally {
      remove();
      emulator().unblockUser('alice');
    }
  });
});
