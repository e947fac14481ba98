/**
 * The OpenTelemetry bridge on the hot path, over real HTTP (Express + the emulator): a decision made at
 * once from fresh cached grants is one `genauth-guard.decision` span (no load span) with its outcome and
 * `cache.result: hit`, ended once; a decision that waits is still ended when it resolves, not before.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';
import { AsyncLocalStorageContextManager, startTestSdk, useDiagWarnings, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const manager = new AsyncLocalStorageContextManager();
/** What OpenTelemetry's diagnostic logger hears: the SDK warns there when a span is ended twice. */
const warnings = useDiagWarnings();

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('bob', [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/users', actions: ['read'] }]);
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
});
afterEach(async () => {
  otel.disable();
  await sdk.shutdown();
});

const spanNamed = (name: string) => sdk.spans().filter((span) => span.name === name);

/** Express with a server span around each request, as the http instrumentation would open. */
function appWithServerSpans(): { app: express.Express; guard: ExpressGuard } {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const tracer = sdk.tracerProvider.getTracer('test-http');
  const app = express();
  app.use((req, res, next) => {
    const span = tracer.startSpan(`${req.method} ${req.path}`, { kind: SpanKind.SERVER });
    res.on('finish', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  });
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return { app, guard };
}

/** Warms alice's grants with one request (a miss: one decision span, one load span). */
async function warmed(app: express.Express): Promise<string> {
  const token = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  expect([spanNamed('genauth-guard.decision').length, spanNamed('genauth-guard.load').length]).toEqual([1, 1]);
  return token;
}

it('a warm allowed request: exactly one decision span (no load span), outcome allow, cache hit, under the server span', async () => {
  const { app } = appWithServerSpans();
  const token = await warmed(app);
  const before = { decisions: spanNamed('genauth-guard.decision').length, loads: spanNamed('genauth-guard.load').length };
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);

  const decisions = spanNamed('genauth-guard.decision').slice(before.decisions);
  expect(spanNamed('genauth-guard.load')).toHaveLength(before.loads);
  expect(decisions).toHaveLength(1);
  const [decision] = decisions;
  expect(decision?.kind).toBe(SpanKind.INTERNAL);
  expect(decision?.attributes).toEqual({
    'genauth_guard.resource': 'reports',
    'genauth_guard.cache.result': 'hit',
    'genauth_guard.decision.outcome': 'allow',
    'genauth_guard.decision.reason': 'allowed',
  });
  expect(decision?.status.code).toBe(SpanStatusCode.UNSET);
  // Its parent is the warm request's server span (not the first request's: another trace).
  const parent = sdk.spans().find((span) => span.spanContext().spanId === decision?.parentSpanContext?.spanId);
  expect(parent?.kind).toBe(SpanKind.SERVER);
  expect(parent?.spanContext().traceId).toBe(decision?.spanContext().traceId);
  expect(decision?.spanContext().traceId).not.toBe(spanNamed('genauth-guard.decision')[0]?.spanContext().traceId);
  expect(warnings).toEqual([]);
});

it('a warm denial: one decision span, outcome deny with its reason, cache hit, not an error', async () => {
  const { app } = appWithServerSpans();
  const token = await warmed(app);
  const before = spanNamed('genauth-guard.decision').length;
  expect((await request(app).get('/w').set('authorization', token)).status).toBe(403);

  const decisions = spanNamed('genauth-guard.decision').slice(before);
  expect(decisions).toHaveLength(1);
  expect(decisions[0]?.attributes).toEqual({
    'genauth_guard.resource': 'reports',
    'genauth_guard.cache.result': 'hit',
    'genauth_guard.decision.outcome': 'deny',
    'genauth_guard.decision.reason': 'no_grant',
  });
  expect(decisions[0]?.status.code).toBe(SpanStatusCode.UNSET);
  expect(warnings).toEqual([]);
});

it('a miss then a hit: two decision spans, each ended once, the first at its resolution (miss, with its outcome)', async () => {
  const { app } = appWithServerSpans();
  const token = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  const decisions = spanNamed('genauth-guard.decision');
  expect(decisions.map((span) => [span.attributes['genauth_guard.cache.result'], span.attributes['genauth_guard.decision.outcome']])).toEqual([
    ['miss', 'allow'],
    ['hit', 'allow'],
  ]);
  expect(spanNamed('genauth-guard.load')).toHaveLength(1);
  expect(spanNamed('genauth-guard.load')[0]?.parentSpanContext?.spanId).toBe(decisions[0]?.spanContext().spanId);
  expect(warnings).toEqual([]);
});

it('API mode, warm: one decision span with the method, the canonical path and cache hit', async () => {
  const { guard } = appWithServerSpans();
  const app = express();
  app.use('/api', guard.api(), (_req, res) => void res.send('ok'));
  const token = await bearerFor(emulator(), 'bob');
  expect((await request(app).get('/api/users').set('authorization', token)).status).toBe(200);
  const before = { decisions: spanNamed('genauth-guard.decision').length, loads: spanNamed('genauth-guard.load').length };
  expect((await request(app).get('/api/users?token=secret').set('authorization', token)).status).toBe(200);
  expect((await request(app).delete('/api/users').set('authorization', token)).status).toBe(403);

  expect(spanNamed('genauth-guard.load')).toHaveLength(before.loads);
  const decisions = spanNamed('genauth-guard.decision').slice(before.decisions);
  expect(decisions.map((span) => span.attributes)).toEqual([
    {
      'genauth_guard.resource': '/api/users',
      'http.request.method': 'GET',
      'genauth_guard.cache.result': 'hit',
      'genauth_guard.decision.outcome': 'allow',
      'genauth_guard.decision.reason': 'allowed',
    },
    {
      'genauth_guard.resource': '/api/users',
      'http.request.method': 'DELETE',
      'genauth_guard.cache.result': 'hit',
      'genauth_guard.decision.outcome': 'deny',
      'genauth_guard.decision.reason': expect.any(String),
    },
  ]);
  expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain('secret');
  expect(warnings).toEqual([]);
});
