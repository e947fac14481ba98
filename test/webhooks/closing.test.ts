// Webhook deliveries and guard.close(), over real HTTP. Nothing may be lost silently: a delivery is
// answered 204 only once its invalidations are made where they outlive this instance, else non-2xx
// (GenAuth delivers it again, to an instance that can make them).
// - Without a shared store, a closed guard decides nothing and its memory dies with it: a delivery that
//   calls for an invalidation and arrives while close() runs, after it, or whose body is still arriving
//   when it is called, is a 503 with Retry-After (on Express, Koa and Fastify). One that calls for
//   nothing is still a 204.
// - With cache.redis (a real redis-server), an invalidation in flight when close() is called is recorded
//   and published through the app's client: 204, and another instance refuses the token; if the app
//   destroys its client at once, the record fails and the answer is a 503.
import diagnostics from 'node:diagnostics_channel';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookEvent, WebhookInvalidationEvent, WebhookRejectedEvent } from '../../src/events.js';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createGuard, createWebhookReceiver, type Guard, type RedisTierClient, type WebhookReceiver } from '../../src/index.js';
import { RESOURCES, bearerFor, resetToAliceReading, seedStandardTenant, until, useEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, sharedOptions, startInstance, subscribed, wrappedClient, type Instance } from '../redis/harness.js';
import { redisTestsRun, startRedisServer, type RedisServer } from '../redis/server.js';
import { eventBody, jsonHeaders, post, webhookApps, type WebhookApp } from './http.js';

const SECRET = 'whsec-closing-0123456789';
const emulator = useEmulator();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  emulator().clearFaults();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const options = () => ({ ...emulator().guardOptions(), logger: false as const, genauth: { ...emulator().guardOptions().genauth, timeout: 2000 } });

/** Each adapter's app with the webhook route at /hooks/genauth, and its guard's close(). */
const apps = webhookApps({ options, secret: SECRET, requirement: 'reports:Read', closers });

const BLOCK_ALICE = eventBody('user:blocked', { user: { userId: 'alice' } });

/** What the webhook channels publish while it is on: the delivery, its refusal and its invalidations. */
function watchWebhookChannels() {
  const seen = { delivery: [] as WebhookEvent[], rejected: [] as WebhookRejectedEvent[], invalidations: [] as WebhookInvalidationEvent[] };
  const handlers: Array<[string, (message: unknown) => void]> = [
    ['genauth-guard:webhook', (message) => seen.delivery.push(message as WebhookEvent)],
    ['genauth-guard:webhook:rejected', (message) => seen.rejected.push(message as WebhookRejectedEvent)],
    ['genauth-guard:webhook:invalidation', (message) => seen.invalidations.push(message as WebhookInvalidationEvent)],
  ];
  for (const [name, handler] of handlers) diagnostics.subscribe(name, handler);
  closers.push(async () => {
    for (const [name, handler] of handlers) diagnostics.unsubscribe(name, handler);
  });
  return {
    ...seen,
    clear: () => {
      for (const list of Object.values(seen)) list.length = 0;
    },
  };
}

function expectRetry(answer: { status: number; headers: Record<string, unknown> }): void {
  expect(answer.status).toBe(503);
  expect(answer.headers['retry-after']).toBe('5');
  expect(answer.headers['content-type']).toBe('application/problem+json');
}

describe.each(apps)('%s, without a shared store: deliveries and close()', (_name, start) => {
  let app: WebhookApp;
  beforeEach(async () => {
    resetToAliceReading(emulator());
    app = await start();
  });
  const deliver = (body: string | Readable) => post(app.port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body });

  it('a delivery arriving while close() waits on a GenAuth call in flight: 503 with Retry-After, not a 204', async () => {
    emulator().fault({ kind: 'hang', path: RESOURCES });
    const waiting = post(app.port, '/reports', { method: 'GET', headers: { authorization: await bearerFor(emulator(), 'alice') } });
    await until(() => emulator().callCount(RESOURCES) === 1, 5000, 'the grants asked for');
    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    const answer = await deliver(BLOCK_ALICE);
    expect(closed).toBe(false); // close() was still in progress
    expectRetry(answer);
    await closing;
    expect((await waiting).status).toBe(503);
  });

  it('a delivery after close(): 503 with Retry-After; one that calls for nothing: 204', async () => {
    await app.close();
    expectRetry(await deliver(BLOCK_ALICE));
    expectRetry(await deliver(eventBody('role:updated', {})));
    expect((await deliver(eventBody('login', { id: 'alice' }))).status).toBe(204);
  });

  it('the diagnostics agree with the answer: recorded true and 204 while open; recorded false with the 503 not_recorded once closed', async () => {
    const seen = watchWebhookChannels();
    expect((await deliver(BLOCK_ALICE)).status).toBe(204);
    expect(seen.invalidations.length).toBeGreaterThan(0);
    expect(seen.invalidations).toEqual(seen.invalidations.map(() => expect.objectContaining({ eventName: 'user:blocked', userId: 'alice', recorded: true })));
    expect(seen.delivery).toEqual([expect.objectContaining({ eventName: 'user:blocked', status: 204 })]);
    seen.clear();
    await app.close();
    for (const body of [BLOCK_ALICE, eventBody('role:updated', {})]) {
      expectRetry(await deliver(body));
      // Made in the closed guard's memory only, which ends with it: held nowhere that counts.
      expect(seen.invalidations.length).toBeGreaterThan(0);
      expect(seen.invalidations.every((event) => event.recorded === false)).toBe(true);
      expect(seen.rejected).toEqual([expect.objectContaining({ status: 503, reason: 'not_recorded' })]);
      expect(seen.delivery).toEqual([expect.objectContaining({ status: 503 })]);
      seen.clear();
    }
    // A user event naming no user the guard can identify: 400 as when open, its flush held nowhere either.
    expect((await deliver(eventBody('user:blocked', { user: {} }))).status).toBe(400);
    expect(seen.invalidations).toEqual([expect.objectContaining({ kind: 'invalidateAll', recorded: false })]);
  });

  it('a delivery whose body is still arriving when close() is called: 503 with Retry-After', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const half = Math.floor(BLOCK_ALICE.length / 2);
    const body = Readable.from((async function* () {
      yield Buffer.from(BLOCK_ALICE.slice(0, half));
      await released;
      yield Buffer.from(BLOCK_ALICE.slice(half));
    })());
    const answer = deliver(body);
    const closing = app.close();
    release();
    await closing;
    expectRetry(await answer);
  });
});

/**
 * A server of your own with `createWebhookReceiver(guard, ...)` at /hooks/genauth (the body read by
 * hand, as a framework without an adapter would), over real HTTP.
 */
async function ownServer(receiver: WebhookReceiver): Promise<number> {
  const read = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer((req, res) => {
    void read(req).then(async (body) => {
      const answer = await receiver.receive({ method: req.method ?? '', headers: req.headers, body });
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

describe('createWebhookReceiver on a server of your own, once the guard is closed', () => {
  beforeEach(() => resetToAliceReading(emulator()));
  const deliverAt = (port: number) => post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: BLOCK_ALICE });

  it('given the guard createGuard made: 503 not_recorded with Retry-After, the invalidation recorded:false', async () => {
    const guard = createGuard(options());
    closers.push(() => guard.close());
    const port = await ownServer(createWebhookReceiver(guard, { secret: SECRET }));
    await guard.close();
    const seen = watchWebhookChannels();
    expectRetry(await deliverAt(port));
    expect(seen.invalidations).toEqual([expect.objectContaining({ eventName: 'user:blocked', userId: 'alice', recorded: false })]);
    expect(seen.rejected).toEqual([expect.objectContaining({ status: 503, reason: 'not_recorded' })]);
  });

  it("given an adapter's guard (its core is read): the same 503 not_recorded, nothing recorded", async () => {
    const guard = createExpressGuard(options());
    closers.push(() => guard.close());
    // A JavaScript caller, or one handing over the Nest service or Fastify's app.genauth, passes this object.
    const port = await ownServer(createWebhookReceiver(guard, { secret: SECRET }));
    await guard.close();
    const seen = watchWebhookChannels();
    expectRetry(await deliverAt(port));
    expect(seen.invalidations.length).toBeGreaterThan(0);
    expect(seen.invalidations.every((event) => event.recorded === false)).toBe(true);
    expect(seen.rejected).toEqual([expect.objectContaining({ status: 503, reason: 'not_recorded' })]);
  });

  it('given a copy or wrapper of the guard, which cannot tell it was closed: a TypeError at construction, never a 204 after close()', async () => {
    const guard = createGuard(options());
    closers.push(() => guard.close());
    for (const copy of [{ ...guard }, Object.create(guard) as Guard]) {
      let receiver: WebhookReceiver | undefined;
      let refused: unknown;
      try {
        receiver = createWebhookReceiver(copy, { secret: SECRET });
      } catch (error) {
        refused = error;
      }
      if (receiver !== undefined) {
        // Before: built; after close() it answered 204 with recorded:true for an invalidation held nowhere.
        const port = await ownServer(receiver);
        await guard.close();
        const seen = watchWebhookChannels();
        const { status } = await deliverAt(port);
        expect.fail(`built; after close() a delivery answered ${status}, recorded ${JSON.stringify(seen.invalidations.map((event) => event.recorded))}`);
      }
      expect(refused).toBeInstanceOf(TypeError);
      expect((refused as Error).message).toMatch(/^genauth-guard: option "guard" /);
    }
  });
});

const runRedis = redisTestsRun('test/webhooks/closing.test.ts');

describe.skipIf(!runRedis)('with cache.redis: an invalidation in flight when close() is called', () => {
  const open = clients();
  let redis: RedisServer;
  const instances: Instance[] = [];
  beforeEach(async () => {
    seedStandardTenant(emulator());
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
    await redis.stop();
  });

  /** Two instances on one Redis; the first's client calls `onPublish` before the first PUBLISH it sends once armed. */
  async function pair(onPublish: (closing: Instance, client: RedisTierClient) => void): Promise<{ closing: Instance; other: Instance; arm(): void }> {
    const prefix = freshPrefix();
    const client = await open.client(redis.url);
    let armed = false;
    let closing: Instance | undefined;
    const watched = wrappedClient(client as unknown as RedisTierClient, {
      published() {
        if (!armed || closing === undefined) return;
        armed = false;
        onPublish(closing, client as unknown as RedisTierClient);
      },
    });
    closing = await startInstance(sharedOptions(emulator(), watched, { redisPrefix: prefix }), SECRET);
    const other = await startInstance(sharedOptions(emulator(), await open.client(redis.url), { redisPrefix: prefix }));
    instances.push(closing, other);
    await Promise.all([subscribed(closing.guard), subscribed(other.guard)]);
    return { closing, other, arm: () => void (armed = true) };
  }

  const deliverTo = (instance: Instance) => post(Number(new URL(instance.url).port), '/hooks/genauth', { headers: jsonHeaders(SECRET), body: BLOCK_ALICE });

  it('recorded and published through the app\'s client: 204, and the other instance refuses the token', async () => {
    const { closing, other, arm } = await pair((instance) => void instance.guard.close());
    const alice = await bearerFor(emulator(), 'alice');
    expect(await other.status(alice)).toBe(200);
    const seen = watchWebhookChannels();
    arm();
    const answer = await deliverTo(closing);
    expect(answer.status).toBe(204);
    // Closed, but held where it counts: recorded, as the 204 says.
    expect(seen.invalidations.length).toBeGreaterThan(0);
    expect(seen.invalidations.every((event) => event.recorded)).toBe(true);
    expect(await closing.status(alice)).toBe(503); // closed: not judged
    await until(async () => (await other.status(alice)) === 401, 5000, 'the other instance refusing the token');
  });

  it('the app destroys its client as soon as the guard closes: the record fails, 503 with Retry-After', async () => {
    const { closing, arm } = await pair((instance, client) => {
      void instance.guard.close();
      (client as unknown as { destroy(): void }).destroy();
    });
    const seen = watchWebhookChannels();
    arm();
    expectRetry(await deliverTo(closing));
    expect(seen.invalidations.some((event) => !event.recorded)).toBe(true);
    expect(seen.rejected).toEqual([expect.objectContaining({ status: 503, reason: 'not_recorded' })]);
  });
});
