// The example API on Koa: the same routes as examples/express, protected by genauth-guard/koa.
import Koa from 'koa';
import Router from '@koa/router';

/** @param {import('genauth-guard/koa').KoaGuard} guard */
export function buildApp(guard) {
  const app = new Koa();
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { ok: true };
  });
  router.post(
    '/api/v1/servers/:id/start',
    guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'),
    (ctx) => {
      ctx.body = { started: ctx.params.id, by: ctx.state.genauth.identity.userId };
    },
  );
  router.get(
    '/api/v1/reports',
    guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }),
    (ctx) => {
      ctx.body = { reports: [], for: ctx.state.genauth.identity.userId };
    },
  );
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
