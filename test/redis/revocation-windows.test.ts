// Fail-open windows of the multi-instance path, each a sequence in which a revocation made on one
// instance while another could not hear it must still stop that other instance once it is back.
// Two real instances (Express apps, each its own guard and node-redis client) on one redis-server, the
// emulator as GenAuth. Instance A's client logs in as an ACL user of its own: with that user off and
// A's subscriber killed, A is deaf, and stays so, while B revokes; on again, A resyncs.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisTierEvent } from '../../src/events.js';
import type { RedisTierClient } from '../../src/index.js';
import { bearerFor, resetEmulator, useEmulator } from '../fixtures.js';
import { clients, freshPrefix, sharedOptions, startInstance, subscribed, until, wrappedClient, type Instance } from './harness.js';
import { ask, redisTestsRun, startRedisServer, useRedisServer, type RedisServer } from './server.js';

const run = redisTestsRun('test/redis/revocation-windows.test.ts');

const USER = 'guard-a-windows';
const PASSWORD = 'guard-a-windows-password-0123';

/**
 * The same real client, whose GET of a revocation record is answered by Redis at once but handed to
 * the guard only when the test says (`release`): how a test makes a record read whose answer Redis gave
 * before a revocation reach the guard after it (a slow network path, a busy event loop).
 */
function heldRecordReads(client: RedisTierClient) {
  let hold = false;
  let answered = 0;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const wrapped = wrappedClient(client, {});
  return {
    client: {
      ...wrapped,
      get isReady() {
        return client.isReady;
      },
      duplicate: () => wrapped.duplicate(),
      get: async (key: string) => {
        const held = hold && key.endsWith(':revoked');
        const value = await client.get(key);
        if (held) {
          answered++;
          await gate;
        }
        return value;
      },
    } satisfies RedisTierClient,
    /** From now on, record reads are held once answered. */
    holdReads() {
      hold = true;
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    /** Resolves once a held read was answered by Redis. */
    answered: () => until(() => answered > 0, 5000, 'a record read answered by Redis'),
    release() {
      hold = false;
      release();
    },
  };
}

describe.skipIf(!run)('a revocation an instance could not hear', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let kept: Instance[] = [];
  let prefix = '';
  let alice = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    const e = emulator();
    resetEmulator(e);
    e.unblockUser('alice');
    e.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    alice = await bearerFor(e, 'alice');
    expect(await ask(redis().port, `ACL SETUSER ${USER} reset on >${PASSWORD} ~* &* +@all`)).toMatch(/^\+OK/);
  });
  afterEach(async () => {
    await Promise.all(kept.splice(0).map((instance) => instance.close()));
    open.closeAll();
    await ask(redis().port, `ACL DELUSER ${USER}`);
  });

  async function started(options: Parameters<typeof startInstance>[0]): Promise<Instance> {
    const instance = await startInstance(options);
    kept.push(instance);
    await subscribed(instance.guard);
    return instance;
  }

  /** A's subscriber killed, and kept from coming back (its ACL user off; its other connection stays logged in). */
  async function deafen(a: Instance): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} off`)).toMatch(/^\+OK/);
    expect(await ask(redis().port, `CLIENT KILL TYPE pubsub USER ${USER}`)).toMatch(/^:1/);
    await until(() => a.guard.cacheStats().redis?.subscribed === false, 5000, "A's subscription down");
  }

  /** A's user on again: its subscriber reconnects, and A resyncs. */
  async function hearAgain(a: Instance): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} on`)).toMatch(/^\+OK/);
    await subscribed(a.guard);
  }

  it('a token whose record read Redis answered before the revocation, and the guard got after the resync, is not trusted after it', async () => {
    const held = heldRecordReads(await open.client(`redis://${USER}:${PASSWORD}@127.0.0.1:${redis().port}`));
    // A long deadline: the held read must not time out (that would be the documented unanswered read).
    const a = await started(sharedOptions(emulator(), held.client, { redisPrefix: prefix, redisTimeout: 10_000 }));
    const b = await started(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix }));

    // A sees alice's token for the first time: it reads her record (none yet); Redis answers at once.
    held.holdReads();
    const first = a.answer(alice);
    await held.answered();

    // Meanwhile A goes deaf, B revokes alice (A misses the message), and A hears again: its resync
    // promises that nothing revoked meanwhile stays allowed.
    await deafen(a);
    await b.guard.revokeUser('alice');
    await hearAgain(a);

    // Only now does A get the answer Redis gave before the revocation.
    held.release();
    expect(await first).toEqual({ status: 401, detail: 'The token has been revoked' });
    // And the token is not kept as verified on that answer: every later request is refused too.
    expect(await a.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
    expect(await b.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
  });

  it('a token first verified, and its grants cached, while the subscription was down, and revoked meanwhile, is refused once it is back', async () => {
    const a = await started(sharedOptions(emulator(), await open.client(`redis://${USER}:${PASSWORD}@127.0.0.1:${redis().port}`), { redisPrefix: prefix }));
    const b = await started(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix }));

    // Deaf from here on: alice's token is verified (her record read: none yet) and her grants cached.
    await deafen(a);
    expect(await a.answer(alice)).toEqual({ status: 200, detail: undefined });
    await b.guard.revokeUser('alice');
    // Within the bound (cache.ttl), still deaf: the cached path decides on the local copy (the documented window).
    expect(await a.answer(alice)).toEqual({ status: 200, detail: undefined });

    // Back: the resync drops the verified token and the grants, so the record is read again.
    await hearAgain(a);
    expect(await a.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
  });
});

describe.skipIf(!run)('a Redis restarted empty', () => {
  const emulator = useEmulator();
  const open = clients();
  let server: RedisServer;
  let kept: Instance[] = [];
  let prefix = '';
  let alice = '';
  let events: RedisTierEvent[] = [];
  const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);

  beforeEach(async () => {
    prefix = freshPrefix();
    server = await startRedisServer();
    const e = emulator();
    resetEmulator(e);
    e.unblockUser('alice');
    e.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    alice = await bearerFor(e, 'alice');
    events = [];
    diagnostics.subscribe('genauth-guard:redis', onEvent);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    await Promise.all(kept.splice(0).map((instance) => instance.close()));
    open.closeAll();
    await server.stop();
  });

  async function instance(): Promise<Instance> {
    const started = await startInstance(sharedOptions(emulator(), await open.client(server.url), { redisPrefix: prefix }));
    kept.push(started);
    await subscribed(started.guard);
    return started;
  }

  it('the instances that hold a revocation record it again: an instance started after the restart refuses the token too', async () => {
    const [a, b] = [await instance(), await instance()];
    expect(await a.answer(alice)).toEqual({ status: 200, detail: undefined });
    await b.guard.revokeUser('alice');
    await until(async () => (await a.answer(alice)).status === 401, 5000, 'A refusing alice');

    // Persistence off: the restart loses every key, the revocation record among them.
    await server.kill();
    await server.start();
    await until(() => events.filter((event) => event.event === 'resynced').length === 2, 10_000, 'both instances resynced');
    await until(async () => (await ask(server.port, `KEYS ${prefix}*:revoked`)).startsWith('*1'), 5000, 'the record restored in Redis');

    // C never heard of the revocation: it reads the record, which the restart would have lost.
    const c = await instance();
    expect(await c.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
    expect(await a.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
    expect(await b.answer(alice)).toEqual({ status: 401, detail: 'The token has been revoked' });
  });
});
