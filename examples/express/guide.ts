// The Express snippets of docs/express.md, docs/api-mode.md and docs/genauth-setup.md, each a function
// of the guard options so test/docs/examples.test.ts can run it against the emulator.
import cors from 'cors';
import express, { Router } from 'express';
import { createExpressGuard, type ExpressGuardOptions } from 'genauth-guard/express';

export function routesApp(options: ExpressGuardOptions) {
  // #region routes
  const guard = createExpressGuard(options);
  const app = express();

  // The resource: a string, or a function of the request (sync or async).
  app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
    res.json({ by: req.genauth!.identity.userId }); // req.genauth: identity and decision, typed
  });
  // The requirement: one action, { allOf: [...] } or { anyOf: [...] }.
  app.get('/api/v1/reports', guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), (_req, res) => {
    res.json({ reports: [] });
  });
  // Only grants of one resource type count on this route.
  app.post('/api/v1/servers/:id/stop', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Stop', { resourceType: 'API' }), (req, res) => {
    res.json({ stopped: req.params.id });
  });
  // A valid token, no permission.
  app.get('/api/v1/me', guard.authenticate(), (req, res) => {
    res.json({ userId: req.genauth!.identity.userId });
  });
  // #endregion routes
  return { app, guard };
}

export async function checkOutsideHttp(options: ExpressGuardOptions) {
  const guard = createExpressGuard(options);
  // #region check
  const decision = await guard.check({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' });
  if (!decision.allowed) console.log(`refused: ${decision.reason}`); // 'denied' or 'no_grant'
  // #endregion check
  await guard.close();
  return decision;
}

export function apiModeApp(options: ExpressGuardOptions) {
  const v1Router = Router();
  v1Router.get('/users', (_req, res) => res.json({ users: [] }));
  v1Router.delete('/users/:id', (_req, res) => res.status(204).end());
  // #region api-mode
  const guard = createExpressGuard(options);
  const app = express();
  app.use(cors()); // answers CORS preflights before the guard sees them (see "CORS preflights")
  app.use(guard.api({ publicPaths: ['/health', '/docs/*'] })); // everything else needs a token and a grant
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.use('/api/v1', v1Router);
  // #endregion api-mode
  return { app, guard };
}

export function webhookApp(options: ExpressGuardOptions) {
  const guard = createExpressGuard(options);
  const app = express();
  // #region webhook
  // Before express.json() (or behind express.raw()): the route reads the raw bytes itself.
  app.post('/hooks/genauth', guard.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET! }));
  // #endregion webhook
  app.get('/api/v1/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.json({ reports: [] }));
  return { app, guard };
}
