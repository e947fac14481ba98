/**
 * The receiver over a Node request, for the adapters whose request is (or wraps) an IncomingMessage:
 * the secret is checked before a byte of the body is read; an unread body is read here, up to
 * `maxBytes`; one the framework read already is taken as it left it (its raw bytes when it kept them).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { WebhookBody } from './body.js';
import type { WebhookAnswer, WebhookReceiver } from './receiver.js';

/** What the framework did with the body: its raw bytes or text if it kept them, what it parsed. */
export interface FrameworkBody {
  raw?: unknown;
  parsed?: unknown;
}

/** The body, or why there is none: over the limit, or cut off. */
export type ReadResult = Buffer | 'too_large' | 'failed';

/**
 * Reads a request body up to `maxBytes`. Past it, reading stops and the rest is discarded as it
 * arrives (the answer asks to close the connection); a body cut off by the client is `failed`.
 */
export function readBody(req: Readable, maxBytes: number): Promise<ReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: ReadResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFailure);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (size > maxBytes) {
        finish('too_large');
        req.resume();
        return;
      }
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks));
    const onFailure = (): void => finish('failed');
    const onClose = (): void => finish(req.readableEnded ? Buffer.concat(chunks) : 'failed');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onFailure);
    req.once('close', onClose);
  });
}

/** Whether a framework (a body parser) has read, or is reading, the request's body. */
export function bodyConsumed(req: IncomingMessage): boolean {
  return (req as { _body?: unknown })._body === true || req.readableEnded || req.readableFlowing === true || req.destroyed;
}

const isRaw = (value: unknown): value is Uint8Array | string => typeof value === 'string' || value instanceof Uint8Array;

/** Handles one delivery on a Node request. Never throws or rejects. */
export async function receiveNodeRequest(receiver: WebhookReceiver, req: IncomingMessage, framework: FrameworkBody = {}): Promise<WebhookAnswer> {
  try {
    const method = req.method ?? '';
    const early = receiver.screen(method, req.headers);
    if (early !== undefined) return early;
    let body: WebhookBody | undefined;
    if (isRaw(framework.raw)) {
      body = framework.raw;
    } else if (!bodyConsumed(req)) {
      const read = await readBody(req, receiver.maxBytes);
      if (read === 'too_large') return receiver.refuse(413, { connection: 'close' });
      if (read === 'failed') return receiver.refuse(400);
      body = read;
    } else {
      body = isRaw(framework.parsed) || (typeof framework.parsed === 'object' && framework.parsed !== null) ? (framework.parsed as WebhookBody) : undefined;
    }
    return await receiver.receive({ method, headers: req.headers, body });
  } catch {
    return receiver.refuse(500);
  }
}
