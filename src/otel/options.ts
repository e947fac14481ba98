/** The bridge's options and their checks (a mistake is a TypeError at once, naming the option). */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { fail, optionObject, optionPath, refuseUnknownKeys } from '../options/checks.js';
import type { CacheStats } from '../core/types.js';

/** Anything with the guard's `cacheStats()`: a core guard, an Express/Koa/Fastify guard, the Nest service. */
export interface CacheStatsSource {
  cacheStats(): CacheStats;
}

/** Options of {@link instrumentGenAuthGuard}. */
export interface GenAuthGuardInstrumentationOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
  /**
   * Guards whose `cacheStats()` feed `genauth_guard.cache.entries` and `genauth_guard.cache.size`
   * (summed over them). Without guards those two are not reported.
   * @default []
   */
  guards?: readonly CacheStatsSource[];
  /**
   * Puts the user id on decision spans as `user.id`. Off by default: it is personal data, and it is
   * never put on a metric (one series per user).
   * @default false
   */
  recordUserId?: boolean;
}

/** The options once checked. */
export interface CheckedOptions {
  tracerProvider: TracerProvider | undefined;
  meterProvider: MeterProvider | undefined;
  guards: readonly CacheStatsSource[];
  recordUserId: boolean;
}

const KEYS = ['tracerProvider', 'meterProvider', 'guards', 'recordUserId'] as const;
const PATH = 'otel';

function hasMethod(value: unknown, method: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

/** Checks the options (`otel.<key>` in messages); undefined providers mean the global ones. */
export function checkOptions(input: unknown): CheckedOptions {
  const options = input === undefined ? {} : optionObject(input, PATH);
  refuseUnknownKeys(options, KEYS, PATH);
  const { tracerProvider, meterProvider, guards = [], recordUserId = false } = options as GenAuthGuardInstrumentationOptions;
  if (tracerProvider !== undefined && !hasMethod(tracerProvider, 'getTracer')) fail(optionPath(PATH, 'tracerProvider'), 'must be a TracerProvider (an object with getTracer())');
  if (meterProvider !== undefined && !hasMethod(meterProvider, 'getMeter')) fail(optionPath(PATH, 'meterProvider'), 'must be a MeterProvider (an object with getMeter())');
  if (!Array.isArray(guards)) fail(optionPath(PATH, 'guards'), 'must be an array of guards');
  guards.forEach((guard, index) => {
    if (!hasMethod(guard, 'cacheStats')) fail(`${PATH}.guards[${index}]`, 'must be a guard (an object with cacheStats())');
  });
  if (typeof recordUserId !== 'boolean') fail(optionPath(PATH, 'recordUserId'), 'must be a boolean');
  return { tracerProvider, meterProvider, guards: [...guards], recordUserId };
}
