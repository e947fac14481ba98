/**
 * Requests the platform's router refuses before any Nest guard runs: a route parameter that is not
 * valid percent-encoding (`/servers/%ZZ`). Under API mode the guard must judge the raw target exactly as
 * every other adapter does (a 400 problem+json from the core), so these two hooks hand such requests to
 * the core: on Express an error middleware placed ahead of Nest's own error handler (automatic), on
 * Fastify the `frameworkErrors` option (opt-in, Fastify reads it only at construction).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { enforceApi } from '../../api-mode.js';
import { asGuardError, problemResponse } from '../../problem.js';
import { nestRequest, responseStarted, writeAnswer } from './platform.js';
import type { GenAuthService } from './service.js';

/** Platform instance (Fastify instance, Express app) -> the service of the app built on it. */
const services = new WeakMap<object, GenAuthService>();

/** The part of Nest's HttpAdapterHost used here. */
export interface AdapterHostLike {
  httpAdapter?: { getType?(): string; getInstance?(): unknown; use?(...handlers: unknown[]): unknown } | null;
}

/**
 * Runs API mode on a request the router refused. Resolves `true` when the guard answered (the core
 * refused the target or the caller), `false` when the core would let it through: then the platform's
 * own error stands, as there is no route for it anyway.
 */
async function answerUnrouted(service: GenAuthService, request: unknown, response: unknown): Promise<boolean> {
  if (service.api === undefined || responseStarted(response)) return false;
  try {
    await enforceApi(service.core, nestRequest(request), service.api);
    return false;
  } catch (error) {
    await writeAnswer(response, problemResponse(asGuardError(error)));
    return true;
  }
}

/** Binds the service to the app's platform once Nest has registered the routes (`onModuleInit`). */
export function bindPlatform(service: GenAuthService, host: AdapterHostLike | undefined): void {
  const adapter = host?.httpAdapter;
  const instance = adapter?.getInstance?.();
  if (typeof instance !== 'function' && (typeof instance !== 'object' || instance === null)) return;
  services.set(instance, service);
  if (service.api === undefined || adapter?.getType?.() !== 'express' || typeof adapter.use !== 'function') return;
  // Added after the routes and before Nest's global error handler, which Nest registers next.
  adapter.use(function genauthUnrouted(error: unknown, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) {
    // Express's router throws a URIError (status 400) for a parameter it cannot decode.
    if (!(error instanceof URIError) || service.passErrors) return next(error);
    answerUnrouted(service, req, res).then(
      (answered) => {
        if (!answered) next(error);
      },
      () => next(error),
    );
  });
}

/** The Fastify request and reply as `frameworkErrors` receives them (structural, no Fastify import). */
export interface FrameworkErrorRequest {
  server?: unknown;
  raw: IncomingMessage;
}
export interface FrameworkErrorReply {
  raw: ServerResponse;
  sent: boolean;
  send(payload?: unknown): unknown;
}

/**
 * Fastify's `frameworkErrors` for a Nest app in API mode: Fastify refuses a path whose parameters are not
 * valid percent-encoding (`FST_ERR_BAD_URL`) before any hook or guard runs; with this option the core
 * judges the raw target and the answer is the same as on every other adapter. Other framework errors,
 * and apps without `api`, get Fastify's usual answer.
 * @example const app = await NestFactory.create(AppModule, new FastifyAdapter({ frameworkErrors: genauthFrameworkErrors }));
 */
export function genauthFrameworkErrors(error: { code?: string }, request: FrameworkErrorRequest, reply: FrameworkErrorReply): void {
  const server = request.server;
  const service = typeof server === 'object' && server !== null ? services.get(server) : undefined;
  const fallback = (): void => void reply.send(error);
  if (service === undefined || service.passErrors || error.code !== 'FST_ERR_BAD_URL') return fallback();
  answerUnrouted(service, request, reply).then(
    (answered) => {
      if (!answered) fallback();
    },
    fallback,
  );
}
