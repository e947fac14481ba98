// The Koa snippets of docs/koa.md, run by test/docs/examples.test.ts against the emulator.
// #region koa-imports
import Koa from 'koa';
import Router from '@koa/router';
import { createKoaGuard, type KoaGuardOptions } from 'genauth-guard/koa';
// #endregion koa-imports

export function koaApp(options: KoaGuardOptions) {
  // #region koa
  const guard = createKoaGuard(options); // the same options as on Express

  const router = new Router();
  router.post('/api/v1/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), (ctx) => {
    ctx.body = { by: ctx.state.genauth!.identity.userId }; // ctx.state.genauth: identity and decision, typed
  });
  router.get('/api/v1/me', guard.authenticate(), (ctx) => {
    ctx.body = { userId: ctx.state.genauth!.identity.userId };
  });
  router.post('/hooks/genauth', guard.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET! }));

  const app = new Koa();
  app.use(router.routes()).use(router.allowedMethods());
  // #endregion koa
  return { app, guard };
}

export function koaApiApp(options: KoaGuardOptions) {
  // #region koa-api
  const guard = createKoaGuard(options);
  const app = new Koa();
  app.use(guard.api({ publicPaths: ['/health'] })); // every request: method and path against the API grants
  app.use((ctx) => {
    ctx.body = { path: ctx.path, user: ctx.state.genauth?.identity.userId ?? null }; // unset on public paths
  });
  // #endregion koa-api
  return { app, guard };
}
