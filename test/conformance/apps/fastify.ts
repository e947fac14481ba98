/**
 * Conformance row for Fastify 5. The routes use each way of protecting a route: `config.genauth`, a
 * `preHandler`, an `onRequest` hook, and `authenticate()`.
 */
import type { Http2Server } from 'node:http2';
import Fastify, { type FastifyHttp2Options, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { genauthFrameworkErrors, genauthGuard } from '../../../src/adapters/fastify.js';
import type { AdapterRow, ApiAppFixture, AppFixture, RunningApp } from '../row.js';

/** Fastify's logger, written to `fixture.log` (every level) when the suite listens; off otherwise. */
function logger(fixture: AppFixture): FastifyServerOptions['logger'] {
  const log = fixture.log;
  return log ? { level: 'trace', stream: { write: (line: string) => log(line) } } : false;
}

/** Hands the errors that reach Fastify's error handling to `fixture.passed` (an `onError` hook only observes). */
function observeErrors(app: FastifyInstance, fixture: AppFixture): void {
  const passed = fixture.passed;
  if (passed) app.addHook('onError', async (_request, _reply, error) => passed(error));
}

/** The standard app; `http2` serves it over cleartext HTTP/2 (the HTTP/2 suite). */
export async function standard(fixture: AppFixture, http2 = false): Promise<RunningApp> {
  const app = (http2 ? Fastify({ http2: true, logger: logger(fixture) } as FastifyHttp2Options<Http2Server>) : Fastify({ logger: logger(fixture) })) as unknown as FastifyInstance;
  observeErrors(app, fixture);
  await app.register(genauthGuard, fixture.webhook ? { ...fixture.options, webhook: { path: '/hooks/genauth', ...fixture.webhook } } : fixture.options);
  const handler = async (request: FastifyRequest, _reply: FastifyReply) => {
    fixture.handled();
    return { ok: true, user: request.genauth?.identity.userId, reason: request.genauth?.decision?.reason };
  };
  app.post(
    '/api/v1/servers/:id/start',
    { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } },
    handler,
  );
  app.get('/api/v1/reports', { preHandler: app.genauth.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }) }, handler);
  app.delete('/api/v1/disks/:id', { onRequest: app.genauth.requirePermission(async (req) => `disk:${req.params.id}`, 'disk:Delete') }, handler);
  app.get('/api/v1/me', { onRequest: app.genauth.authenticate() }, handler);
  return listen(app, fixture.webhook && '/hooks/genauth');
}

async function listen(app: FastifyInstance, webhookPath?: string): Promise<RunningApp> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    core: app.genauth.core,
    ...(webhookPath === undefined ? {} : { webhookPath }),
    close: () => app.close(), // the plugin closes the guard on onClose
  };
}

/**
 * API mode through the plugin's `api` option, in front of one catch-all route; `frameworkErrors` lets
 * the guard answer the targets Fastify's router refuses before any hook. The router folds case and
 * ignores a trailing slash, as Express's does and the oracle assumes: ALLOW patterns and public paths
 * follow the router's rules (test/paths/router-options.test.ts replays Fastify's own defaults).
 */
export async function apiMode(fixture: ApiAppFixture, http2 = false): Promise<RunningApp> {
  const options = { frameworkErrors: genauthFrameworkErrors, routerOptions: { caseSensitive: false, ignoreTrailingSlash: true }, logger: logger(fixture) };
  const app = (http2 ? Fastify({ ...options, http2: true } as unknown as FastifyHttp2Options<Http2Server>) : Fastify(options)) as unknown as FastifyInstance;
  observeErrors(app, fixture);
  await app.register(genauthGuard, { ...fixture.options, api: fixture.api });
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/*',
    handler: async (request) => {
      fixture.handled();
      return { ok: true, user: request.genauth?.identity.userId ?? null };
    },
  });
  return listen(app);
}

export const fastifyRow: AdapterRow = { name: 'Fastify 5', start: (fixture) => standard(fixture), startApi: (fixture) => apiMode(fixture) };
