// How long an instance that cannot hear invalidations keeps deciding on what it knows. While its
// subscription is down, a revocation made on another instance never reaches it as a message; a request
// then reads the user's record from Redis, and when Redis does not give it either, the instance used to
// decide on its local copy for as long as the outage lasted: a revoked user allowed with no bound. The
// bound is `cache.redisMaxUnsubscribed` (by default `cache.ttl`, the window docs/many-instances.md
// states): past it, the instance drops its cached grants and verified tokens, and a request whose
// user's record Redis does not give is a 503, never allowed. Two real instances (Express apps, each its
// own guard and node-redis client) on one redis-server; instance A's client logs in as an ACL user of
// its own: with that user off, A's subscriber killed, and GET taken from it, A is deaf and cannot read
// records while B revokes.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { useEmulator } from '../fixtures.js';
import { aliceAndBobReading, clients, freshPrefix, sharedOptions, sleep, startInstance, subscribed, until, type Instance } from './harness.js';
import { ask, redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/unsubscribed-bound.test.ts');

const USER = 'guard-a-bound';
const PASSWORD = 'guard-a-bound-password-0123';

describe.skipIf(!run)('the bound on deciding while the subscription is down', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let kept: Instance[] = [];
  let prefix = '';
  let alice = '';
  let bob = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    ({ alice, bob } = await aliceAndBobReading(emulator()));
    expect(await ask(redis().port, `ACL SETUSER ${USER} reset on >${PASSWORD} ~* &* +@all`)).toMatch(/^\+OK/);
  });
  afterEach(async () => {
    await Promise.all(kept.splice(0).map((instance) => instance.close()));
    open.closeAll();
    await ask(redis().port, `ACL DELUSER ${USER}`);
  });

  async function instanceA(cache: Record<string, unknown>): Promise<Instance> {
    const client = await open.client(`redis://${USER}:${PASSWORD}@127.0.0.1:${redis().port}`);
    const a = await startInstance(sharedOptions(emulator(), client, { redisPrefix: prefix, ...cache }));
    kept.push(a);
    await subscribed(a.guard);
    return a;
  }

  async function instanceB(): Promise<Instance> {
    const b = await startInstance(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix }));
    kept.push(b);
    await subscribed(b.guard);
    return b;
  }

  /** A's subscriber killed and kept from coming back (its user off), and A's reads of records refused (no GET). */
  async function deafen(a: Instance): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} off -get`)).toMatch(/^\+OK/);
    expect(await ask(redis().port, `CLIENT KILL TYPE pubsub USER ${USER}`)).toMatch(/^:1/);
    await until(() => a.guard.cacheStats().redis?.subscribed === false, 5000, "A's subscription down");
  }

  /** A's user on again, with GET: its subscriber reconnects and A resyncs. */
  async function hearAgain(a: Instance): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} on +get`)).toMatch(/^\+OK/);
    await subscribed(a.guard);
  }

  it('by default cache.ttl: past it, a user revoked on another instance is no longer allowed (503 while Redis cannot say, 401 once it can)', async () => {
    const a = await instanceA({ ttl: 300 });
    const b = await instanceB();
    expect(await a.status(alice)).toBe(200);
    expect(await a.status(bob)).toBe(200);

    await deafen(a);
    await b.guard.revokeUser('alice');
    // Well past the bound, the outage still on.
    await sleep(1200);
    expect(await a.answer(alice)).toMatchObject({ status: 503 });
    // Not revoked, but A cannot tell: the same 503, never an allow on an unchecked copy.
    expect(await a.status(bob)).toBe(503);

    await hearAgain(a);
    expect(await a.answer(alice)).toMatchObject({ status: 401, detail: 'The token has been revoked' });
    expect(await a.status(bob)).toBe(200);
  });

  it('cache.redisMaxUnsubscribed: grants and tokens still fresh in the cache are dropped at the bound', async () => {
    // Grants fresh for a minute: only the bound keeps the cached path from allowing alice.
    const a = await instanceA({ ttl: 60_000, redisMaxUnsubscribed: 300 });
    const b = await instanceB();
    expect(await a.status(alice)).toBe(200);

    await deafen(a);
    await b.guard.revokeUser('alice');
    await sleep(1200);
    expect(await a.status(alice)).toBe(503);
    // And it stays so while A cannot hear (the grants the 503'd request loaded do not reopen the cached path).
    expect(await a.status(alice)).toBe(503);

    await hearAgain(a);
    expect(await a.answer(alice)).toMatchObject({ status: 401, detail: 'The token has been revoked' });
  });

  it('identity.resolve: a user whose record was read before the outage is refused past the bound too', async () => {
    const client = await open.client(`redis://${USER}:${PASSWORD}@127.0.0.1:${redis().port}`);
    const guard = createExpressGuard({
      genauth: emulator().guardOptions().genauth,
      logger: false,
      identity: { resolve: (req) => (req as express.Request).get('x-session') },
      cache: { redis: client, redisPrefix: prefix, redisTimeout: 1000, ttl: 60_000, redisMaxUnsubscribed: 300 },
    });
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    kept.push({
      guard,
      url: '',
      status: async () => 0,
      answer: async () => ({ status: 0, detail: undefined }),
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await guard.close();
      },
    });
    await subscribed(guard);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reports`;
    const status = async (user: string) => {
      const response = await fetch(url, { headers: { 'x-session': user } });
      await response.arrayBuffer();
      return response.status;
    };
    const b = await instanceB();
    expect(await status('alice')).toBe(200);

    await deafen({ guard } as Instance);
    await b.guard.revokeUser('alice');
    await sleep(1200);
    expect(await status('alice')).toBe(503);
  });

  it('the bound holds for as long as the outage: a revocation made after the first drop is seen within it too (Redis still gives records)', async () => {
    // Grants fresh for a minute, the bound 300 ms: A cannot hear, but can still GET records.
    const a = await instanceA({ ttl: 60_000, redisMaxUnsubscribed: 300 });
    const b = await instanceB();
    expect(await a.status(alice)).toBe(200);

    // A's subscriber killed and kept from coming back; GET left to it.
    expect(await ask(redis().port, `ACL SETUSER ${USER} off`)).toMatch(/^\+OK/);
    expect(await ask(redis().port, `CLIENT KILL TYPE pubsub USER ${USER}`)).toMatch(/^:1/);
    await until(() => a.guard.cacheStats().redis?.subscribed === false, 5000, "A's subscription down");
    // Past the bound: the caches were dropped, and alice's token and grants are read and cached again.
    await sleep(600);
    expect(await a.status(alice)).toBe(200);

    // Revoked on B after that: A never hears it, and its caches are fresh for a minute.
    await b.guard.revokeUser('alice');
    await sleep(1200);
    expect(await a.answer(alice)).toMatchObject({ status: 401, detail: 'The token has been revoked' });
  });

  it('within the bound, Redis trouble is no outage: the request is decided on the local copy', async () => {
    const a = await instanceA({ redisMaxUnsubscribed: 60_000 });
    await instanceB();
    expect(await a.status(alice)).toBe(200);
    await deafen(a);
    expect(await a.status(alice)).toBe(200);
  });
});
