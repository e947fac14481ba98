import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Fault } from './types.js';

/** Small HTTP helpers of the emulator: header reads, JSON bodies, qs-style queries, faulty delivery. */

const MAX_BODY = 1 << 20;

/** Request headers as one string each (repeated headers joined the way Node joins them). */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Whether a request declares a JSON body: its media type (before any `;` parameter, in any case) is
 * `application/json`. GenAuth's SDKs send it on every POST; a body without it is not read as JSON.
 */
export function declaresJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

/** {@link readJson}'s answer for a body past the limit (read to its end and dropped). */
export const TOO_LARGE: unique symbol = Symbol('body too large');

/**
 * Read a JSON body; `undefined` signals a body that is not JSON, {@link TOO_LARGE} one past 1 MiB
 * (answered 400 / 413, never thrown). A body past the limit is still read to its end, unkept: stopping
 * midway reset the connection, so the client lost the answer or its next request on that connection.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  if (size > MAX_BODY) return TOO_LARGE;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    return undefined;
  }
}

/**
 * Parses a query the way `qs` (and so GenAuth's server) does for flat keys: `a[]=x&a[]=y`, `a[0]=x` and
 * a repeated `a=x&a=y` become arrays, anything else a string. The signature covers this parsed form
 * (arrays as JSON), not the raw query text.
 */
export function parseQuery(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const indexed = new Map<string, Array<[number, string]>>();
  for (const [rawKey, value] of params) {
    const index = /^(.+)\[(\d*)\]$/.exec(rawKey);
    if (index) {
      const [, key = '', position = ''] = index;
      if (position === '') {
        const current = out[key];
        out[key] = current === undefined ? [value] : [...(Array.isArray(current) ? current : [current]), value];
      } else {
        let list = indexed.get(key);
        if (!list) indexed.set(key, (list = []));
        list.push([Number(position), value]);
      }
      continue;
    }
    const current = out[rawKey];
    out[rawKey] = current === undefined ? value : [...(Array.isArray(current) ? current : [current]), value];
  }
  for (const [key, list] of indexed) {
    const ordered = list.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
    const current = out[key];
    out[key] = current === undefined ? ordered : [...(Array.isArray(current) ? current : [current]), ...ordered];
  }
  return out;
}

/** How the answer's bytes go out: at once, trickled, or cut off mid-body. */
export type Delivery = Extract<Fault, { kind: 'slow-body' | 'drop-mid-body' }> | undefined;

/**
 * Writes one answer. `slow-body` sends headers with the first chunk and trickles the rest;
 * `drop-mid-body` sends headers (full `content-length`) and part of the body, then destroys the socket.
 * `signal` (the emulator closing) stops a trickle.
 */
export function deliver(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  text: string,
  delivery: Delivery,
  signal: AbortSignal,
): void {
  if (res.destroyed) return;
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(status, { ...headers, 'content-length': bytes.length });
  if (delivery === undefined) {
    res.end(bytes);
    return;
  }
  if (delivery.kind === 'drop-mid-body') {
    const cut = Math.max(0, Math.min(bytes.length - 1, delivery.bytes ?? Math.floor(bytes.length / 2)));
    res.flushHeaders();
    // Destroy only once the partial body is handed to the kernel, so the client really sees it.
    res.write(bytes.subarray(0, cut), () => res.socket?.destroy());
    return;
  }
  const size = Math.max(1, delivery.chunkBytes ?? 16);
  const interval = Math.max(1, delivery.intervalMs ?? 100);
  let offset = 0;
  const tick = () => {
    if (res.destroyed || signal.aborted) return void clearInterval(timer);
    const chunk = bytes.subarray(offset, offset + size);
    offset += chunk.length;
    if (offset >= bytes.length) {
      clearInterval(timer);
      res.end(chunk);
    } else {
      res.write(chunk);
    }
  };
  const timer = setInterval(tick, interval);
  res.once('close', () => clearInterval(timer));
  tick(); // headers and the first chunk at once
}
