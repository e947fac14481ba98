/**
 * The bridge's spans, from the guard's tracing channels: `genauth-guard.decision` for each decision,
 * `genauth-guard.load` for each GenAuth load attempt. The decision span is opened as the channel
 * starts, in the caller's async context, so its parent is the active span there (the request's server
 * span when a context manager runs); it is then kept in an AsyncLocalStorage bound to the channel's
 * start, so a load begun inside the decision, and its cache result, find it. A decision that waits
 * (`tracePromise`) is closed on `asyncEnd`; one made at once from fresh cached grants (`traceSync`,
 * marked `synchronous`) on `end`, since nothing follows it.
 *
 * `disable()` stops opening spans at once; a span already open is still ended when its decision or
 * load ends (every span started must be ended), so the handlers that end spans stay subscribed until
 * the last open one has ended, and no longer.
 *
 * A span the sampler does not record (`isRecording()` false: an `AlwaysOff` or ratio sampler's drop,
 * or no SDK registered) gets no attribute or status after it starts: nothing of it is kept, so the
 * attribute objects are not built. It is still started with its start attributes (a sampler decides
 * on them) and still ended. Metrics do not depend on spans.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { CacheEvent, DecisionTrace, LoadTrace } from '../events.js';
import { ATTR, SPAN } from './names.js';
import { errorTypeOf, reasonOfFailure } from './outcome.js';
import { subscribeAll, type Stop } from './subscriptions.js';

/** A decision span in flight, and the context that holds it (the parent of its load). */
interface DecisionScope {
  readonly span: Span;
  readonly context: Context;
  ended: boolean;
}

const CACHE_RESULTS: ReadonlySet<string> = new Set(['hit', 'stale', 'miss']);

/** Sets a recording decision span's outcome, reason and, for a failure, its error type and status. */
function setOutcome(span: Span, decision: DecisionTrace): void {
  if (decision.error !== undefined) {
    const reason = reasonOfFailure(decision.error);
    span.setAttributes({ [ATTR.outcome]: 'error', [ATTR.reason]: reason, [ATTR.errorType]: reason });
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else {
    span.setAttributes({ [ATTR.outcome]: decision.allowed === true ? 'allow' : 'deny', [ATTR.reason]: decision.reason ?? '' });
  }
}

/** Subscribes the span handlers; the returned function unsubscribes them. */
export function traceSpans(tracer: Tracer, recordUserId: boolean): Stop {
  const scopes = new WeakMap<object, DecisionScope>();
  const loads = new WeakMap<object, Span>();
  const current = new AsyncLocalStorage<DecisionScope>();
  const decisionStart = diagnostics.channel('tracing:genauth-guard:decision:start');
  /** Spans started and not yet ended: after disable(), the closing handlers wait for them. */
  let open = 0;
  let disabled = false;
  let stopClosing: Stop = () => {};

  /** Runs in the guard's call as the decision starts; what it returns is the store while the decision runs. */
  function openDecision(message: unknown): DecisionScope | undefined {
    try {
      const decision = message as DecisionTrace;
      // '' is no resource: the resource function threw or gave none (a failed decision).
      const attributes: Attributes = decision.resource === '' ? {} : { [ATTR.resource]: decision.resource };
      if (decision.method !== undefined) attributes[ATTR.method] = decision.method;
      if (recordUserId) attributes[ATTR.userId] = decision.userId;
      const parent = context.active();
      const span = tracer.startSpan(SPAN.decision, { kind: SpanKind.INTERNAL, attributes }, parent);
      const scope: DecisionScope = { span, context: trace.setSpan(parent, span), ended: false };
      scopes.set(decision, scope);
      open++;
      return scope;
    } catch {
      return undefined; // a store transform that throws would fail the request
    }
  }

  /**
   * `end` closes a synchronous decision (from fresh cached grants, so a cache hit), or one whose
   * function threw before returning its promise (`tracePromise` then fires no `asyncEnd`). For a
   * decision that waits, `end` only means its synchronous part is over: `asyncEnd` closes it.
   */
  function endDecision(message: unknown): void {
    const decision = message as DecisionTrace;
    if (decision.synchronous === true) {
      const span = scopes.get(decision)?.span;
      if (span?.isRecording() === true) span.setAttribute(ATTR.cache, 'hit');
      closeDecision(decision);
    } else if (decision.error !== undefined) {
      closeDecision(decision);
    }
  }

  /** Ends the decision's span once (the scope is forgotten at the first close). */
  function closeDecision(message: unknown): void {
    const decision = message as DecisionTrace;
    const scope = scopes.get(decision);
    if (scope === undefined) return;
    scopes.delete(decision);
    scope.ended = true;
    closing();
    // A span not recorded is not kept: no outcome attributes are built for it (see the file's comment).
    if (scope.span.isRecording()) setOutcome(scope.span, decision);
    scope.span.end();
  }

  /** Counts a span about to end (before: its processor may throw); after disable(), the last one unsubscribes the rest. */
  function closing(): void {
    open--;
    // After this publication: unsubscribing inside it would make Node skip the channel's next subscriber.
    if (disabled && open === 0) queueMicrotask(stopClosing);
  }

  function noteCache(message: unknown): void {
    const { kind } = message as CacheEvent;
    if (!CACHE_RESULTS.has(kind)) return;
    const scope = current.getStore();
    if (scope !== undefined && !scope.ended && scope.span.isRecording()) scope.span.setAttribute(ATTR.cache, kind);
  }

  function openLoad(message: unknown): void {
    const load = message as LoadTrace;
    const parent = current.getStore()?.context ?? context.active();
    const span = tracer.startSpan(SPAN.load, { kind: SpanKind.CLIENT, attributes: { [ATTR.urlPath]: load.endpoint, [ATTR.attempt]: load.attempt } }, parent);
    loads.set(load, span);
    open++;
  }

  function closeLoad(message: unknown): void {
    const load = message as LoadTrace;
    const span = loads.get(load);
    if (span === undefined) return;
    loads.delete(load);
    closing();
    if (span.isRecording()) {
      if (load.statusClass !== undefined) span.setAttribute(ATTR.statusClass, load.statusClass);
      if (load.error !== undefined) {
        span.setAttribute(ATTR.errorType, errorTypeOf(load.error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }

  decisionStart.bindStore(current, openDecision);
  const stopOpening = subscribeAll({ 'tracing:genauth-guard:load:start': openLoad });
  // The cache result too: an open decision's span gets it after disable(), new ones have no scope.
  stopClosing = subscribeAll({
    'tracing:genauth-guard:decision:end': endDecision,
    'tracing:genauth-guard:decision:asyncEnd': closeDecision,
    'genauth-guard:cache': noteCache,
    'tracing:genauth-guard:load:asyncEnd': closeLoad,
  });
  return () => {
    decisionStart.unbindStore(current);
    stopOpening();
    disabled = true;
    if (open === 0) stopClosing();
  };
}
