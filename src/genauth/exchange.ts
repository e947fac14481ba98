import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { GenAuthApiError } from '../errors.js';
import type { Deadline, DeadlineWaiter } from './deadline.js';

/**
 * UTF-8, refusing what is not (RFC 8259: JSON text is UTF-8). A lossy decoding would put one U+FFFD
 * for distinct bytes, so two codes GenAuth tells apart could read as one. A byte order mark is kept,
 * so such a body stays unparseable as before.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body's text, or '' (no JSON: unreadable, like an encoded body) when it is not UTF-8. */
function utf8Text(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return '';
  }
}

/** A whole upstream answer: status, headers and the body as text. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Whether a Content-Encoding header leaves the body as sent: absent, or only `identity` (any case,
 * list elements trimmed, empty elements ignored as RFC 9110 lists allow). Anything else, `gzip` in a
 * list with `identity` included, is a coding this client never decodes.
 */
export function isIdentityEncoding(value: string | string[] | undefined): boolean {
  if (value === undefined) return true;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const coding of text.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'identity') return false;
  }
  return true;
}

/** A `charset` parameter of a media type: its name in any case, its value quoted or not (empty included). */
const CHARSET_PARAM = /;\s*charset\s*=\s*("[^"]*"|[^;\s]*)/gi;

/**
 * Whether a Content-Type names a charset other than UTF-8 (`utf-8` or `utf8`, any case, quoted or not):
 * JSON is UTF-8 (RFC 8259), and a sender naming another (latin1, GBK, UTF-16) encoded its text
 * otherwise, so its bytes read as UTF-8 may spell other codes than it meant. No charset, or only UTF-8
 * ones: false. Every `charset` parameter counts (two that disagree: true).
 */
export function declaresOtherCharset(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value.join(';') : value;
  for (const [, raw = ''] of text.matchAll(CHARSET_PARAM)) {
    const name = raw.replace(/^"|"$/g, '').trim().toLowerCase();
    if (name !== 'utf-8' && name !== 'utf8') return true;
  }
  return false;
}

/**
 * A transport error as the guard passes it on (the cause of its 503, which frameworks and hooks log):
 * undici's HTTPParserError keeps the bytes it could not parse, the peer's own text, in `data`. Such an
 * error is copied without it (same class, name, message, code and stack, all undici's and llhttp's
 * own words); any other is passed as it is.
 */
function withoutPeerBytes(cause: Error): Error {
  if (typeof cause !== 'object' || cause === null || !Object.hasOwn(cause, 'data')) return cause;
  const copy = Object.create(Object.getPrototypeOf(cause) as object) as Error;
  for (const key of Reflect.ownKeys(cause)) {
    if (key !== 'data') Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(cause, key) as PropertyDescriptor);
  }
  return copy;
}

/**
 * Collects one response straight from undici's dispatch callbacks: no body stream, no async
 * iterator, one Buffer.concat at the end. Stops reading (and aborts the request) as soon as the
 * declared or received size passes `limit`, so an oversized answer never sits in memory.
 */
class BodyCollector implements Dispatcher.DispatchHandler, DeadlineWaiter {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  /** The body is in a coding or a charset we do not read: its bytes are counted and dropped. */
  private encoded = false;

  constructor(
    private readonly limit: number,
    private readonly deadline: Deadline,
    private readonly resolve: (answer: RawAnswer) => void,
    private readonly reject: (error: GenAuthApiError) => void,
  ) {}

  /** The call's deadline passed. */
  expire(): void {
    this.abortWith(new GenAuthApiError('timeout'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('genauth-guard: request abandoned'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational answers precede the real one
    this.status = statusCode;
    this.headers = headers;
    if (Number(headers['content-length']) > this.limit) return this.abortWith(new GenAuthApiError('too_large', { httpStatus: statusCode }));
    // A 2xx in another charset is no text we can read: its envelope is unreadable (a 503, not retried).
    if (statusCode <= 299 && declaresOtherCharset(headers['content-type'])) this.encoded = true;
    if (isIdentityEncoding(headers['content-encoding'])) return;
    // Never parse an encoded body as if it were plain, even when its bytes happen to be JSON. A 2xx
    // stops here; an error status keeps its meaning (5xx retried, 429 backed off) with no body read.
    if (statusCode >= 200 && statusCode <= 299) return this.abortWith(new GenAuthApiError('content_encoding', { httpStatus: statusCode }));
    this.encoded = true;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > this.limit) return this.abortWith(new GenAuthApiError('too_large', { httpStatus: this.status }));
    if (!this.encoded) this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settle();
    const text = this.encoded ? '' : utf8Text(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size));
    // undici may hold the handler a while after the end: keep no body bytes alive with it.
    this.chunks.length = 0;
    this.resolve({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, cause: Error): void {
    if (this.settled) return;
    this.settle();
    this.reject(new GenAuthApiError(this.deadline.expired ? 'timeout' : 'network', { cause: withoutPeerBytes(cause) }));
  }

  /** Ends the exchange with `error`: rejects once and aborts the request (the body read so far is dropped). */
  private abortWith(error: GenAuthApiError): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
    this.chunks.length = 0;
    this.controller?.abort(error);
  }

  private settle(): void {
    this.settled = true;
    this.deadline.unwatch(this);
  }
}

/**
 * One HTTP exchange over `dispatcher`, bounded by the call's `deadline` and `limit` bytes.
 * Rejects only with a GenAuthApiError: `timeout`, `network`, `too_large`, or `content_encoding` (a 2xx
 * body in a coding other than identity; an encoded error answer resolves with an empty text).
 */
export function exchange(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions, limit: number, deadline: Deadline): Promise<RawAnswer> {
  if (deadline.expired) return Promise.reject(new GenAuthApiError('timeout'));
  return new Promise<RawAnswer>((resolve, reject) => {
    const collector = new BodyCollector(limit, deadline, resolve, reject);
    deadline.watch(collector);
    try {
      dispatcher.dispatch(request, collector);
    } catch (cause) {
      collector.onResponseError(undefined as never, cause as Error);
    }
  });
}
