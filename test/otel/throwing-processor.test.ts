/**
 * The bridge runs inside the guard's channel publications, where Node turns what a subscriber throws
 * into an uncaught exception (the process ends): whatever a span processor throws as a span ends, and
 * however the diagnostic logger fails to report it, the bridge must keep to itself.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect, it } from 'vitest';
import { tracing, type DecisionTrace } from '../../src/events.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';

/** An Error whose name cannot be read. */
function nameless(): Error {
  const error = new Error('odd');
  Object.defineProperty(error, 'name', {
    get() {
      throw new Error('no name');
    },
  });
  return error;
}

function throwingProcessor(thrown: () => unknown): SpanProcessor & { ended: number } {
  return {
    ended: 0,
    onStart() {},
    onEnd(this: { ended: number }, _span: ReadableSpan) {
      this.ended++;
      throw thrown();
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

let otel: GenAuthGuardInstrumentation | undefined;
afterEach(() => {
  otel?.disable();
  diag.disable();
});

/** Runs a synchronous decision; resolves the uncaught exceptions seen by the next macrotask. */
async function decideWith(processor: SpanProcessor): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    otel = instrumentGenAuthGuard({ tracerProvider: new BasicTracerProvider({ spanProcessors: [processor] }) });
    const context: DecisionTrace = { userId: 'alice', resource: 'reports', synchronous: true };
    const decision = tracing.decision.traceSync(() => {
      context.allowed = true;
      context.reason = 'allowed';
      return 'the decision';
    }, context);
    expect(decision).toBe('the decision');
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  return uncaught;
}

it('a span processor throwing an error whose name cannot be read: reported by its type, nothing uncaught', async () => {
  const heard: string[] = [];
  diag.setLogger({ error: (m) => void heard.push(m), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.ERROR);
  const processor = throwingProcessor(nameless);
  expect(await decideWith(processor)).toEqual([]);
  expect(processor.ended).toBe(1);
  expect(heard).toEqual(['genauth-guard/otel: a handler threw (object); the request goes on']);
});

it('a diagnostic logger that throws as it is told: nothing uncaught', async () => {
  const broken = () => {
    throw new Error('the diag sink is down');
  };
  diag.setLogger({ error: broken, warn: broken, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.ERROR);
  const processor = throwingProcessor(() => new Error('the exporter broke'));
  expect(await decideWith(processor)).toEqual([]);
  expect(processor.ended).toBe(1);
});
