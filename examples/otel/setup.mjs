// The OpenTelemetry bridge as docs/otel.md shows it (test/otel/example.test.ts runs it against the
// emulator, with the built package). Console exporters, so the example needs no collector.
// #region setup
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createExpressGuard } from 'genauth-guard/express';
import { instrumentGenAuthGuard } from 'genauth-guard/otel';

export function createObservedGuard(guardOptions) {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 60_000 })],
  });
  const guard = createExpressGuard(guardOptions);
  // Spans and metrics for every guard in the process; `guards` adds their cache size and entries.
  const otel = instrumentGenAuthGuard({ tracerProvider, meterProvider, guards: [guard] });

  async function close() {
    await tracerProvider.shutdown(); // flushes the spans
    await meterProvider.shutdown(); // exports the metrics one last time, cache size included
    otel.disable();
    await guard.close();
  }
  return { guard, close };
}
// #endregion setup
