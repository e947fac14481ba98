/**
 * The bridge on a request whose user is revoked while its decision waits on GenAuth, answered 401
 * `revoked`: its decision span and the decisions metric record that refusal (deny, revoked), never
 * an allow. Over real HTTP (Express + the emulator, the grants call held by a latency fault).
 */
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { closeAfterEach, RESOURCES, resetToAliceReading, until, useEmulator } from '../fixtures.js';
import { points, startTestSdk, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('alice', [
    { resourceCode: 'reports', actions: ['reports:Read'] },
    { resourceCode: 'reports-api', resourceType: 'API', actions: ['read'], apiIdentifier: '/reports' },
  ]);
  sdk = startTestSdk();
});
afterEach(async () => {
  otel?.disable();
  otel = undefined;
  await sdk.shutdown();
});

describe.each([
  ['the cache', {}],
  ['cache: false', { cache: false as const }],
])('%s', (_mode, extra) => {
  it.each(['route', 'api'] as const)('%s: the span and the metric record the refusal as revoked', async (kind) => {
    const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: false, ...extra }));
    otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.use(guard.api(), (_req, res) => void res.send('ok'));
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const answer = request(app).get(kind === 'route' ? '/r' : '/reports').set('authorization', auth).then((response) => response);
    await until(() => emulator().callCount(RESOURCES) >= 1);
    guard.revokeUser('alice');
    expect((await answer).status).toBe(401);

    const decisions = sdk.spans().filter((span) => span.name === 'genauth-guard.decision');
    expect(decisions).toHaveLength(1);
    expect(decisions[0]?.attributes).toMatchObject({ 'genauth_guard.decision.outcome': 'deny', 'genauth_guard.decision.reason': 'revoked' });
    expect(points((await sdk.metrics()).get('genauth_guard.decisions'))).toEqual([
      { attributes: { 'genauth_guard.decision.outcome': 'deny', 'genauth_guard.decision.reason': 'revoked' }, value: 1 },
    ]);
  });
});
