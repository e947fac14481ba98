/** Conformance row for Koa 3 with @koa/router. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import { createKoaGuard } from '../../../src/adapters/koa.js';
import type { AdapterRow, ApiAppFixture, AppFixture, RunningApp } from '../row.js';

async function listen(server: Server, closeGuard: () => Promise<void>): Promise<RunningApp> {
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await closeGuard();
    },
  };
}

function standard(fixture: AppFixture): Promise<RunningApp> {
  const guard = createKoaGuard(fixture.options);
  const app = new Koa();
  const router = new Router();
  const handler: Middleware = (ctx) => {
    fixture.handled();
    ctx.body = { ok: true, user: ctx.state.genauth?.identity.userId, reason: ctx.state.genauth?.decision?.reason };
  };
  router.post('/api/v1/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), handler);
  router.get('/api/v1/reports', guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), handler);
  router.delete('/api/v1/disks/:id', guard.requirePermission(async (ctx) => `disk:${ctx.params.id}`, 'disk:Delete'), handler);
  router.get('/api/v1/me', guard.authenticate(), handler);
  app.use(router.routes()).use(router.allowedMethods());
  return listen(app.listen(0, '127.0.0.1'), () => guard.close());
}

function apiMode(fixture: ApiAppFixture): Promise<RunningApp> {
  const guard = createKoaGuard(fixture.options);
  const app = new Koa();
  app.use(guard.api(fixture.api));
  app.use((ctx) => {
    fixture.handled();
    ctx.body = { ok: true, user: ctx.state.genauth?.identity.userId ?? null };
  });
  return listen(app.listen(0, '127.0.0.1'), () => guard.close());
}

export const koaRow: AdapterRow = { name: 'Koa 3', start: standard, startApi: apiMode };
