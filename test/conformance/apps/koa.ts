/** Conformance rows for Koa 3 and Koa 2 (installed as `koa2`) with @koa/router. */
import Koa, { type Middleware } from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import { createKoaGuard, type KoaGuard } from '../../../src/adapters/koa.js';
import type { AdapterRow, ApiAppFixture, AppFixture, RunningApp } from '../row.js';
import { runningApp } from './running.js';

/** First middleware: hands the errors thrown downstream to `fixture.passed`, then on to Koa's handler. */
function observeErrors(app: Koa, fixture: AppFixture): void {
  const passed = fixture.passed;
  if (passed) {
    app.use(async (_ctx, next) => {
      try {
        await next();
      } catch (error) {
        passed(error);
        throw error;
      }
    });
  }
}

export type KoaClass = typeof Koa;

/** The standard app and its guard, not yet listening (the HTTP/2 suite serves its callback over `node:http2`). */
export function koaStandardApp(KoaApp: KoaClass, fixture: AppFixture): { app: Koa; guard: KoaGuard } {
  const guard = createKoaGuard(fixture.options);
  const app = new KoaApp();
  observeErrors(app, fixture);
  const router = new Router();
  const handler: Middleware = (ctx) => {
    fixture.handled();
    ctx.body = { ok: true, user: ctx.state.genauth?.identity.userId, reason: ctx.state.genauth?.decision?.reason };
  };
  router.post('/api/v1/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), handler);
  router.get('/api/v1/reports', guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), handler);
  router.delete('/api/v1/disks/:id', guard.requirePermission(async (ctx) => `disk:${ctx.params.id}`, 'disk:Delete'), handler);
  router.get('/api/v1/me', guard.authenticate(), handler);
  if (fixture.webhook) router.post('/hooks/genauth', guard.webhook(fixture.webhook));
  app.use(router.routes()).use(router.allowedMethods());
  return { app, guard };
}

function standard(KoaApp: KoaClass, fixture: AppFixture): Promise<RunningApp> {
  const { app, guard } = koaStandardApp(KoaApp, fixture);
  return runningApp(app.listen(0, '127.0.0.1'), guard.core, fixture.webhook && '/hooks/genauth');
}

/** The API-mode app and its guard, not yet listening. */
export function koaApiApp(KoaApp: KoaClass, fixture: ApiAppFixture): { app: Koa; guard: KoaGuard } {
  const guard = createKoaGuard(fixture.options);
  const app = new KoaApp();
  observeErrors(app, fixture);
  app.use(guard.api(fixture.api));
  app.use((ctx) => {
    fixture.handled();
    ctx.body = { ok: true, user: ctx.state.genauth?.identity.userId ?? null };
  });
  return { app, guard };
}

function apiMode(KoaApp: KoaClass, fixture: ApiAppFixture): Promise<RunningApp> {
  const { app, guard } = koaApiApp(KoaApp, fixture);
  return runningApp(app.listen(0, '127.0.0.1'), guard.core);
}

function row(name: string, KoaApp: KoaClass): AdapterRow {
  return { name, start: (fixture) => standard(KoaApp, fixture), startApi: (fixture) => apiMode(KoaApp, fixture) };
}

export const koaRow = row('Koa 3', Koa);
export const koa2Row = row('Koa 2', Koa2 as unknown as KoaClass);
