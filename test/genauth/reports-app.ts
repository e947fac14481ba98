/**
 * An Express app with one route requiring reports:Read on `reports`, over the emulator, for tests of
 * how upstream answers come out: error results are not cached (`errorTtl: 0`) and the guard's warnings
 * are kept in `lines`. `overrides.genauth` is merged into the emulator's `genauth` options.
 */
import express from 'express';
import request from 'supertest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';

export function reportsApp(emulator: GenAuthEmulator, track: (guard: ExpressGuard) => ExpressGuard, overrides: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const base = emulator.guardOptions();
  const guard = createExpressGuard({
    ...base,
    cache: { errorTtl: 0 },
    logger: { warn: (line: string) => lines.push(line) },
    ...overrides,
    genauth: { ...base.genauth, ...overrides.genauth },
  });
  track(guard);
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { server, lines, guard };
}

/** GET /r with a fresh token of `user`. */
export async function getReports(emulator: GenAuthEmulator, server: express.Express, user = 'alice') {
  return request(server).get('/r').set('authorization', `Bearer ${await emulator.mintToken(user)}`);
}
