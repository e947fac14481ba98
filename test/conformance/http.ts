/**
 * A plain HTTP/1.1 client for the suite: sends the request target byte for byte (no URL parsing or
 * normalisation, unlike fetch), and returns status, lower-cased headers and the raw body.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Send {
  method?: string;
  target: string;
  headers?: Record<string, string>;
}

/** Sends one request on a fresh connection. */
export function send(port: number, { method = 'GET', target, headers = {} }: Send): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Headers whose values must be identical on every adapter. */
export const COMPARED_HEADERS = ['www-authenticate', 'content-type', 'retry-after', 'cache-control'] as const;

/** The part of an answer that must be byte-identical across adapters. */
export function comparable(answer: Answer): { status: number; headers: Record<string, string | undefined>; body: string } {
  const headers: Record<string, string | undefined> = {};
  for (const name of COMPARED_HEADERS) {
    const value = answer.headers[name];
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: answer.status, headers, body: answer.body };
}
