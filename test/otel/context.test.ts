/**
 * Parent and child: with a context manager registered (as the Node SDK does), the decision span opens
 * under the span active in the request (here a server span an Express middleware makes current, as
 * the http instrumentation would), and the load span under the decision. Without one, the load span
 * is still under its decision (the bridge carries the decision in its own AsyncLocalStorage).
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';
import { AsyncLocalStorageContextManager, startTestSdk, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const manager = new AsyncLocalStorageContextManager();

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
beforeAll(() => void context.setGlobalContextManager(manager.enable()));
afterAll(() => void context.disable());
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
});
afterEach(async () => {
  otel.disable();
  await sdk.shutdown();
});

/** An app whose first middleware opens a server span and runs the rest of the request in its context. */
function appWithServerSpans(): express.Express {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const tracer = sdk.tracerProvider.getTracer('test-http');
  const app = express();
  app.use((req, res, next) => {
    const span = tracer.startSpan(`GET ${req.path}`, { kind: SpanKind.SERVER });
    res.on('finish', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  });
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return app;
}

it('request span > decision span > load span, one trace per request', async () => {
  const app = appWithServerSpans();
  const [alice, bob] = [await bearerFor(emulator(), 'alice'), await bearerFor(emulator(), 'bob')];
  // Two users at once: each request's spans must stay in its own trace.
  const answers = await Promise.all([request(app).get('/r').set('authorization', alice), request(app).get('/r').set('authorization', bob)]);
  expect(answers.map((answer) => answer.status)).toEqual([200, 200]);

  const servers = sdk.spans().filter((span) => span.kind === SpanKind.SERVER);
  const decisions = sdk.spans().filter((span) => span.name === 'genauth-guard.decision');
  const loads = sdk.spans().filter((span) => span.name === 'genauth-guard.load');
  expect([servers.length, decisions.length, loads.length]).toEqual([2, 2, 2]);
  for (const server of servers) {
    const decision = decisions.find((span) => span.parentSpanContext?.spanId === server.spanContext().spanId);
    expect(decision?.spanContext().traceId).toBe(server.spanContext().traceId);
    const load = loads.find((span) => span.parentSpanContext?.spanId === decision?.spanContext().spanId);
    expect(load?.spanContext().traceId).toBe(server.spanContext().traceId);
  }
  expect(new Set(servers.map((span) => span.spanContext().traceId)).size).toBe(2);
});

it('the decision does not leak into the rest of the request: the handler still sees the server span', async () => {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const tracer = sdk.tracerProvider.getTracer('test-http');
  const app = express();
  let seenInHandler: string | undefined;
  app.use((_req, res, next) => {
    const span = tracer.startSpan('GET /r', { kind: SpanKind.SERVER });
    res.on('finish', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  });
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => {
    seenInHandler = trace.getActiveSpan()?.spanContext().spanId;
    res.send('ok');
  });
  expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
  const [server] = sdk.spans().filter((span) => span.kind === SpanKind.SERVER);
  expect(seenInHandler).toBe(server?.spanContext().spanId);
});
