/**
 * The 500 of a resource the guard cannot decide on, through the OpenTelemetry bridge over real HTTP
 * (Express + the emulator): a resource function that throws or rejects, one that returns no string, a
 * code with a missing value (`ecs:undefined`), cold and from cached grants, and `check()` with such a
 * code. Each is a failed decision: one `genauth-guard.decision` span in error (`ERR_INTERNAL`) and one
 * `error` count in `genauth_guard.decisions`, never the function's error text. Like every failed
 * decision it is not told to `onDecision` nor on the decision channel (no decision was made).
 */
import diagnostics from 'node:diagnostics_channel';
import { SpanStatusCode } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { ResourceSource } from '../../src/core/enforce/route.js';
import type { DecisionRecord } from '../../src/options.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';
import { points, startTestSdk, useDiagWarnings, valueOf, type TestSdk } from './sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const warnings = useDiagWarnings();
const FUNCTION_TEXT = 'resource-function-text-4f1a';

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
let published: unknown[] = [];
const onPublished = (message: unknown) => void published.push(message);
beforeEach(() => {
  resetToAliceReading(emulator());
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  published = [];
  diagnostics.subscribe('genauth-guard:decision', onPublished);
});
afterEach(async () => {
  diagnostics.unsubscribe('genauth-guard:decision', onPublished);
  otel.disable();
  await sdk.shutdown();
});

const FAILED = { 'genauth_guard.decision.outcome': 'error', 'genauth_guard.decision.reason': 'ERR_INTERNAL', 'error.type': 'ERR_INTERNAL' };
const decisionSpans = () => sdk.spans().filter((span) => span.name === 'genauth-guard.decision');
const internalErrors = async () => valueOf((await sdk.metrics()).get('genauth_guard.decisions'), { 'genauth_guard.decision.outcome': 'error', 'genauth_guard.decision.reason': 'ERR_INTERNAL' });

const SOURCES: Array<[string, ResourceSource<express.Request>, string | undefined]> = [
  [
    'a resource function that throws',
    () => {
      throw new Error(FUNCTION_TEXT);
    },
    undefined,
  ],
  ['a resource function that rejects', async () => Promise.reject(new Error(FUNCTION_TEXT)), undefined],
  ['a resource function that returns no string', () => 42 as unknown as string, undefined],
  ['a resource function that returns an empty string', async () => '', undefined],
  ['a code with a missing value', (req) => `ecs:${String(req.params.id)}`, 'ecs:undefined'],
];

describe.each([
  ['cold', false],
  ['from cached grants', true],
] as const)('%s', (_label, warm) => {
  it.each(SOURCES)('%s: 500, one decision span in error and one error count', async (_name, resource, recorded) => {
    const records: DecisionRecord[] = [];
    const guard = track(createExpressGuard({ ...emulator().guardOptions(), onDecision: (record) => void records.push(record) }));
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.get('/refused', guard.requirePermission(resource, 'reports:Read'), (_req, res) => void res.send('ran'));
    const token = await bearerFor(emulator(), 'alice');
    if (warm) expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    const before = { spans: decisionSpans().length, records: records.length, published: published.length };

    const res = await request(app).get('/refused').set('authorization', token);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_INTERNAL');

    const spans = decisionSpans().slice(before.spans);
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.attributes).toMatchObject(FAILED);
    expect(span?.attributes['genauth_guard.resource']).toBe(recorded);
    if (!warm) expect(span?.attributes).not.toHaveProperty('genauth_guard.cache.result');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(span?.attributes)).not.toContain(FUNCTION_TEXT);
    expect(span?.events).toEqual([]);
    expect(await internalErrors()).toBe(1);
    // No decision was made: neither onDecision nor the decision channel hears of it (docs/observability.md).
    expect(records.length - before.records).toBe(0);
    expect(published.length - before.published).toBe(0);
    expect(warnings).toEqual([]);
  });
});

it('check() with a code the guard refuses: the rejection is a failed decision, its span and its count', async () => {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  await expect(guard.check({ userId: 'alice', resource: 'ecs:NaN', action: 'ecs:Start' })).rejects.toMatchObject({ code: 'ERR_INTERNAL', status: 500 });
  const spans = decisionSpans();
  expect(spans).toHaveLength(1);
  expect(spans[0]?.attributes).toMatchObject({ ...FAILED, 'genauth_guard.resource': 'ecs:NaN' });
  expect(await internalErrors()).toBe(1);
  expect(points((await sdk.metrics()).get('genauth_guard.decisions'))).toHaveLength(1);
});
