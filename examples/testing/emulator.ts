// The snippets of docs/testing.md, run by test/docs/examples.test.ts.
import express from 'express';
import { createExpressGuard, unguardedRoutes } from 'genauth-guard/express';
import { startEmulator } from 'genauth-guard/testing';

export async function emulatorExample() {
  // #region emulator
  const emulator = await startEmulator(); // 127.0.0.1, a free port
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);

  const guard = createExpressGuard(emulator.guardOptions()); // management token scheme
  const signed = createExpressGuard({
    ...emulator.guardOptions(),
    genauth: { ...emulator.guardOptions().genauth, authScheme: 'signature' }, // AK/SK signature scheme
  });
  const token = await emulator.mintToken('alice'); // an RS256 user access token, verifiable via emulator.jwksUri
  // #endregion emulator
  return { emulator, guard, signed, token };
}

export function unguardedExample(guard: ReturnType<typeof createExpressGuard>) {
  const app = express();
  app.get('/api/v1/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.json([]));
  app.get('/api/v1/forgotten', (_req, res) => res.json({ oops: true }));
  // #region unguarded
  const routes = unguardedRoutes(app); // [{ method: 'GET', path: '/api/v1/forgotten' }]: nothing guards it
  // In a test: expect(unguardedRoutes(app)).toEqual([]);
  // #endregion unguarded
  return routes;
}
