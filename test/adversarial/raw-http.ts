/**
 * HTTP/1.1 over a raw socket: request bytes exactly as given (any method, target, header repeat or
 * byte), and the answers parsed back. No client library normalises anything on the way.
 */
import { connect } from 'node:net';
import type { Answer } from '../conformance/http.js';

/** One request: the head is written as given, lines joined with CRLF. */
export interface RawRequest {
  method: string;
  target: string;
  /** Header lines as name/value pairs, in order, repeats allowed. `host` is added unless present. */
  headers?: Array<[string, string]>;
  body?: string;
  /** Bytes of the request line and headers, written as latin1 (so any byte can be sent). */
  version?: string;
}

/** The head and body of one request as bytes. */
export function encodeRequest(request: RawRequest, last: boolean): Buffer {
  const headers = [...(request.headers ?? [])];
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) headers.unshift(['host', '127.0.0.1']);
  if (last) headers.push(['connection', 'close']);
  if (request.body !== undefined) headers.push(['content-length', String(Buffer.byteLength(request.body))]);
  const head = [`${request.method} ${request.target} ${request.version ?? 'HTTP/1.1'}`, ...headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), Buffer.from(request.body ?? '', 'utf8')]);
}

/**
 * Sends requests pipelined on one connection (the last asks to close it) and parses the answers, in
 * order. A server that closes early yields fewer answers. Resolves when the server closes the socket
 * or after `timeoutMs`.
 */
export function rawExchange(port: number, requests: RawRequest[], timeoutMs = 5000): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answers were written is the server closing a bad connection: keep what came.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseAnswers(Buffer.concat(chunks), requests.map((r) => r.method)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(Buffer.concat(requests.map((r, i) => encodeRequest(r, i === requests.length - 1))));
  });
}

/** Sends one request on its own connection. The answer has status 0 when the server sent nothing. */
export async function rawSend(port: number, request: RawRequest): Promise<Answer> {
  const [answer] = await rawExchange(port, [request]);
  return answer ?? { status: 0, headers: {}, body: '' };
}

function parseAnswers(bytes: Buffer, methods: string[]): Answer[] {
  const answers: Answer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const [statusLine = '', ...lines] = bytes.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    at = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const method = methods[answers.length] ?? 'GET';
    if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // no body
    } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at);
        if (lineEnd === -1) break;
        const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
        at = lineEnd + 2;
        if (!(size > 0)) {
          const trailerEnd = bytes.indexOf('\r\n', at);
          at = trailerEnd === -1 ? bytes.length : trailerEnd + 2;
          break;
        }
        parts.push(bytes.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = bytes.subarray(at, at + length);
      at += length;
    } else {
      body = bytes.subarray(at);
      at = bytes.length;
    }
    answers.push({ status, headers, body: body.toString('utf8') });
  }
  return answers;
}
