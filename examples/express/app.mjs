// The example API: one route protected by a resource code computed from the request.
import express from 'express';

/** @param {import('genauth-guard/express').ExpressGuard} guard */
export function buildApp(guard) {
  const app = express();
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.post(
    '/api/v1/servers/:id/start',
    guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'),
    (req, res) => res.json({ started: req.params.id, by: req.genauth.identity.userId }),
  );
  app.get(
    '/api/v1/reports',
    guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }),
    (req, res) => res.json({ reports: [], for: req.genauth.identity.userId }),
  );
  return app;
}
