import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { expect, it } from 'vitest';
import { createExpressGuard } from '../src/adapters/express.js';
import type { DecisionEvent, UpstreamEvent } from '../src/events.js';
import { useEmulator } from './fixtures.js';

const emulator = useEmulator();

it('publishes decisions and upstream calls on diagnostics channels', async () => {
  emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  const decisions: DecisionEvent[] = [];
  const upstream: UpstreamEvent[] = [];
  const onDecision = (event: unknown) => decisions.push(event as DecisionEvent);
  const onUpstream = (event: unknown) => upstream.push(event as UpstreamEvent);
  diagnostics.subscribe('genauth-guard:decision', onDecision);
  diagnostics.subscribe('genauth-guard:upstream', onUpstream);
  const guard = createExpressGuard(emulator().guardOptions());
  try {
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    expect((await request(app).get('/w').set('authorization', token)).status).toBe(403);
    expect(decisions).toEqual([
      { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed' },
      { userId: 'alice', resource: 'reports', actions: ['reports:Write'], allowed: false, reason: 'no_grant' },
    ]);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]).toMatchObject({ path: '/api/v3/get-user-authorized-resources', outcome: 'ok', attempt: 0 });
  } finally {
    diagnostics.unsubscribe('genauth-guard:decision', onDecision);
    diagnostics.unsubscribe('genauth-guard:upstream', onUpstream);
    await guard.close();
  }
});
