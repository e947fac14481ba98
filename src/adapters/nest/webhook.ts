/**
 * The webhook handler for a Nest controller, on either platform: call it with the request and the
 * response from `@Req()` and `@Res()` on a `@Public()` POST route. On platform-express it reads the
 * body itself when no body parser ran, else takes `req.rawBody` (with `rawBody: true`) or `req.body`;
 * on platform-fastify, `request.rawBody` or `request.body`.
 */
import type { IncomingMessage } from 'node:http';
import { receiveNodeRequest } from '../../webhooks/node.js';
import type { WebhookReceiver } from '../../webhooks/receiver.js';
import { writeAnswer } from './platform.js';

/** A webhook handler for a Nest route: resolves once the answer is written. */
export type NestWebhookHandler = (request: unknown, response: unknown) => Promise<void>;

/** The request a Nest platform hands a controller: Express's (an IncomingMessage) or Fastify's (with `raw`). */
interface PlatformRequest {
  raw?: IncomingMessage;
  rawBody?: unknown;
  body?: unknown;
}

/** The handler of one receiver. */
export function nestWebhookHandler(receiver: WebhookReceiver): NestWebhookHandler {
  return async function genauthWebhook(request, response) {
    const platform = request as PlatformRequest;
    const node = platform.raw ?? (request as IncomingMessage);
    const answer = await receiveNodeRequest(receiver, node, { raw: platform.rawBody, parsed: platform.body });
    await writeAnswer(response, answer);
  };
}
