/** A small undici client for the webhook tests: posts a body with chosen headers, returns status, headers and text. */
import { Readable } from 'node:stream';
import { request } from 'undici';

export interface Posted {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface PostOptions {
  method?: 'POST' | 'GET' | 'PUT';
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Readable;
}

/** Sends one request to `http://127.0.0.1:<port><path>`. */
export async function post(port: number, path: string, { method = 'POST', headers = {}, body }: PostOptions = {}): Promise<Posted> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { method, headers, body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** Headers of a JSON delivery with the given secret (in GenAuth's documented header). */
export function jsonHeaders(secret: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'user-agent': 'authing-webhook@2.0', 'x-authing-webhook-secret': secret, ...extra };
}

/** A JSON delivery body. */
export function eventBody(eventName: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({ eventName, data });
}

/** A form-encoded delivery body: `eventName` and `data` as a JSON string. */
export function formBody(eventName: string, data: Record<string, unknown> = {}): string {
  return new URLSearchParams({ eventName, data: JSON.stringify(data) }).toString();
}

/**
 * A chunked JSON delivery (no content-length) of about `bytes` bytes, in 16 KiB chunks: well-formed,
 * so that a framework's own parser takes it and only the receiver's limit refuses it.
 */
export function chunked(bytes: number): Readable {
  const head = Buffer.from('{"eventName":"permission:add","data":{"pad":"');
  const tail = Buffer.from('"}}');
  return Readable.from(
    (function* () {
      yield head;
      for (let sent = 0; sent < bytes; sent += 16 * 1024) yield Buffer.alloc(Math.min(16 * 1024, bytes - sent), 0x61);
      yield tail;
    })(),
  );
}
