/**
 * The channels are process-wide, so one bridge records guards of either copy of the package: here the
 * built CommonJS bridge (`require('genauth-guard/otel')`) records a guard built from the ESM sources,
 * failures included (their kind and code are read by name and brand, not instanceof). Needs dist/.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SpanStatusCode } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type * as Bridge from '../../src/otel/index.js';
import { bearerFor, closeAfterEach, RESOURCES, resetToAliceReading, useEmulator } from '../fixtures.js';
import { startTestSdk, type TestSdk } from './sdk.js';

const built = existsSync(new URL('../../dist/otel.cjs', import.meta.url));
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
let sdk: TestSdk | undefined;
let otel: Bridge.GenAuthGuardInstrumentation | undefined;
afterEach(async () => {
  otel?.disable();
  await sdk?.shutdown();
});

describe.skipIf(!built)('the CommonJS bridge and an ESM guard', () => {
  it('records the decision and the failed load, with its kind and code', async () => {
    resetToAliceReading(emulator());
    const { instrumentGenAuthGuard } = createRequire(import.meta.url)('genauth-guard/otel') as typeof Bridge;
    sdk = startTestSdk();
    otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    const guard = track(createExpressGuard({ ...emulator().guardOptions(), genauth: { ...emulator().guardOptions().genauth, retries: 0 } }));
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(503);

    const load = sdk.spans().find((span) => span.name === 'genauth-guard.load');
    const decision = sdk.spans().find((span) => span.name === 'genauth-guard.decision');
    expect(load?.attributes['error.type']).toBe('http_status');
    expect(load?.status.code).toBe(SpanStatusCode.ERROR);
    expect(decision?.attributes['genauth_guard.decision.reason']).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(load?.parentSpanContext?.spanId).toBe(decision?.spanContext().spanId);
  });
});
