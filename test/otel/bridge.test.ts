/**
 * The OpenTelemetry bridge over real HTTP (Express + the emulator), recorded by the OpenTelemetry
 * SDK's in-memory span exporter and a metric reader: the spans and metrics docs/otel.md documents on
 * a miss that allows, a cached denial, an upstream error, and that disable() records nothing more
 * (decisions from the caches: warm-decisions.test.ts).
 */
import diagnostics from 'node:diagnostics_channel';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GuardOptions } from '../../src/options.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation, type GenAuthGuardInstrumentationOptions } from '../../src/otel/index.js';
import { manualClock } from '../clock.js';
import { bearerFor, closeAfterEach, RESOURCES, resetToAliceReading, useEmulator } from '../fixtures.js';
import { points, startTestSdk, valueOf, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const UPSTREAM_TEXT = 'UPSTREAM-TEXT-NEVER-RECORDED';

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
  sdk = startTestSdk();
});
afterEach(async () => {
  otel?.disable();
  otel = undefined;
  await sdk.shutdown();
});

function setUp(options: Partial<GuardOptions> = {}, bridge: Omit<GenAuthGuardInstrumentationOptions, 'tracerProvider' | 'meterProvider'> = {}) {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), ...options }));
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, ...bridge });
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return { guard, app };
}

const noRetries = () => ({ genauth: { ...emulator().guardOptions().genauth, retries: 0 } });
const spanNamed = (name: string) => sdk.spans().filter((span) => span.name === name);

describe('spans', () => {
  it('a miss that allows: a decision span (internal) with the load span (client) under it', async () => {
    const { app } = setUp();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);

    const [decision, ...moreDecisions] = spanNamed('genauth-guard.decision');
    const [load, ...moreLoads] = spanNamed('genauth-guard.load');
    expect(moreDecisions).toEqual([]);
    expect(moreLoads).toEqual([]);
    expect(decision?.kind).toBe(SpanKind.INTERNAL);
    expect(decision?.attributes).toEqual({
      'genauth_guard.resource': 'reports',
      'genauth_guard.cache.result': 'miss',
      'genauth_guard.decision.outcome': 'allow',
      'genauth_guard.decision.reason': 'allowed',
    });
    expect(decision?.status.code).toBe(SpanStatusCode.UNSET);
    expect(decision?.instrumentationScope.name).toBe('genauth-guard');
    expect(load?.kind).toBe(SpanKind.CLIENT);
    expect(load?.attributes).toEqual({ 'url.path': RESOURCES, 'genauth_guard.attempt': 0, 'genauth_guard.status_class': '2xx' });
    expect(load?.parentSpanContext?.spanId).toBe(decision?.spanContext().spanId);
    expect(load?.spanContext().traceId).toBe(decision?.spanContext().traceId);
  });

  it('a denial that waited: outcome deny with its reason', async () => {
    const { app } = setUp();
    expect((await request(app).get('/w').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(403);
    const [decision] = spanNamed('genauth-guard.decision');
    expect(decision?.attributes).toMatchObject({ 'genauth_guard.decision.outcome': 'deny', 'genauth_guard.decision.reason': 'no_grant', 'genauth_guard.cache.result': 'miss' });
    expect(decision?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('an upstream error: the load span and the decision span end in error, by kind and code only', async () => {
    const { app } = setUp(noRetries());
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const response = await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(response.status).toBe(503);

    const [load] = spanNamed('genauth-guard.load');
    expect(load?.attributes).toEqual({ 'url.path': RESOURCES, 'genauth_guard.attempt': 0, 'genauth_guard.status_class': '5xx', 'error.type': 'http_status' });
    expect(load?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(load?.events).toEqual([]);
    const [decision] = spanNamed('genauth-guard.decision');
    expect(decision?.attributes).toMatchObject({
      'genauth_guard.decision.outcome': 'error',
      'genauth_guard.decision.reason': 'ERR_PERMISSIONS_UNAVAILABLE',
      'error.type': 'ERR_PERMISSIONS_UNAVAILABLE',
    });
    expect(decision?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(load?.parentSpanContext?.spanId).toBe(decision?.spanContext().spanId);
  });

  it('API mode: the method and the canonical path (never the query)', async () => {
    emulator().setGrants('bob', [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/users', actions: ['read'] }]);
    const { guard } = setUp();
    const app = express();
    app.use('/api', guard.api(), (_req, res) => void res.send('ok'));
    expect((await request(app).get('/api/users?token=secret').set('authorization', await bearerFor(emulator(), 'bob'))).status).toBe(200);
    const [decision] = spanNamed('genauth-guard.decision');
    expect(decision?.attributes).toMatchObject({ 'http.request.method': 'GET', 'genauth_guard.resource': '/api/users', 'genauth_guard.decision.outcome': 'allow' });
    expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain('secret');
  });

  it('grants served stale: the decision span says so', async () => {
    const time = manualClock();
    const { app } = setUp({ clock: time.clock, cache: { ttl: 1_000, maxStale: 60_000, staleWhileRevalidate: true } });
    const token = await bearerFor(emulator(), 'alice', { expiresIn: 3600 });
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    time.advance(2_000);
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    expect(spanNamed('genauth-guard.decision').map((span) => span.attributes['genauth_guard.cache.result'])).toEqual(['miss', 'stale']);
    expect(valueOf((await sdk.metrics()).get('genauth_guard.cache.lookups'), { 'genauth_guard.cache.result': 'stale' })).toBe(1);
  });

  it('retries are one load span each, numbered', async () => {
    const { app } = setUp({ genauth: { ...emulator().guardOptions().genauth, retries: 1 } });
    emulator().fault({ kind: 'status', status: 502, path: RESOURCES, times: 1 });
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    const loads = spanNamed('genauth-guard.load').map((span) => [span.attributes['genauth_guard.attempt'], span.attributes['genauth_guard.status_class']]);
    expect(loads).toEqual([
      [0, '5xx'],
      [1, '2xx'],
    ]);
  });

  it('the user id is recorded only with recordUserId, and only on the decision span', async () => {
    const first = setUp();
    expect((await request(first.app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain('alice');
    otel?.disable();

    const second = setUp({}, { recordUserId: true });
    expect((await request(second.app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    const decisions = spanNamed('genauth-guard.decision');
    expect(decisions.map((span) => span.attributes['user.id'])).toEqual([undefined, 'alice']);
    expect(spanNamed('genauth-guard.load').every((span) => !('user.id' in span.attributes))).toBe(true);
    expect(JSON.stringify([...(await sdk.metrics()).values()])).not.toContain('alice');
  });
});

describe('metrics', () => {
  it('decisions by outcome and reason, cache lookups, the GenAuth duration in seconds', async () => {
    const { app } = setUp();
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200); // miss, allowed
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200); // hit, allowed
    expect((await request(app).get('/w').set('authorization', token)).status).toBe(403); // hit, no_grant

    const metrics = await sdk.metrics();
    const decisions = metrics.get('genauth_guard.decisions');
    expect(decisions?.descriptor.unit).toBe('{decision}');
    expect(valueOf(decisions, { 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' })).toBe(2);
    expect(valueOf(decisions, { 'genauth_guard.decision.outcome': 'deny', 'genauth_guard.decision.reason': 'no_grant' })).toBe(1);
    expect(points(decisions)).toHaveLength(2);

    const lookups = metrics.get('genauth_guard.cache.lookups');
    expect(valueOf(lookups, { 'genauth_guard.cache.result': 'miss' })).toBe(1);
    expect(valueOf(lookups, { 'genauth_guard.cache.result': 'hit' })).toBe(2);

    const duration = metrics.get('genauth_guard.genauth.duration') as HistogramMetricData | undefined;
    expect(duration?.descriptor.unit).toBe('s');
    const [point, ...others] = duration?.dataPoints ?? [];
    expect(others).toEqual([]);
    expect(point?.attributes).toEqual({ 'genauth_guard.status_class': '2xx' });
    expect(point?.value.count).toBe(1);
    // Seconds, on the emulator over loopback: well under one second, and never the milliseconds figure.
    expect(point?.value.sum).toBeGreaterThanOrEqual(0);
    expect(point?.value.sum).toBeLessThan(10);
    expect(point?.value.buckets.boundaries[0]).toBe(0.005);
  });

  it('an upstream error is counted as an error decision and a failed load', async () => {
    const { app } = setUp(noRetries());
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(503);
    const metrics = await sdk.metrics();
    expect(points(metrics.get('genauth_guard.decisions'))).toEqual([
      { attributes: { 'genauth_guard.decision.outcome': 'error', 'genauth_guard.decision.reason': 'ERR_PERMISSIONS_UNAVAILABLE' }, value: 1 },
    ]);
    const duration = metrics.get('genauth_guard.genauth.duration') as HistogramMetricData | undefined;
    expect(duration?.dataPoints.map((point) => point.attributes)).toEqual([{ 'genauth_guard.status_class': '5xx', 'error.type': 'http_status' }]);
  });

  it('cache entries and bytes come from the cacheStats() of the guards given, summed', async () => {
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const first = setUp({}, {});
    otel?.disable();
    const second = setUp();
    otel?.disable();
    otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, guards: [first.guard, second.guard] });
    expect((await request(first.app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    expect((await request(second.app).get('/r').set('authorization', await bearerFor(emulator(), 'bob'))).status).toBe(200);
    expect((await request(second.app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);

    const metrics = await sdk.metrics();
    const entries = metrics.get('genauth_guard.cache.entries');
    const size = metrics.get('genauth_guard.cache.size');
    expect(entries?.descriptor.unit).toBe('{user}');
    expect(size?.descriptor.unit).toBe('By');
    const stats = [first.guard.cacheStats(), second.guard.cacheStats()];
    expect(points(entries)).toEqual([{ attributes: {}, value: 3 }]);
    expect(points(size)).toEqual([{ attributes: {}, value: stats[0]!.bytes + stats[1]!.bytes }]);
    expect(stats[0]!.bytes).toBeGreaterThan(0);
  });

  it('without guards, no cache size is reported', async () => {
    const { app } = setUp();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    const metrics = await sdk.metrics();
    expect(metrics.has('genauth_guard.cache.entries')).toBe(false);
    expect(metrics.has('genauth_guard.decisions')).toBe(true);
  });
});

it('nothing recorded carries the token, the secret, the user id or upstream text', async () => {
  const { app } = setUp(noRetries());
  const token = await bearerFor(emulator(), 'alice');
  emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES });
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(503);
  const [failed] = spanNamed('genauth-guard.load');
  expect(failed?.status.code).toBe(SpanStatusCode.ERROR);

  const recorded = JSON.stringify({
    spans: sdk.spans().map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events, links: span.links })),
    metrics: [...(await sdk.metrics()).values()],
  });
  const secret = emulator().guardOptions().genauth.accessKeySecret as string;
  for (const forbidden of [token.slice(7), secret, UPSTREAM_TEXT, 'alice']) expect(recorded).not.toContain(forbidden);
});

describe('disable()', () => {
  const channelNames = ['genauth-guard:decision', 'genauth-guard:cache', 'genauth-guard:token'];
  const tracingNames = ['genauth-guard:decision', 'genauth-guard:load'];

  it('unsubscribes: the channels have no subscriber left, and later requests record nothing', async () => {
    const { app } = setUp();
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    const spans = sdk.spans().length;
    const decisions = valueOf((await sdk.metrics()).get('genauth_guard.decisions'), { 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' });
    expect(spans).toBe(2);
    expect(decisions).toBe(1);

    otel?.disable();
    otel?.disable(); // idempotent
    for (const name of channelNames) expect(diagnostics.channel(name).hasSubscribers, name).toBe(false);
    for (const name of tracingNames) expect(diagnostics.tracingChannel(name).hasSubscribers, name).toBe(false);

    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'bob'))).status).toBe(403);
    expect(sdk.spans().length).toBe(spans);
    const after = (await sdk.metrics()).get('genauth_guard.decisions');
    expect(points(after)).toEqual([{ attributes: { 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' }, value: 1 }]);
  });
});
