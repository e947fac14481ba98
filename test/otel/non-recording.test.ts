/**
 * Spans a sampler does not record, over real HTTP (Express + the emulator) with the OpenTelemetry SDK:
 * for such a span (`isRecording()` false) the bridge sets no attribute or status after it starts
 * (nothing of it is kept, so that work would be lost). What can be observed of that through the SDK is
 * that nothing breaks: requests answer as before, every span the bridge starts is ended, metrics still
 * count every decision, and the SDK logs nothing. Around it, two things that must not change: a
 * sampler still sees the start attributes (it may sample on them), and a span that records without
 * being sampled (`RECORD`) still gets every attribute.
 */
import { type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, SamplingDecision, type ReadableSpan, type Sampler, type SamplingResult, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, RESOURCES, resetToAliceReading, useEmulator } from '../fixtures.js';
import { startTestSdk, useDiagWarnings, valueOf, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const warnings = useDiagWarnings();

/** A span processor of the SDK's interface that keeps what it is given. */
class KeepingProcessor implements SpanProcessor {
  readonly started: Span[] = [];
  readonly ended: ReadableSpan[] = [];
  onStart(span: Span, _parent: Context): void {
    this.started.push(span);
  }
  onEnd(span: ReadableSpan): void {
    this.ended.push(span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** A sampler that answers `decision` for every span and keeps the name and attributes it was asked about. */
class KeepingSampler implements Sampler {
  readonly asked: Array<{ name: string; attributes: Attributes }> = [];
  constructor(private readonly decision: SamplingDecision) {}
  shouldSample(_context: Context, _traceId: string, name: string, _kind: SpanKind, attributes: Attributes, _links: Link[]): SamplingResult {
    this.asked.push({ name, attributes: { ...attributes } });
    return { decision: this.decision };
  }
  toString(): string {
    return `KeepingSampler(${this.decision})`;
  }
}

let metricsSdk: TestSdk;
let tracerProvider: BasicTracerProvider | undefined;
let otel: GenAuthGuardInstrumentation | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
  metricsSdk = startTestSdk();
});
afterEach(async () => {
  otel?.disable();
  otel = undefined;
  await tracerProvider?.shutdown();
  tracerProvider = undefined;
  await metricsSdk.shutdown();
});

function setUp(sampler: Sampler) {
  const processor = new KeepingProcessor();
  tracerProvider = new BasicTracerProvider({ sampler, spanProcessors: [processor] });
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), genauth: { ...emulator().guardOptions().genauth, retries: 0 } }));
  otel = instrumentGenAuthGuard({ tracerProvider, meterProvider: metricsSdk.meterProvider });
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return { app, processor };
}

it('AlwaysOff: answers and metrics as ever, no span kept, nothing logged', async () => {
  const { app, processor } = setUp(new AlwaysOffSampler());
  const alice = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200); // a miss: decision and load spans
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200); // from the caches: a synchronous decision
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
  expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'bob'))).status).toBe(503); // failed load, failed decision

  expect(processor.started).toEqual([]);
  expect(processor.ended).toEqual([]);
  const metrics = await metricsSdk.metrics();
  const decisions = metrics.get('genauth_guard.decisions');
  expect(valueOf(decisions, { 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' })).toBe(2);
  expect(valueOf(decisions, { 'genauth_guard.decision.outcome': 'deny', 'genauth_guard.decision.reason': 'no_grant' })).toBe(1);
  expect(valueOf(decisions, { 'genauth_guard.decision.outcome': 'error', 'genauth_guard.decision.reason': 'ERR_PERMISSIONS_UNAVAILABLE' })).toBe(1);
  expect(metrics.get('genauth_guard.genauth.duration')?.dataPoints.length).toBeGreaterThan(0);
  expect(warnings).toEqual([]);
});

it('a sampler that drops the spans is still asked with their start attributes', async () => {
  const sampler = new KeepingSampler(SamplingDecision.NOT_RECORD);
  const { app } = setUp(sampler);
  expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
  expect(sampler.asked).toEqual([
    { name: 'genauth-guard.decision', attributes: { 'genauth_guard.resource': 'reports' } },
    { name: 'genauth-guard.load', attributes: { 'url.path': RESOURCES, 'genauth_guard.attempt': 0 } },
  ]);
});

it('a span recorded but not sampled (RECORD) still gets every attribute and its status', async () => {
  const { app, processor } = setUp(new KeepingSampler(SamplingDecision.RECORD));
  const alice = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
  expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'bob'))).status).toBe(503);

  expect(processor.ended.map((span) => [span.name, span.spanContext().traceFlags, span.attributes])).toEqual([
    ['genauth-guard.load', 0, { 'url.path': RESOURCES, 'genauth_guard.attempt': 0, 'genauth_guard.status_class': '2xx' }],
    [
      'genauth-guard.decision',
      0,
      { 'genauth_guard.resource': 'reports', 'genauth_guard.cache.result': 'miss', 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' },
    ],
    [
      'genauth-guard.decision',
      0,
      { 'genauth_guard.resource': 'reports', 'genauth_guard.cache.result': 'hit', 'genauth_guard.decision.outcome': 'allow', 'genauth_guard.decision.reason': 'allowed' },
    ],
    ['genauth-guard.load', 0, { 'url.path': RESOURCES, 'genauth_guard.attempt': 0, 'genauth_guard.status_class': '5xx', 'error.type': 'http_status' }],
    [
      'genauth-guard.decision',
      0,
      {
        'genauth_guard.resource': 'reports',
        'genauth_guard.decision.outcome': 'error',
        'genauth_guard.decision.reason': 'ERR_PERMISSIONS_UNAVAILABLE',
        'error.type': 'ERR_PERMISSIONS_UNAVAILABLE',
      },
    ],
  ]);
  expect(processor.ended.slice(3).map((span) => span.status.code)).toEqual([2, 2]);
  expect(processor.started).toHaveLength(processor.ended.length);
  expect(warnings).toEqual([]);
});
