/**
 * The OpenTelemetry SDK as the bridge's tests use it: real providers with the SDK's in-memory span
 * exporter and a metric reader collected on demand, and an AsyncLocalStorage context manager (the
 * design of @opentelemetry/context-async-hooks', which is not a dependency here).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { diag, DiagLogLevel, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** A reader that exports nothing by itself: the test calls `collect()`. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * What OpenTelemetry's diagnostic logger hears at WARN and above (the SDK warns there when a span is
 * ended twice): set up before the file's tests, emptied before each, the logger removed after them all.
 */
export function useDiagWarnings(): string[] {
  const warnings: string[] = [];
  beforeAll(() => {
    const keep = (message: string) => void warnings.push(message);
    diag.setLogger({ error: keep, warn: keep, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  });
  afterAll(() => diag.disable());
  beforeEach(() => {
    warnings.length = 0;
  });
  return warnings;
}

export interface TestSdk {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** Every metric collected now, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function startTestSdk(): TestSdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async metrics() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The points of a sum or gauge as `{ attributes, value }`. */
export function points(metric: MetricData | undefined): Array<{ attributes: Record<string, unknown>; value: number }> {
  if (metric === undefined) return [];
  if (metric.dataPointType === DataPointType.HISTOGRAM || metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) throw new TypeError('a histogram');
  return (metric.dataPoints as Array<DataPoint<number>>).map((point) => ({ attributes: { ...point.attributes }, value: point.value }));
}

/** The value of the point whose attributes are exactly `attributes`, or 0. */
export function valueOf(metric: MetricData | undefined, attributes: Record<string, unknown>): number {
  const match = points(metric).find((point) => JSON.stringify(sorted(point.attributes)) === JSON.stringify(sorted(attributes)));
  return match?.value ?? 0;
}

const sorted = (attributes: Record<string, unknown>) => Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));

/** A context manager on AsyncLocalStorage, as a Node SDK registers one. */
export class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(context, () => fn.apply(thisArg, args));
  }
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}
