/**
 * Channel subscriptions that can be undone, and that can never throw into the guard: Node reports a
 * subscriber's exception as an uncaught exception, so a telemetry fault would take the process down.
 */
import diagnostics from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';

export type Stop = () => void;

/** Calls `handler`, reporting what it throws to OpenTelemetry's diagnostic logger (its name only). */
function safely(handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch (error) {
      diag.error(`genauth-guard/otel: a handler threw (${error instanceof Error ? error.name : typeof error}); the request goes on`);
    }
  };
}

/** Subscribes each handler to its channel by name; the returned function unsubscribes them all. */
export function subscribeAll(handlers: Readonly<Record<string, (message: unknown) => void>>): Stop {
  const done = Object.entries(handlers).map(([name, handler]) => {
    const listener = safely(handler);
    diagnostics.subscribe(name, listener);
    return () => void diagnostics.unsubscribe(name, listener);
  });
  return () => done.forEach((stop) => stop());
}
