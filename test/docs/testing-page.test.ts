// docs/testing.md, "A test, start to finish": the region below is the page's block, a test as a user
// writes it (the package imported by its name, so `npm run build` first), run as it stands.
// #region user-test
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createExpressGuard, unguardedRoutes, type ExpressGuard } from 'genauth-guard/express';
import { startEmulator, type GenAuthEmulator } from 'genauth-guard/testing';

let emulator: GenAuthEmulator;
let guard: ExpressGuard;
let app: express.Express;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  emulator.addUser('bob'); // known, with no grants
  guard = createExpressGuard(emulator.guardOptions());
  app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.json([]));
});

afterAll(async () => {
  await guard.close(); // its connections to GenAuth (here, the emulator)
  await emulator.close(); // its HTTP server
});

it('allows alice, refuses bob and a request without a token', async () => {
  await request(app).get('/reports').set('authorization', `Bearer ${await emulator.mintToken('alice')}`).expect(200);
  await request(app).get('/reports').set('authorization', `Bearer ${await emulator.mintToken('bob')}`).expect(403);
  await request(app).get('/reports').expect(401);
  expect(unguardedRoutes(app)).toEqual([]);
});
// #endregion user-test
