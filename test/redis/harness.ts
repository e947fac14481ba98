// Shared pieces of the Redis tests: real node-redis clients on the test's redis-server, guards of one
// "instance" each (an Express app on port 0 over its own guard), and polling helpers.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createClient, createCluster } from 'redis';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { RedisTierClient } from '../../src/index.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { bearerFor, resetEmulator, sleep, until } from '../fixtures.js';


export { sleep, until };

/** Connected node-redis clients of one test file, each with the error listener node-redis requires; all closed by `closeAll`. */
export function clients() {
  const open: Array<{ destroy(): void }> = [];
  return {
    async client(url: string, options: Parameters<typeof createClient>[0] = {}) {
      const client = createClient({ url, ...options });
      client.on('error', () => {});
      open.push(client);
      await client.connect();
      return client;
    },
    /** A client the test connects itself (e.g. before its server is up). */
    unconnected(url: string) {
      const client = createClient({ url });
      client.on('error', () => {});
      open.push(client);
      return client;
    },
    async cluster(ports: readonly number[]) {
      const cluster = createCluster({ rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) });
      cluster.on('error', () => {});
      open.push(cluster);
      await cluster.connect();
      return cluster;
    },
    closeAll() {
      for (const client of open.splice(0)) client.destroy();
    },
  };
}

export type Client = Awaited<ReturnType<ReturnType<typeof clients>['client']>>;
export type Cluster = Awaited<ReturnType<ReturnType<typeof clients>['cluster']>>;

/** One instance: an Express app on its own guard, listening on a loopback port. */
export interface Instance {
  readonly guard: ExpressGuard;
  readonly url: string;
  /** GET /reports with alice's (or `user`'s) token: the status. */
  status(auth: string): Promise<number>;
  /** GET /reports: the status and the problem's `detail` (e.g. 'The token has been revoked'). */
  answer(auth: string): Promise<{ status: number; detail: string | undefined }>;
  close(): Promise<void>;
}

/** `webhookSecret`: the instance also serves GenAuth's webhooks at POST /hooks/genauth. */
export async function startInstance(options: ExpressGuardOptions, webhookSecret?: string): Promise<Instance> {
  const guard = createExpressGuard(options);
  const app = express();
  if (webhookSecret !== undefined) app.post('/hooks/genauth', guard.webhook({ secret: webhookSecret }));
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    guard,
    url,
    async status(auth) {
      const response = await fetch(`${url}/reports`, { headers: { authorization: auth } });
      await response.arrayBuffer();
      return response.status;
    },
    async answer(auth) {
      const response = await fetch(`${url}/reports`, { headers: { authorization: auth } });
      const text = await response.text();
      const detail = response.headers.get('content-type')?.includes('json') === true ? (JSON.parse(text) as { detail?: string }).detail : undefined;
      return { status: response.status, detail };
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      await guard.close();
    },
  };
}

/** The emulator's guard options with a shared tier on `redis`, logs off unless given. */
export function sharedOptions(emulator: GenAuthEmulator, redis: unknown, cache: Record<string, unknown> = {}, extra: Partial<ExpressGuardOptions> = {}): ExpressGuardOptions {
  // A generous bound on each Redis call: on a loaded CI machine the default 100 ms can pass while the
  // call still succeeds, which these tests would read as trouble. Trouble tests set their own.
  return { ...emulator.guardOptions(), logger: false, ...extra, cache: { redis, redisTimeout: 1000, ...cache } } as ExpressGuardOptions;
}

/** Waits until the guard's invalidation subscription is up (requests do not wait for it; tests do). */
export function subscribed(guard: { cacheStats(): { redis?: { subscribed: boolean } } }): Promise<void> {
  return until(() => guard.cacheStats().redis?.subscribed === true, 10_000, 'the subscription');
}

/** Keeps `started` in `kept` (the instances the test's afterEach closes); resolves with it once its subscription is up. */
export async function keepSubscribed(kept: Instance[], started: Instance): Promise<Instance> {
  kept.push(started);
  await subscribed(started.guard);
  return started;
}

/** Closes every instance in `kept` and empties the list. */
export async function closeInstances(kept: Instance[]): Promise<void> {
  await Promise.all(kept.splice(0).map((instance) => instance.close()));
}

/** A prefix of its own per test: no test reads another's keys. */
let prefixes = 0;
export const freshPrefix = () => `t${process.pid}-${++prefixes}-${Date.now()}:`;

/**
 * The same real client, with `hooks` seeing each PUBLISH it sends (`published`, with its message, before
 * it is sent), each GET (`read`, with its key, before it is sent) and deciding when its subscriptions
 * hand a message over (`deliver` gets the hand-over and the message: call it now, later or never; by
 * default now).
 */
export function wrappedClient(
  client: RedisTierClient,
  hooks: { published?: (message: string) => void; read?: (key: string) => void; deliver?: (handOver: () => void, message: string) => void },
): RedisTierClient {
  const deliver = hooks.deliver ?? ((handOver: () => void) => handOver());
  return {
    eval: (script, options) => client.eval(script, options),
    get(key) {
      hooks.read?.(key);
      return client.get(key);
    },
    publish(channel, message) {
      hooks.published?.(message);
      return client.publish(channel, message);
    },
    get isReady() {
      return client.isReady;
    },
    duplicate() {
      const subscriber = client.duplicate();
      return {
        connect: () => subscriber.connect(),
        subscribe: (channel, listener) => subscriber.subscribe(channel, (message, from) => deliver(() => listener(message, from), message)),
        on: (event, listener) => subscriber.on(event, listener),
        destroy: () => subscriber.destroy(),
      };
    },
  };
}

/**
 * The same real client, whose subscription hands each message over `delay()` ms late: how a test
 * forces a load to end before its instance hears of the invalidation that made it moot.
 */
export function withLateMessages(client: RedisTierClient, delay: () => number): RedisTierClient {
  return wrappedClient(client, { deliver: (handOver) => void setTimeout(handOver, delay()) });
}

/** The emulator reset with alice (unblocked) and bob both reading reports; their tokens. */
export async function aliceAndBobReading(e: GenAuthEmulator): Promise<{ alice: string; bob: string }> {
  resetEmulator(e);
  e.unblockUser('alice');
  e.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  e.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  return { alice: await bearerFor(e, 'alice'), bob: await bearerFor(e, 'bob') };
}
