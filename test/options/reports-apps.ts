/**
 * Express apps with one route requiring reports:Read on `reports`, over the emulator, for the option
 * tests that check an option's effect over HTTP: alice holds that grant (resetToAliceReading), and
 * every guard made is closed after each test.
 */
import express from 'express';
import { afterEach, beforeEach } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { resetToAliceReading } from '../fixtures.js';

/** Registers the hooks; the returned function builds an app (it throws what createExpressGuard throws). */
export function useReportsApps(emulator: () => GenAuthEmulator): (options: ExpressGuardOptions) => express.Express {
  let guards: ExpressGuard[] = [];
  beforeEach(() => resetToAliceReading(emulator()));
  afterEach(async () => {
    await Promise.all(guards.map((guard) => guard.close()));
    guards = [];
  });
  return (options) => {
    const guard = createExpressGuard(options);
    guards.push(guard);
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    return app;
  };
}
