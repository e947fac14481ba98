// The snippets of docs/observability.md, run by test/docs/examples.test.ts.
import diagnostics from 'node:diagnostics_channel';
import type { CacheEvent, DecisionEvent, LoadTrace } from 'genauth-guard';
import type { ExpressGuard } from 'genauth-guard/express';

/** A stand-in for your metrics client and logger. */
export interface Sinks {
  metrics: { count(name: string, tags?: object): void; histogram(name: string, value: number, tags?: object): void };
  log: { warn(message: string): void };
}

export function subscribe({ metrics, log }: Sinks): () => void {
  // #region channels
  const onDecision = (message: unknown) => {
    const event = message as DecisionEvent;
    metrics.count('decision', { allowed: event.allowed, reason: event.reason });
  };
  const onCache = (message: unknown) => metrics.count(`cache.${(message as CacheEvent).kind}`);
  const loads = {
    start() {},
    end() {},
    asyncStart() {},
    asyncEnd(context: LoadTrace) {
      metrics.histogram('genauth.latency', context.durationMs ?? 0, { status: context.statusClass, attempt: context.attempt });
    },
    error(context: LoadTrace) {
      log.warn(`GenAuth load failed: ${context.statusClass}`);
    },
  };
  diagnostics.subscribe('genauth-guard:decision', onDecision);
  diagnostics.subscribe('genauth-guard:cache', onCache);
  diagnostics.tracingChannel<unknown, LoadTrace>('genauth-guard:load').subscribe(loads);
  // #endregion channels
  return () => {
    diagnostics.unsubscribe('genauth-guard:decision', onDecision);
    diagnostics.unsubscribe('genauth-guard:cache', onCache);
    diagnostics.tracingChannel<unknown, LoadTrace>('genauth-guard:load').unsubscribe(loads);
  };
}

export async function explainExample(guard: ExpressGuard) {
  // #region explain
  const why = await guard.explain({ userId: 'alice', resource: 'disk:9', action: 'disk:Delete' });
  // { allowed: false, reason: 'denied', grant: { code: 'disk:9', effect: 'DENY', ... }, grants: [
  //   { grant: { code: 'disk:*', ... }, outcome: 'overridden_by_deny', overriddenBy: { code: 'disk:9', ... } },
  //   { grant: { code: 'disk:9', ... }, outcome: 'applies', decisive: true }, ... ] }
  const api = await guard.explain({ userId: 'alice', method: 'DELETE', path: '/api/v1/users/1', api: { publicPaths: ['/health'] } });
  // #endregion explain
  return { why, api };
}
