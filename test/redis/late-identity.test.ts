// identity.resolve with a shared Redis: an instance started after a revocation never heard it over
// the subscription, so the first request it sees for a user reads that user's record from Redis
// before it is decided. Over HTTP on every framework: instance A revokes bob (revokeUser, recorded in
// Redis and published), instance B starts afterwards on the same Redis; bob is a 401 revoked there,
// alice (never revoked) passes.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { RedisTierClient } from '../../src/index.js';
import { seedStandardTenant, useEmulator } from '../fixtures.js';
import { HOOK_APPS, type HookApp } from '../hooks/apps.js';
import { clients, freshPrefix, subscribed, until } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/late-identity.test.ts');

describe.skipIf(!run)('identity.resolve on an instance started after the revocation', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let apps: HookApp[] = [];
  let prefix = '';

  beforeEach(() => {
    prefix = freshPrefix();
    seedStandardTenant(emulator());
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    open.closeAll();
  });

  /** One instance of `framework` with identity.resolve over the test's Redis (its own client). */
  async function instance(framework: string): Promise<HookApp> {
    const client = await open.client(redis().url);
    const app = await HOOK_APPS[framework]!(emulator(), 'session', { logger: false, cache: { redis: client, redisPrefix: prefix, redisTimeout: 1000 } });
    apps.push(app);
    return app;
  }

  async function answer(app: HookApp, method: 'GET' | 'POST', path: string, session: string) {
    const response = await fetch(`${app.url}${path}`, { method, headers: { 'x-session': session } });
    const body = (await response.json()) as { code?: string; detail?: string; user?: string };
    return { status: response.status, code: body.code, detail: body.detail, user: body.user };
  }

  const REVOKED = { status: 401, code: 'ERR_INVALID_TOKEN', detail: 'The token has been revoked', user: undefined };

  it.each(Object.keys(HOOK_APPS))('%s: the revoked user is a 401 revoked on the late instance, the others pass', async (framework) => {
    const first = await instance(framework);
    expect((await answer(first, 'POST', '/servers/1/start', 'alice')).status).toBe(200);
    // Resolves once recorded in Redis and published: the late instance cannot hear it any more.
    await first.revoke('bob');
    const late = await instance(framework);
    // The route check and authenticate() alone, each the user's first request on the instance.
    expect(await answer(late, 'GET', '/me', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'POST', '/servers/1/start', 'alice')).toEqual({ status: 200, code: undefined, detail: undefined, user: 'alice' });
    expect(await answer(late, 'GET', '/me', 'alice')).toEqual({ status: 200, code: undefined, detail: undefined, user: 'alice' });
  });

  /** Express in API mode (guard.api()): the session's user from `x-session`. */
  async function apiInstance(redisClient?: RedisTierClient): Promise<HookApp & { guard: ExpressGuard }> {
    const client = redisClient ?? (await open.client(redis().url));
    const guard = createExpressGuard({
      genauth: emulator().guardOptions().genauth,
      logger: false,
      identity: { resolve: (req) => (req as express.Request).get('x-session') },
      cache: { redis: client, redisPrefix: prefix, redisTimeout: 1000 },
    });
    const app = express();
    app.use('/api', guard.api(), (req, res) => void res.json({ user: req.genauth?.identity.userId }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const started = {
      guard,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      revoke: (userId: string) => guard.revokeUser(userId),
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await guard.close();
      },
    };
    apps.push(started);
    return started;
  }

  /** alice and bob may read /api/users; bob is revoked on a first API-mode instance, then a late one starts. */
  async function revokedBeforeLateApiInstance() {
    const grant = [{ resourceCode: 'users', resourceType: 'API' as const, apiIdentifier: '/api/users', actions: ['read'] }];
    emulator().setGrants('alice', grant);
    emulator().setGrants('bob', grant);
    const first = await apiInstance();
    await first.revoke('bob');
    return { first, late: await apiInstance() };
  }

  it('express API mode (guard.api()): the revoked user is a 401 revoked on the late instance, the others pass', async () => {
    const { late } = await revokedBeforeLateApiInstance();
    expect(await answer(late, 'GET', '/api/users', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'GET', '/api/users', 'alice')).toEqual({ status: 200, code: undefined, detail: undefined, user: 'alice' });
  });

  it('express: a late instance whose first request is a permission check refuses the revoked user too', async () => {
    const first = await instance('express');
    await first.revoke('bob');
    const late = await instance('express');
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    // Later requests: decided from the local copy, still refused.
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'GET', '/me', 'bob')).toEqual(REVOKED);
  });

  /** The users whose revocation record the redis-server is asked for from now on, as the keys spell them (`=alice`): MONITOR on a client of its own. */
  async function revocationReads(): Promise<string[]> {
    const users: string[] = [];
    const monitor = await open.client(redis().url);
    await monitor.monitor((line: string) => {
      const read = /"GET" "[^"]*\{[^|]*\|([^}]*)\}:revoked"/i.exec(line);
      if (read !== null) users.push(read[1]!);
    });
    return users;
  }

  it('express API mode: one read per user per instance, shared by concurrent first requests; a later revocation still arrives', async () => {
    const { first, late } = await revokedBeforeLateApiInstance();
    // Up first: its first subscription drops every read (a record may have been published before it).
    await subscribed(late.guard);
    const reads = await revocationReads();
    const together = await Promise.all([answer(late, 'GET', '/api/users', 'alice'), answer(late, 'GET', '/api/users', 'alice')]);
    expect(together.map((one) => one.status)).toEqual([200, 200]);
    for (let i = 0; i < 3; i++) {
      expect(await answer(late, 'GET', '/api/users', 'bob')).toEqual(REVOKED);
      expect((await answer(late, 'GET', '/api/users', 'alice')).status).toBe(200);
    }
    // Revoked after the late instance read alice's record: the published message reaches it.
    await first.revoke('alice');
    await until(async () => (await answer(late, 'GET', '/api/users', 'alice')).status === 401, 2000, 'the revocation on the late instance');
    expect(await answer(late, 'GET', '/api/users', 'alice')).toEqual(REVOKED);
    // alice, bob, and alice again once the message dropped what the instance knew of her.
    await until(() => reads.length >= 3, 2000, 'the reads in MONITOR');
    expect(reads).toEqual(['=alice', '=bob', '=alice']);
  });

  /** The same real client, whose GETs (the revocation reads) fail while `broken()`: Redis cannot be read. */
  function withFailingReads(client: RedisTierClient, broken: () => boolean): RedisTierClient {
    return {
      eval: (script, options) => client.eval(script, options),
      get: (key) => (broken() ? Promise.reject(new Error('unreadable')) : client.get(key)),
      publish: (channel, message) => client.publish(channel, message),
      get isReady() {
        return client.isReady;
      },
      duplicate: () => client.duplicate(),
    };
  }

  it('express API mode: while Redis cannot be read the request is decided on the local copy, and the user is read again on the next one', async () => {
    const grant = [{ resourceCode: 'users', resourceType: 'API' as const, apiIdentifier: '/api/users', actions: ['read'] }];
    emulator().setGrants('bob', grant);
    const first = await apiInstance();
    await first.revoke('bob');
    let broken = true;
    const late = await apiInstance(withFailingReads(await open.client(redis().url), () => broken));
    await subscribed(late.guard);
    // The window (docs/many-instances.md): the read failed, so the local copy (no record) decides.
    expect((await answer(late, 'GET', '/api/users', 'bob')).status).toBe(200);
    broken = false;
    // The failed read was not remembered: bob's next request reads the record and is refused.
    expect(await answer(late, 'GET', '/api/users', 'bob')).toEqual(REVOKED);
  });
});
