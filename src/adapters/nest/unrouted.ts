/**
 * Requests the platform's router refuses before any Nest guard runs: a route parameter that is not
 * valid percent-encoding (`/servers/%ZZ`). Under API mode the guard must judge the raw target exactly as
 * every other adapter does (a 400 problem+json from the core), so these two hooks hand such requests to
 * the core: on Express an error middleware placed ahead of Nest's own error handler (automatic), on
 * Fastify the shared `genauthFrameworkErrors` option (opt-in, Fastify reads it only at construction).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asGuardError, problemResponse } from '../../problem.js';
import { handleUnrouted } from '../framework-errors.js';
import { nestRequest, responseStarted, writeAnswer } from './platform.js';
import type { GenAuthService } from './service.js';

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
    await service.core.enforceApi(nestRequest(request), service.api, request);
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
  if (service.api === undefined) return;
  // Fastify: for genauthFrameworkErrors. With passErrors, Fastify's own error stands.
  handleUnrouted(instance, (request, reply) => (service.passErrors ? Promise.resolve(false) : answerUnrouted(service, request, reply).catch(() => false)));
  if (adapter?.getType?.() !== 'express' || typeof adapter.use !== 'function') return;
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
