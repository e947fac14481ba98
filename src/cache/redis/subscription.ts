/**
 * The invalidation subscription: Pub/Sub on a duplicate of the user's client (a subscribed connection
 * can do nothing else). When it drops, messages published meanwhile are lost, so every local grant
 * and verified token may be one that was revoked: once the subscription is provably back, the
 * instance drops them all (`resync`). Provably: the instance publishes a probe and waits to receive
 * it, which holds for a client or a cluster client whichever node the subscription moved to.
 */
import { randomUUID } from 'node:crypto';
import { bounded } from './bounded.js';
import type { RedisSubscriberClient, RedisTierClient } from './client.js';
import type { TierHealth } from './health.js';
import { decodeMessage, encodeMessage } from './messages.js';

/** What the instance does with what it hears. */
export interface InvalidationHandlers {
  user(userId: string): void;
  all(): void;
  /** Another instance revoked the user's tokens issued at or before `at` (ms since the epoch). */
  revoked(userId: string, at: number): void;
  /** The subscription is up (first time) or back after a drop: drop every local grant and verified token. */
  resync(): void;
}

export interface Subscription {
  close(): void;
}

export interface SubscriptionSettings {
  client: RedisTierClient;
  channel: string;
  /** This instance's id, in every message it sends. */
  instance: string;
  handlers: InvalidationHandlers;
  health: TierHealth;
  timeout: number;
}

/** How often a probe is sent while the subscription is not known to be live (ms). */
const PROBE_INTERVAL_MS = 250;
/** Waits between attempts to set the subscription up the first time (ms). */
const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** Client (and cluster client) events that mean the subscription may have missed messages. */
const LOSS_EVENTS = ['error', 'reconnecting', 'end', 'node-error', 'node-reconnecting', 'node-disconnect'];

export function subscribeToInvalidations(settings: SubscriptionSettings): Subscription {
  const { client, channel, instance, handlers, health } = settings;
  let closed = false;
  /** The duplicate being connected or holding the subscription (closed with the guard). */
  let current: RedisSubscriberClient | undefined;
  let subscriber: RedisSubscriberClient | undefined;
  let live = false;
  let probing: ReturnType<typeof setInterval> | undefined;
  /** Probes sent since the last loss: one of them coming back proves the subscription is live. */
  const probes = new Set<string>();

  function onMessage(text: string): void {
    const message = decodeMessage(text);
    if (message === undefined) return;
    if (message.from === instance) {
      if ('probe' in message && probes.has(message.probe)) confirmed();
      return;
    }
    if ('user' in message) handlers.user(message.user);
    else if ('all' in message) handlers.all();
    else if ('revoked' in message) handlers.revoked(message.revoked, message.at);
  }

  function confirmed(): void {
    probes.clear();
    if (probing !== undefined) clearInterval(probing);
    probing = undefined;
    live = true;
    handlers.resync();
    health.subscribed(true);
  }

  function sendProbe(): void {
    const probe = randomUUID();
    probes.add(probe);
    bounded(client, settings.timeout, () => client.publish(channel, encodeMessage({ from: instance, probe }))).catch(() => {});
  }

  /** A loss seen on the subscriber: probe until the subscription is provably back. */
  function lost(): void {
    if (closed || subscriber === undefined) return;
    probes.clear();
    if (live) health.unsubscribed();
    live = false;
    if (probing === undefined) {
      probing = setInterval(sendProbe, PROBE_INTERVAL_MS);
      probing.unref?.();
    }
  }

  async function start(attempt: number): Promise<void> {
    if (closed) return;
    let candidate: RedisSubscriberClient | undefined;
    try {
      candidate = current = client.duplicate();
      // node-redis requires an error listener; every loss event starts the probes once subscribed.
      for (const event of LOSS_EVENTS) candidate.on(event, () => lost());
      await candidate.connect();
      if (closed) throw new Error('closed');
      subscriber = candidate;
      await candidate.subscribe(channel, onMessage);
    } catch {
      subscriber = undefined;
      if (probing !== undefined) clearInterval(probing);
      probing = undefined;
      try {
        candidate?.destroy();
      } catch {
        // already closed
      }
      if (closed) return;
      health.failed('subscription');
      const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
      await new Promise((resolve) => setTimeout(resolve, wait).unref?.());
      return start(attempt + 1);
    }
    if (closed) return;
    if (probing !== undefined) return; // a loss while SUBSCRIBE was answered: the probes decide
    live = true;
    handlers.resync();
    health.subscribed(false);
  }

  void start(0);
  return {
    close() {
      closed = true;
      if (probing !== undefined) clearInterval(probing);
      probing = undefined;
      try {
        current?.destroy();
      } catch {
        // already closed
      }
      current = subscriber = undefined;
    },
  };
}
