/**
 * Nothing is published, and so no payload built, while no one subscribes: every publish and trace
 * entry point is wrapped and must never be called then. Subscribing turns them on, unsubscribing off.
 */
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, expect, it, vi } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { channels, moreChannels, tracing } from '../../src/events.js';
import { createWebhookReceiver } from '../../src/webhooks/receiver.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

afterEach(() => {
  vi.restoreAllMocks();
  emulator().clearFaults();
});

/** Spies on every way the package could publish; returns how many calls each saw. */
function spyAll(): () => Record<string, number> {
  const spies: Record<string, { mock: { calls: unknown[] } }> = {};
  for (const [name, channel] of Object.entries({ ...channels, ...moreChannels })) spies[name] = vi.spyOn(channel, 'publish');
  for (const [name, trace] of Object.entries(tracing)) {
    spies[`${name}.tracePromise`] = vi.spyOn(trace, 'tracePromise');
    spies[`${name}.traceSync`] = vi.spyOn(trace, 'traceSync');
    for (const phase of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) spies[`${name}.${phase}`] = vi.spyOn(trace[phase], 'publish');
  }
  return () => Object.fromEntries(Object.entries(spies).map(([name, spy]) => [name, spy.mock.calls.length]));
}

/**
 * A run that touches every event: miss, hit (route and API mode, allowed and denied: the synchronous
 * decisions), deny, stale after an upstream error, a retry refused, bad tokens and none, invalidation.
 */
async function exercise(): Promise<void> {
  const time = manualClock();
  emulator().clearFaults();
  emulator().setGrants('alice', [
    { resourceCode: 'reports', actions: ['reports:Read'] },
    { resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/users', actions: ['read'] },
  ]);
  const guard = createExpressGuard({
    ...emulator().guardOptions(),
    clock: time.clock,
    cache: { ttl: 1_000, maxStale: 60_000, staleWhileRevalidate: false, max: 1 },
    genauth: { ...emulator().guardOptions().genauth, retries: 3, retryBudget: { ratio: 0.2, minPerSecond: 0 } },
  });
  try {
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
    app.use('/api', guard.api(), (_req, res) => void res.send('ok'));
    const alice = `Bearer ${await emulator().mintToken('alice', { expiresIn: 3600 })}`;
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
    expect((await request(app).get('/api/users').set('authorization', alice)).status).toBe(200);
    expect((await request(app).delete('/api/users').set('authorization', alice)).status).toBe(403);
    expect(await guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })).toMatchObject({ allowed: true });
    expect((await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken('bob')}`)).status).toBe(403); // evicts alice
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    time.advance(2_000);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200); // stale
    for (const user of ['u1', 'u2']) expect((await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`)).status).toBe(503);
    expect((await request(app).get('/r').set('authorization', 'Bearer abc')).status).toBe(401);
    expect((await request(app).get('/r')).status).toBe(401); // no token at all
    guard.invalidateUser('alice');
    guard.invalidateAll();
    // Webhook deliveries: one mapped to an invalidation, one refused on its secret.
    const secret = 'zero-cost-webhook-secret-0123456789';
    const hooks = createWebhookReceiver(guard.core, { secret });
    const headers = { 'content-type': 'application/json', 'x-authing-webhook-secret': secret };
    expect((await hooks.receive({ method: 'POST', headers, body: JSON.stringify({ eventName: 'role:updated', data: {} }) })).status).toBe(204);
    expect(hooks.screen('POST', { ...headers, 'x-authing-webhook-secret': 'wrong' })?.status).toBe(401);
  } finally {
    await guard.close();
  }
}

it('publishes nothing and traces nothing while no one subscribes', async () => {
  const counts = spyAll();
  await exercise();
  expect(Object.entries(counts()).filter(([, n]) => n > 0)).toEqual([]);
});

it('publishes on every channel while subscribed, and stops once unsubscribed', async () => {
  const listener = () => {};
  const names = [
    'genauth-guard:decision', 'genauth-guard:upstream', 'genauth-guard:cache', 'genauth-guard:retry-refused', 'genauth-guard:token',
    'genauth-guard:webhook', 'genauth-guard:webhook:received', 'genauth-guard:webhook:rejected', 'genauth-guard:webhook:invalidation',
  ];
  const handlers = { start: listener, end: listener, asyncStart: listener, asyncEnd: listener, error: listener };
  names.forEach((name) => diagnostics.subscribe(name, listener));
  tracing.load.subscribe(handlers);
  tracing.decision.subscribe(handlers);
  let counts = spyAll();
  try {
    await exercise();
  } finally {
    names.forEach((name) => diagnostics.unsubscribe(name, listener));
    tracing.load.unsubscribe(handlers);
    tracing.decision.unsubscribe(handlers);
  }
  const seen = counts();
  for (const name of ['decision', 'upstream', 'cache', 'retryRefused', 'token', 'webhook', 'webhookReceived', 'webhookRejected', 'webhookInvalidation', 'load.tracePromise', 'decision.tracePromise', 'decision.traceSync', 'load.error']) {
    expect(seen[name], name).toBeGreaterThan(0);
  }
  vi.restoreAllMocks();
  counts = spyAll();
  await exercise();
  expect(Object.entries(counts()).filter(([, n]) => n > 0)).toEqual([]);
});
