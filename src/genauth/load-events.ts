/**
 * The GenAuth load's trace (`genauth-guard:load`) and the retry budget's refusals, published only
 * when someone subscribes (the client checks `hasSubscribers` before calling traceLoad).
 */
import { GenAuthApiError } from '../errors.js';
import { moreChannels, tracing, type LoadTrace, type RetryRefusedEvent } from '../events.js';
import type { Clock } from '../options/types.js';
import { RESOURCES_PATH } from './authorized-resources.js';

/** `2xx`/`4xx`/`5xx` from GenAuth's HTTP status, else the failure's kind (`timeout`, `network`, ...). */
function statusClassOf(error: unknown): string {
  if (!(error instanceof GenAuthApiError)) return 'error';
  if (error.httpStatus !== undefined) return `${Math.floor(error.httpStatus / 100)}xx`;
  return error.kind;
}

/** Runs one load attempt inside the tracing channel; the context never holds the user id's query or a body. */
export function traceLoad<T>(attempt: number, call: () => Promise<T>, clock: Clock): Promise<T> {
  const context: LoadTrace = { endpoint: RESOURCES_PATH, attempt, statusClass: undefined, durationMs: undefined };
  const started = clock.now();
  return tracing.load.tracePromise(async () => {
    try {
      const result = await call();
      context.statusClass = '2xx';
      return result;
    } catch (error) {
      context.statusClass = statusClassOf(error);
      throw error;
    } finally {
      context.durationMs = clock.now() - started;
    }
  }, context);
}

export function publishRetryRefused(error: GenAuthApiError, attempt: number): void {
  if (!moreChannels.retryRefused.hasSubscribers) return;
  moreChannels.retryRefused.publish({ path: RESOURCES_PATH, attempt, outcome: error.kind } satisfies RetryRefusedEvent);
}
