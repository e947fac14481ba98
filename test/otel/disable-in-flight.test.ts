/**
 * `disable()` while a decision waits, over real HTTP (Express + the emulator): a span started before it
 * is still ended when its decision (or its load) ends, with its outcome, as OpenTelemetry requires of
 * every span started; a decision that starts after it gets none; once the last such span has ended, the
 * bridge has no subscriber left, so the guard stops tracing.
 */
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, RESOURCES, resetToAliceReading, until, useEmulator } from '../fixtures.js';
import { startTestSdk, useDiagWarnings, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const warnings = useDiagWarnings();

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
beforeEach(() => {
  resetToAliceReading(emulator());
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
});
afterEach(async () => {
  otel.disable();
  await sdk.shutdown();
});

const spanNamed = (name: string) => sdk.spans().filter((span) => span.name === name);
const CHANNELS = ['genauth-guard:decision', 'genauth-guard:cache', 'genauth-guard:token'];
const TRACING = ['genauth-guard:decision', 'genauth-guard:load'];

it('a decision waiting on GenAuth at disable(): its decision and load spans end when it ends, later decisions get none', async () => {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const alice = await bearerFor(emulator(), 'alice');
  const bob = await bearerFor(emulator(), 'bob');
  // Alice's grants are answered a second late: her decision and its load are open meanwhile.
  emulator().fault({ kind: 'latency', ms: 1000, path: RESOURCES, times: 1 });
  const waiting = request(app).get('/r').set('authorization', alice).then((res) => res.status);
  await until(() => emulator().callCount(RESOURCES) === 1, 5000, "alice's grants asked for");

  otel.disable();
  expect(sdk.spans()).toEqual([]);
  // Bob's decision starts after disable(): no span, though alice's are still open.
  expect((await request(app).get('/r').set('authorization', bob)).status).toBe(403);
  expect(sdk.spans()).toEqual([]);

  expect(await waiting).toBe(200);
  const [decision, ...moreDecisions] = spanNamed('genauth-guard.decision');
  const [load, ...moreLoads] = spanNamed('genauth-guard.load');
  expect(moreDecisions).toEqual([]);
  expect(moreLoads).toEqual([]);
  expect(decision?.attributes).toMatchObject({ 'genauth_guard.resource': 'reports', 'genauth_guard.cache.result': 'miss', 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' });
  expect(load?.attributes).toMatchObject({ 'url.path': RESOURCES, 'genauth_guard.status_class': '2xx' });
  expect(load?.parentSpanContext?.spanId).toBe(decision?.spanContext().spanId);
  expect(warnings).toEqual([]);

  // The last span ended: nothing of the bridge is left subscribed, the guard no longer traces.
  for (const name of CHANNELS) expect(diagnostics.channel(name).hasSubscribers, name).toBe(false);
  for (const name of TRACING) expect(diagnostics.tracingChannel(name).hasSubscribers, name).toBe(false);
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect(sdk.spans()).toHaveLength(2);
});

it('disable() with no span open unsubscribes at once', () => {
  otel.disable();
  for (const name of CHANNELS) expect(diagnostics.channel(name).hasSubscribers, name).toBe(false);
  for (const name of TRACING) expect(diagnostics.tracingChannel(name).hasSubscribers, name).toBe(false);
});
