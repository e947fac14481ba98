/**
 * `genauth-guard/otel`: an OpenTelemetry bridge built on the guard's `node:diagnostics_channel`
 * channels, the way OpenTelemetry's undici and http instrumentations are. Only this subpath imports
 * `@opentelemetry/api` (an optional peer dependency); the guard itself knows nothing of it.
 */
import { metrics, trace } from '@opentelemetry/api';
import { recordMetrics } from './metrics.js';
import { SCOPE_NAME, SCOPE_VERSION } from './names.js';
import { checkOptions, type GenAuthGuardInstrumentationOptions } from './options.js';
import { traceSpans } from './spans.js';

export { ATTR, METRIC, SCOPE_NAME, SCOPE_VERSION, SPAN } from './names.js';
export type { CacheStatsSource, GenAuthGuardInstrumentationOptions } from './options.js';

/** What {@link instrumentGenAuthGuard} returns. */
export interface GenAuthGuardInstrumentation {
  /**
   * Stops recording: no span is started and nothing is counted from then on, and the cache observers are
   * removed. A span already open still ends when its decision or load ends (the handlers that end spans
   * stay subscribed until then, and no longer). Idempotent.
   */
  disable(): void;
}

/**
 * Records the guard's spans and metrics through OpenTelemetry: a `genauth-guard.decision` span for
 * each decision (from the caches or after a wait), a `genauth-guard.load` span for each GenAuth load
 * attempt, and the `genauth_guard.*` metrics. It covers every guard in the process (the channels are global); `guards`
 * only names those whose cache size is reported. Call it once, after the SDK is registered when
 * relying on the global meter provider (the API's global meter provider is not a proxy).
 * @example
 * const otel = instrumentGenAuthGuard({ guards: [guard] });
 * // at shutdown
 * otel.disable();
 * @throws TypeError when an option is wrong (`genauth-guard: option "otel.guards[0]" ...`).
 */
export function instrumentGenAuthGuard(options?: GenAuthGuardInstrumentationOptions): GenAuthGuardInstrumentation {
  const checked = checkOptions(options);
  const tracer = (checked.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME, SCOPE_VERSION);
  const meter = (checked.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, SCOPE_VERSION);
  const stops = [traceSpans(tracer, checked.recordUserId), recordMetrics(meter, checked.guards)];
  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      for (const stop of stops) stop();
    },
  };
}
