// The Fastify snippets of docs/fastify.md, run by test/docs/examples.test.ts against the emulator.
// #region fastify-imports
import Fastify from 'fastify';
import { genauthGuard, genauthFrameworkErrors, type FastifyGuardOptions } from 'genauth-guard/fastify';
// #endregion fastify-imports

export async function fastifyApp(options: FastifyGuardOptions) {
  // #region fastify
  const app = Fastify();
  await app.register(genauthGuard, options); // the same options as on Express, plus passErrors and webhook

  // 1. Route config: checked in an onRequest hook, before the body is parsed.
  app.post<{ Params: { id: string } }>(
    '/api/v1/servers/:id/start',
    { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } },
    async (req) => ({ by: req.genauth!.identity.userId }), // request.genauth: identity and decision
  );

  // 2. A hook, as preHandler (the body is parsed) or onRequest.
  app.post(
    '/api/v1/orders',
    { preHandler: app.genauth.requirePermission((req) => `order:${(req.body as { id: string }).id}`, 'order:Create') },
    async () => ({ created: true }),
  );

  // 3. Authentication only, and public routes.
  app.get('/api/v1/me', { onRequest: app.genauth.authenticate() }, async (req) => ({ userId: req.genauth!.identity.userId }));
  app.get('/health', { config: { genauth: { public: true } } }, async () => ({ ok: true }));
  // #endregion fastify
  return app;
}

export async function fastifyApiApp(options: FastifyGuardOptions) {
  // #region fastify-api
  // frameworkErrors: a path Fastify's router cannot decode gets the guard's 400 too.
  const app = Fastify({ frameworkErrors: genauthFrameworkErrors });
  await app.register(genauthGuard, {
    ...options,
    api: { publicPaths: ['/health'] }, // every request, in an onRequest hook, routed or not
    webhook: { path: '/hooks/genauth', secret: process.env.GENAUTH_WEBHOOK_SECRET! }, // a public route of its own
  });
  app.get('/api/v1/users', async () => ({ users: [] }));
  app.get('/health', async () => ({ ok: true }));
  // #endregion fastify-api
  return app;
}
