/**
 * Channel subscriptions that can be undone, and that can never throw into the guard: Node reports a
 * subscriber's exception as an uncaught exception, so a telemetry fault would take the process down.
 */
import diagnostics from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { thrownName } from '../options/thrown.js';

export type Stop = () => void;

/**
 * Calls `handler`, reporting what it throws (a span processor's or exporter's error, as a span ends) to
 * OpenTelemetry's diagnostic logger, by name only; what reading that name or the logger throws is dropped.
 */
function safely(handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch (error) {
      try {
        diag.error(`genauth-guard/otel: a handler threw (${thrownName(error)}); the request goes on`);
      } catch {
        // Nothing to report it to: the diagnostic logger is where it would go.
      }
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
