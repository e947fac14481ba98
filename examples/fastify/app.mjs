// The example API on Fastify: the same routes as examples/express, protected by genauth-guard/fastify
// through route config and a preHandler.
import Fastify from 'fastify';

/**
 * @param {typeof import('genauth-guard/fastify').genauthGuard} genauthGuard the plugin (passed in so tests can use the sources)
 * @param {import('genauth-guard/fastify').FastifyGuardOptions} options
 */
export async function buildApp(genauthGuard, options) {
  const app = Fastify();
  await app.register(genauthGuard, options);
  app.get('/health', { config: { genauth: { public: true } } }, async () => ({ ok: true }));
  app.post(
    '/api/v1/servers/:id/start',
    { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } },
    async (req) => ({ started: req.params.id, by: req.genauth.identity.userId }),
  );
  app.get(
    '/api/v1/reports',
    { preHandler: app.genauth.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }) },
    async (req) => ({ reports: [], for: req.genauth.identity.userId }),
  );
  return app;
}
