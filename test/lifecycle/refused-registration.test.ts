// A Fastify registration refused for a mistake (a malformed `webhook` option, the plugin registered
// twice, `genauth` decorated already, the webhook's path routed already) fails the boot with a TypeError, and leaves no guard behind: none that holds a Redis
// subscription (a connection of its own, hearing every invalidation for as long as the process lives)
// or that warms users up against GenAuth. Found by counting redis-server's subscribed connections once
// a well-formed guard on the same Redis is subscribed: a refused registration must add none.
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { resetToAliceReading, useEmulator } from '../fixtures.js';
import { clients, freshPrefix, sharedOptions, subscribed } from '../redis/harness.js';
import { ask, redisTestsRun, useRedisServer } from '../redis/server.js';

const run = redisTestsRun('test/lifecycle/refused-registration.test.ts');

/** Connections redis-server holds that are subscribed to a channel: each a guard's invalidation subscription. */
async function subscriptions(port: number): Promise<number> {
  const list = await ask(port, 'CLIENT LIST');
  return list.split('\n').filter((line) => / sub=[1-9]/.test(line)).length;
}

describe.skipIf(!run)('a refused Fastify registration leaves no guard behind', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let sentinel: ExpressGuard | undefined;
  afterEach(async () => {
    await sentinel?.close();
    sentinel = undefined;
    open.closeAll();
  });

  const mistakes: Array<[string, (app: ReturnType<typeof Fastify>, options: object) => Promise<unknown>]> = [
    ['a webhook path without its leading slash', (app, options) => app.register(genauthGuard, { ...options, webhook: { path: 'hooks/genauth', secret: 'a-webhook-secret-of-enough-length' } })],
    ['a webhook secret too short', (app, options) => app.register(genauthGuard, { ...options, webhook: { path: '/hooks/genauth', secret: 'short' } })],
    ['the plugin registered twice', async (app, options) => {
      await app.register(genauthGuard, options);
      return app.register(genauthGuard, options);
    }],
    ['`genauth` already decorated by the app', (app, options) => {
      app.decorate('genauth', 'mine');
      return app.register(genauthGuard, options);
    }],
    ['the webhook path already routed by the app', (app, options) => {
      app.post('/hooks/genauth', async () => 'mine');
      return app.register(genauthGuard, { ...options, webhook: { path: '/hooks/genauth', secret: 'a-webhook-secret-of-enough-length' } });
    }],
  ];

  it.each(mistakes)('%s: the boot fails, and once the app is closed no subscription of it remains', async (_name, register) => {
    resetToAliceReading(emulator());
    const client = await open.client(redis().url);
    const options = sharedOptions(emulator(), client, { redisPrefix: freshPrefix() }, { warm: { users: ['alice'] } });
    const app = Fastify();
    const refused = await register(app, options)
      .then(() => app.ready())
      .then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    await app.close().catch(() => {}); // the operator's clean-up: the guard the plugin made must go with it
    // A guard made after the refused one, on the same Redis: once it is subscribed, so would the refused one be.
    sentinel = createExpressGuard(sharedOptions(emulator(), client, { redisPrefix: freshPrefix() }));
    await subscribed(sentinel);
    expect(await subscriptions(redis().port)).toBe(1);
  });
});
