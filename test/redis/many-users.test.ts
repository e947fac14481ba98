// A `user:blocked` delivery naming thousands of users, with a shared Redis: the instance that got it
// records and publishes each revocation, and every other instance clears each named user as its
// message arrives. Neither walks its whole verified-token cache per user (thousands of users x
// thousands of tokens on each instance): measured by the cache entries visited, never a timing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countCacheWalks } from '../cache-walks.js';
import { bearerFor, useEmulator, resetToAliceReading } from '../fixtures.js';
import { eventBody, jsonHeaders } from '../webhooks/http.js';
import { clients, closeInstances, freshPrefix, sharedOptions, startInstance, subscribed, until, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/many-users.test.ts');

const SECRET = 'whsec-many-users-0123456789';
const CACHED = 40;
const NAMED = 3_000;

describe.skipIf(!run)('a user event naming thousands of users, across instances', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];

  beforeEach(() => {
    const e = emulator();
    resetToAliceReading(e);
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
  });

  it('every instance revokes them all with work bounded by users + cached tokens', async () => {
    const prefix = freshPrefix();
    for (let i = 0; i < 2; i++) {
      const started = await startInstance(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix }), SECRET);
      instances.push(started);
      await subscribed(started.guard);
    }
    const [first, second] = instances as [Instance, Instance];
    const cached = Array.from({ length: CACHED }, (_, i) => `cached-${i}`);
    const tokens = await Promise.all(cached.map((user) => bearerFor(emulator(), user)));
    const alice = await bearerFor(emulator(), 'alice');
    for (const one of instances) {
      for (const token of tokens) expect(await one.status(token)).toBe(403); // verified and cached, no grants
      expect(await one.status(alice)).toBe(200);
    }
    // The cached users last: each message about them meets a full cache.
    const named = [...Array.from({ length: NAMED - CACHED }, (_, i) => `named-${i}`), ...cached];

    const walks = countCacheWalks();
    try {
      const answer = await fetch(`${first.url}/hooks/genauth`, {
        method: 'POST',
        headers: jsonHeaders(SECRET),
        body: eventBody('user:blocked', { users: named.map((id) => ({ id })) }),
      });
      await answer.arrayBuffer();
      expect(answer.status).toBe(204);
      // The second instance heard the last revocation (messages arrive in order).
      await until(async () => (await second.status(tokens.at(-1) as string)) === 401, 20_000, 'the last revocation on the second instance');
    } finally {
      walks.restore();
    }
    // At most one walk over each instance's cache, never one per named user (3,000 x 41 on each).
    expect(walks.visited).toBeLessThanOrEqual(2 * (CACHED + 1));
    for (const one of instances) {
      for (const token of tokens) expect(await one.status(token)).toBe(401);
      expect(await one.status(alice)).toBe(200);
    }
  });
});
