/**
 * When the bridge ends a decision span, for the failures HTTP cannot provoke: the tracing channel is
 * driven here as the guard drives it (traceSync for a decision from the caches, tracePromise for one
 * that waits), with functions that throw. Each span is ended exactly once, in error, never leaked.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { GuardInternalError, PermissionsUnavailableError } from '../../src/errors.js';
import { tracing, type DecisionTrace } from '../../src/events.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { startTestSdk, useDiagWarnings, type TestSdk } from './sdk.js';

const warnings = useDiagWarnings();
let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
beforeEach(() => {
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
});
afterEach(async () => {
  otel.disable();
  await sdk.shutdown();
});

it('a synchronous decision that throws: one span, in error, with its code and cache hit', () => {
  const context: DecisionTrace = { userId: 'alice', resource: 'reports', synchronous: true };
  expect(() =>
    tracing.decision.traceSync(() => {
      throw new GuardInternalError({ cause: new Error('boom') });
    }, context),
  ).toThrow(GuardInternalError);
  const spans = sdk.spans();
  expect(spans).toHaveLength(1);
  expect(spans[0]?.attributes).toMatchObject({
    'genauth_guard.cache.result': 'hit',
    'genauth_guard.decision.outcome': 'error',
    'genauth_guard.decision.reason': 'ERR_INTERNAL',
    'error.type': 'ERR_INTERNAL',
  });
  expect(spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
  expect(warnings).toEqual([]);
});

it('a decision that waits and throws before its promise: ended on end (no asyncEnd follows), not leaked', () => {
  const context: DecisionTrace = { userId: 'alice', resource: 'reports' };
  expect(() =>
    tracing.decision.tracePromise(() => {
      throw new PermissionsUnavailableError(5);
    }, context),
  ).toThrow(PermissionsUnavailableError);
  const spans = sdk.spans();
  expect(spans).toHaveLength(1);
  expect(spans[0]?.attributes['genauth_guard.decision.outcome']).toBe('error');
  expect(spans[0]?.attributes).not.toHaveProperty('genauth_guard.cache.result');
  expect(warnings).toEqual([]);
});

it('a decision that waits and rejects: still open at end, ended once at asyncEnd', async () => {
  const context: DecisionTrace = { userId: 'alice', resource: 'reports' };
  const pending = tracing.decision.tracePromise(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throw new PermissionsUnavailableError(5);
  }, context);
  expect(sdk.spans()).toHaveLength(0); // end has fired: the span waits for asyncEnd
  await expect(pending).rejects.toBeInstanceOf(PermissionsUnavailableError);
  const spans = sdk.spans();
  expect(spans).toHaveLength(1);
  expect(spans[0]?.attributes['genauth_guard.decision.reason']).toBe('ERR_PERMISSIONS_UNAVAILABLE');
  expect(warnings).toEqual([]);
});
