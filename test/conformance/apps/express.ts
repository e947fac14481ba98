/** Conformance rows for Express 4 and 5: the reference adapter. */
import express5 from 'express';
import express4 from 'express4';
import type { Express, NextFunction, Request, Response } from 'express';
import { createExpressGuard } from '../../../src/adapters/express.js';
import type { AdapterRow, ApiAppFixture, AppFixture, RunningApp } from '../row.js';
import { runningApp } from './running.js';

type ExpressFactory = typeof express5;

/** Hands the errors that reach Express's error layer to `fixture.passed`, then to the stock handler. */
function observeErrors(app: Express, fixture: AppFixture): void {
  const passed = fixture.passed;
  if (passed) {
    app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
      passed(error);
      next(error);
    });
  }
}

function standard(express: ExpressFactory, fixture: AppFixture): Promise<RunningApp> {
  const guard = createExpressGuard(fixture.options);
  const app = express();
  const handler = (req: Request, res: Response) => {
    fixture.handled();
    res.json({ ok: true, user: req.genauth?.identity.userId, reason: req.genauth?.decision?.reason });
  };
  app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), handler);
  app.get('/api/v1/reports', guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), handler);
  app.delete('/api/v1/disks/:id', guard.requirePermission(async (req) => `disk:${req.params.id}`, 'disk:Delete'), handler);
  app.get('/api/v1/me', guard.authenticate(), handler);
  if (fixture.webhook) app.post('/hooks/genauth', guard.webhook(fixture.webhook));
  observeErrors(app, fixture);
  return runningApp(app.listen(0, '127.0.0.1'), guard.core, fixture.webhook && '/hooks/genauth');
}

function apiMode(express: ExpressFactory, fixture: ApiAppFixture): Promise<RunningApp> {
  const guard = createExpressGuard(fixture.options);
  const app = express();
  app.use(guard.api(fixture.api));
  app.use((req: Request, res: Response) => {
    fixture.handled();
    res.json({ ok: true, user: req.genauth?.identity.userId ?? null });
  });
  observeErrors(app, fixture);
  return runningApp(app.listen(0, '127.0.0.1'), guard.core);
}

function row(name: string, express: ExpressFactory): AdapterRow {
  return { name, start: (fixture) => standard(express, fixture), startApi: (fixture) => apiMode(express, fixture) };
}

export const express4Row = row('Express 4', express4 as unknown as ExpressFactory);
export const express5Row = row('Express 5', express5);
