/**
 * The webhook route on Fastify. Through the plugin's `webhook` option, the route lives in its own
 * encapsulated context whose only content-type parser reads the raw bytes up to `maxBytes` (so JSON
 * and form bodies arrive unparsed, and an app's own parsers are untouched), and the secret is checked
 * in `onRequest`, before a byte of the body is read. `fastify.genauth.webhook()` is the handler alone,
 * for a route of your own (it takes `request.rawBody`, else `request.body`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Guard } from '../../core/types.js';
import { fail, nonEmptyString, strictObject } from '../../options/checks.js';
import { readBody, type ReadResult } from '../../webhooks/node.js';
import { resolveWebhookOptions, type WebhookOptions } from '../../webhooks/options.js';
import { createWebhookReceiver, type WebhookAnswer, type WebhookReceiver } from '../../webhooks/receiver.js';

/** The plugin's `webhook` option: the route's path and the receiver's options. */
export interface FastifyWebhookOptions extends WebhookOptions {
  /** The route's path, e.g. `/hooks/genauth`. */
  path: string;
}

/** A webhook handler for a Fastify route. */
export type WebhookHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

function send(reply: FastifyReply, answer: WebhookAnswer): FastifyReply {
  // A Buffer, so Fastify sends the content type as given (it appends a charset to JSON-ish strings).
  return reply.code(answer.status).headers(answer.headers).send(answer.body === '' ? undefined : Buffer.from(answer.body));
}

const isBody = (value: unknown): value is string | Uint8Array | Record<string, unknown> =>
  typeof value === 'string' || value instanceof Uint8Array || (typeof value === 'object' && value !== null);

/** The handler alone: the body as Fastify's parsers (or a raw-body plugin) left it. */
export function webhookHandler(receiver: WebhookReceiver): WebhookHandler {
  return async function genauthWebhook(request, reply) {
    const { rawBody } = request as { rawBody?: unknown };
    const body = typeof rawBody === 'string' || rawBody instanceof Uint8Array ? rawBody : request.body;
    return send(reply, await receiver.receive({ method: request.method, headers: request.headers, body: isBody(body) ? body : undefined }));
  };
}

/** What registers the webhook route of a guard on an instance. */
export type WebhookRegistrar = (fastify: FastifyInstance) => Promise<void>;

/**
 * Checks the plugin's `webhook` option now, before a guard exists to be left open by a mistake in it;
 * returns what makes the route's registrar once the guard is made.
 */
export function webhookRoute(value: unknown): (core: Guard) => WebhookRegistrar {
  const { path, ...options } = strictObject(value, ['path', 'secret', 'maxBytes'], 'webhook');
  if (!nonEmptyString(path, 'webhook.path').startsWith('/')) fail('webhook.path', 'must start with "/"');
  resolveWebhookOptions(options, 'webhook');
  return (core) => webhookRegistrar(path as string, createWebhookReceiver(core, options as unknown as WebhookOptions));
}

function webhookRegistrar(path: string, receiver: WebhookReceiver): WebhookRegistrar {
  return async (fastify) => {
    await fastify.register(async (child) => {
      child.removeAllContentTypeParsers();
      child.addContentTypeParser('*', (_request, payload, done) => {
        readBody(payload, receiver.maxBytes).then((read) => done(null, read), done);
      });
      child.post(
        path,
        {
          config: { genauth: { public: true } },
          onRequest(request, reply, done) {
            const early = receiver.screen(request.method, request.headers);
            if (early === undefined) return done();
            send(reply, early);
          },
        },
        async function genauthWebhook(request, reply) {
          const read = request.body as ReadResult | undefined;
          if (read === 'too_large') return send(reply, receiver.refuse(413, { connection: 'close' }));
          if (read === 'failed') return send(reply, receiver.refuse(400));
          return send(reply, await receiver.receive({ method: request.method, headers: request.headers, body: read }));
        },
      );
    });
  };
}
