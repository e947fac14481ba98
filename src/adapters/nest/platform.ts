/**
 * The two things that differ between `@nestjs/platform-express` and `@nestjs/platform-fastify`: how to
 * read the request the guard judges, and how to write the answer. Detected by shape, so the guard works
 * with either platform (and a custom one built on Node's `http`) without importing it.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import { Readable } from 'node:stream';
import { unevaluablePathError } from '../../errors.js';
import type { ProblemResponse } from '../../problem.js';
import { clientGone } from '../aborted.js';
import { NodeRequestView, type RequestLike } from '../../request.js';
import { fastifyTarget, notRoutedAsPath } from '../fastify/target.js';
import { expressRoutedTarget, expressRouterRules, fastifyRouterRules } from '../router-rules.js';

interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
  app?: unknown;
}

interface FastifyLikeRequest {
  raw: IncomingMessage;
  server?: unknown;
}

interface ExpressLikeResponse extends ServerResponse {
  status(code: number): ExpressLikeResponse;
  set(headers: Record<string, string>): ExpressLikeResponse;
}

interface FastifyLikeReply {
  raw: ServerResponse;
  sent: boolean;
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: Buffer): FastifyLikeReply;
  hijack?(): unknown;
}

function isFastifyRequest(request: unknown): request is FastifyLikeRequest {
  const raw = (request as { raw?: unknown }).raw;
  return typeof raw === 'object' && raw !== null && typeof (raw as IncomingMessage).url === 'string';
}

function isFastifyReply(response: unknown): response is FastifyLikeReply {
  const candidate = response as Partial<FastifyLikeReply>;
  return typeof candidate.code === 'function' && typeof candidate.send === 'function' && typeof candidate.raw === 'object';
}

// A request is a readable stream: Node's IncomingMessage and Http2ServerRequest, and the request of
// light-my-request (Fastify's and Nest's `app.inject()`), which is a Readable but no IncomingMessage.
const isNodeRequest = (value: unknown): boolean => value instanceof Readable;
const isNodeResponse = (value: unknown): boolean => value instanceof ServerResponse || value instanceof Http2ServerResponse;

/**
 * Whether an 'http' context's arguments are a platform's request and response: Node's own objects
 * (Express's), or objects over them (Fastify's `raw`). `ExternalContextCreator` labels a handler 'http'
 * unless told otherwise, so a library that runs its message or job handlers through it hands the guard
 * a payload instead; a payload is the sender's data, never a request to verify (and the guard could
 * not answer on it). Checked by class (a stream, a Node response), as no payload can be one.
 */
export function isPlatformExchange(request: unknown, response: unknown): boolean {
  if (typeof request !== 'object' || request === null || typeof response !== 'object' || response === null) return false;
  return (
    (isNodeRequest(request) || isNodeRequest((request as { raw?: unknown }).raw)) &&
    (isNodeResponse(response) || isNodeResponse((response as { raw?: unknown }).raw))
  );
}

/**
 * The core's view of the platform request. The url is the full target, global prefix and version
 * segment included, as the platform routes it: Express `req.url` (as middleware in front left it;
 * `req.originalUrl` where `req.url` is that URL shortened by a mount, also one a host that keeps no
 * `baseUrl` made, as Connect's; after a rewrite under a mount path, `req.baseUrl` + `req.url`), Fastify `request.raw.url` (as its `rewriteUrl` left it), behind the
 * mount path when an Express app mounted the Fastify instance. The router's rules come from the platform
 * instance (Express app settings, Fastify router options).
 */
export function nestRequest(request: unknown): RequestLike {
  return isFastifyRequest(request) ? fastifyView(request) : expressView(request as ExpressLikeRequest);
}

/**
 * {@link nestRequest} for the guard's check, refusing (400 `invalid_request`) a target Nest on Fastify
 * routed without reading it as a path (`notRoutedAsPath`). Nest's FastifyAdapter answers its 404 for a
 * target that is not a path or an `http(s)://` URL, but the find-my-way `@nestjs/platform-fastify`
 * bundles (9.7) walks `HTTP://h/x` and `http://h` from their second character, so a wildcard route
 * (`@Get('*')`) matches them. Express's router reads every target it routes as a path (url.parse), as
 * the Express adapter judges it. An origin-form target costs one character read.
 * @throws InvalidRequestError for such a target.
 */
export function guardRequest(request: unknown, realm: string): RequestLike {
  if (!isFastifyRequest(request)) return expressView(request as ExpressLikeRequest);
  if (notRoutedAsPath(request.raw.url)) throw unevaluablePathError(realm);
  return fastifyView(request);
}

/**
 * raw.url: the path Fastify routes (after any rewriteUrl), never raw.originalUrl (the alias received);
 * under an Express mount, with the mount path in front.
 */
function fastifyView(request: FastifyLikeRequest): RequestLike {
  return new NodeRequestView(request.raw, fastifyTarget(request.raw), fastifyRouterRules(request.server));
}

/** req.url as Nest's routes dispatch it (a middleware in front may have rewritten it), unless it is originalUrl shortened by a mount. */
function expressView(request: ExpressLikeRequest): RequestLike {
  return new NodeRequestView(request, expressRoutedTarget(request), expressRouterRules(request.app));
}

/**
 * Whether the client left while the guard waited and nothing was written to it (see `clientGone`). Then
 * the guard refuses without answering. Nest's exception layer still answers the closed connection
 * (nothing leaves the process).
 */
export function clientLeft(request: unknown, response: unknown): boolean {
  const raw = isFastifyRequest(request) ? request.raw : (request as IncomingMessage);
  return clientGone(raw, isFastifyReply(response) ? response.raw : (response as ServerResponse));
}

/**
 * Stops a reply for a client that left: on Fastify it is hijacked, so the exception layer's answer is a
 * bare end of the raw response rather than Fastify's send pipeline (serializer, onSend hooks).
 */
export function abandonReply(response: unknown): void {
  if (isFastifyReply(response)) response.hijack?.();
}

/** Whether the response has already started (then the guard must not write). */
export function responseStarted(response: unknown): boolean {
  if (isFastifyReply(response)) return response.sent || response.raw.headersSent;
  return (response as ServerResponse).headersSent === true;
}

/**
 * Writes the problem answer with the platform's own API (so its hooks and HEAD handling apply), the same
 * calls the Express and Fastify adapters make. Resolves once the response has ended, so Nest's exception
 * layer, which runs next, sees it as sent and only ends it.
 */
export function writeAnswer(response: unknown, answer: ProblemResponse): Promise<void> {
  let raw: ServerResponse;
  if (isFastifyReply(response)) {
    // A Buffer, so Fastify sends the content type as given (it appends a charset to JSON-ish strings).
    response.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
    raw = response.raw;
  } else if (typeof (response as ExpressLikeResponse).set === 'function') {
    (response as ExpressLikeResponse).status(answer.status).set(answer.headers).end(answer.body);
    raw = response as ServerResponse;
  } else {
    raw = response as ServerResponse;
    raw.writeHead(answer.status, answer.headers).end(answer.body);
  }
  // Fastify's onSend hooks may finish the response asynchronously.
  if (raw.writableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      raw.off('finish', done);
      raw.off('close', done);
      resolve();
    };
    raw.once('finish', done);
    raw.once('close', done);
  });
}
