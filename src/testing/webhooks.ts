/**
 * The emulator's webhooks: deliveries over real HTTP (undici) as GenAuth sends them (GENAUTH-PROTOCOL
 * 5.1): a POST of `{ eventName, data }` as JSON or form-encoded (`data` as a JSON string), with
 * `user-agent: authing-webhook@2.0`, the secret (in `x-authing-webhook-secret` unless `secretHeader`
 * names another of the headers GenAuth's docs name) and `x-authing-userpool-id`. One
 * subscription's deliveries go out one after another, in the order of the changes; no retries.
 */
import { Agent, request } from 'undici';
import { fail, httpUrl, oneOf, strictObject } from '../options/checks.js';
import { SECRET_HEADERS } from '../webhooks/secret.js';
import type { WebhookDelivery, WebhookSubscription } from './types.js';

const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

interface Subscription {
  url: string;
  secret: string | undefined;
  events: ReadonlySet<string> | undefined;
  contentType: (typeof CONTENT_TYPES)[number];
  /** The header the secret goes in (GenAuth's docs name several; which one it sends is not settled). */
  secretHeader: (typeof SECRET_HEADERS)[number];
  /** The last delivery of this subscription: the next one goes after it. */
  queue: Promise<void>;
}

/** Checks `addWebhook`'s options, in the one message format. */
function subscription(value: unknown): Subscription {
  const input = strictObject(value, ['url', 'secret', 'events', 'contentType', 'secretHeader'], 'addWebhook');
  const url = httpUrl(input.url, 'addWebhook.url');
  if (input.secret !== undefined && typeof input.secret !== 'string') fail('addWebhook.secret', 'must be a string');
  let events: Set<string> | undefined;
  if (input.events !== undefined && input.events !== '*') {
    if (!Array.isArray(input.events) || !input.events.every((name) => typeof name === 'string' && name !== '')) {
      fail('addWebhook.events', "must be '*' or an array of event names");
    }
    events = new Set(input.events as string[]);
  }
  return {
    url,
    secret: input.secret as string | undefined,
    events,
    contentType: oneOf(input.contentType, CONTENT_TYPES, 'addWebhook.contentType', 'application/json'),
    secretHeader: oneOf(input.secretHeader, SECRET_HEADERS, 'addWebhook.secretHeader', 'x-authing-webhook-secret'),
    queue: Promise.resolve(),
  };
}

/** The sender of one emulator. */
export interface WebhookSender {
  add(options: WebhookSubscription): () => void;
  /** Queues the event's delivery to every subscription that takes it. */
  emit(eventName: string, data: Record<string, unknown>): void;
  /** Resolves once every delivery queued so far has been answered or has failed. */
  settled(): Promise<void>;
  readonly deliveries: readonly WebhookDelivery[];
  close(): Promise<void>;
}

/** Creates the sender; `userPoolId` goes in every delivery's `x-authing-userpool-id`. */
export function createWebhookSender(userPoolId: string): WebhookSender {
  const subscriptions = new Set<Subscription>();
  const deliveries: WebhookDelivery[] = [];
  const pending = new Set<Promise<void>>();
  const agent = new Agent({ connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });

  async function deliver(target: Subscription, record: WebhookDelivery): Promise<void> {
    const { eventName, data } = record;
    const body =
      target.contentType === 'application/json'
        ? JSON.stringify({ eventName, data })
        : new URLSearchParams({ eventName, data: JSON.stringify(data) }).toString();
    const headers: Record<string, string> = {
      'content-type': target.contentType,
      'user-agent': 'authing-webhook@2.0',
      'x-authing-userpool-id': userPoolId,
      ...(target.secret === undefined ? {} : { [target.secretHeader]: target.secret }),
    };
    try {
      const res = await request(target.url, { method: 'POST', headers, body, dispatcher: agent });
      await res.body.dump();
      record.status = res.statusCode;
    } catch (error) {
      record.error = (error as { code?: string }).code ?? 'network';
    }
  }

  return {
    add(options) {
      const target = subscription(options);
      subscriptions.add(target);
      return () => void subscriptions.delete(target);
    },
    emit(eventName, data) {
      for (const target of subscriptions) {
        if (target.events !== undefined && !target.events.has(eventName)) continue;
        const record: WebhookDelivery = { url: target.url, eventName, data, contentType: target.contentType, status: 0, at: Date.now() };
        deliveries.push(record);
        const sent = target.queue.then(() => deliver(target, record));
        target.queue = sent;
        pending.add(sent);
        void sent.finally(() => pending.delete(sent));
      }
    },
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
    get deliveries() {
      return deliveries;
    },
    async close() {
      subscriptions.clear();
      await agent.destroy();
    },
  };
}
