/**
 * Fastify's `frameworkErrors` for API mode, shared by the Fastify plugin and the Nest module on Fastify.
 * Fastify refuses a path whose parameters are not valid percent-encoding (`FST_ERR_BAD_URL`) before any
 * hook or guard runs; with this option the core judges the raw target, and the answer is the one every
 * other adapter gives. Read by shape: no Fastify import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/**
 * The Fastify request and reply as `frameworkErrors` receives them (structural, no Fastify import), on
 * an instance over HTTP/1.1 or HTTP/2 (`http2: true`).
 */
export interface FrameworkErrorRequest {
  server?: unknown;
  raw: IncomingMessage | Http2ServerRequest;
}
export interface FrameworkErrorReply {
  raw: ServerResponse | Http2ServerResponse;
  sent: boolean;
  send(payload?: unknown): unknown;
}

/**
 * API mode for a request the router refused: resolves true when the guard answered (or handed its error
 * on), false when it would let the target through; then there is no route for it anyway, and the
 * framework's own error stands.
 */
export type UnroutedHandler = (request: FrameworkErrorRequest, reply: FrameworkErrorReply) => Promise<boolean>;

/** Fastify instance (the root one, which `frameworkErrors` requests report as `server`) -> its handler. */
const handlers = new WeakMap<object, UnroutedHandler>();

/** Registers the API-mode handler of the app built on `instance`. */
export function handleUnrouted(instance: object, handler: UnroutedHandler): void {
  handlers.set(instance, handler);
}

/**
 * Fastify's `frameworkErrors` for API mode. Other framework errors, and instances without API mode
 * (the plugin's `api` option, the Nest module's), get Fastify's usual error answer.
 * @example const fastify = Fastify({ frameworkErrors: genauthFrameworkErrors });
 * @example const app = await NestFactory.create(AppModule, new FastifyAdapter({ frameworkErrors: genauthFrameworkErrors }));
 */
export function genauthFrameworkErrors(error: { code?: string }, request: FrameworkErrorRequest, reply: FrameworkErrorReply): void {
  const server = request.server;
  const handler = typeof server === 'object' && server !== null ? handlers.get(server) : undefined;
  const fallback = (): void => void reply.send(error);
  if (handler === undefined || error.code !== 'FST_ERR_BAD_URL') return fallback();
  handler(request, reply).then(
    (answered) => {
      if (!answered) fallback();
    },
    (thrown: unknown) => void reply.send(thrown),
  );
}
