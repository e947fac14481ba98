/**
 * Every adapter (Express 4/5, Koa 2/3, Fastify, Nest on both platforms), route and API mode, over
 * real HTTP: each decision is told exactly once (the decision channel, `onDecision`, one decision
 * trace), a request that ends before a decision (401) is told nothing, a failed decision (503, or the
 * 500 of a resource the guard refuses, cached grants or not) is told as a trace error only, and every
 * span the OpenTelemetry bridge opens is ended, a request whose client left while its decision waited
 * included. The bridge sees each decision once: one decision span and one count in
 * `genauth_guard.decisions` (`error` with its code for a failure); a token refused (the JWKS unreachable:
 * 503; none presented: 401 `missing`) is counted in `genauth_guard.token.refusals`. No payload carries the token, its query string or
 * GenAuth's error text.
 */
import diagnostics from 'node:diagnostics_channel';
import { request as httpRequest } from 'node:http';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/options.js';
import { instrumentGenAuthGuard } from '../../src/otel/index.js';
import { ROWS, RESOURCES, bearer, capture, optionsFor, send, startProbe, useAdversarialEnv, type Probe } from '../adversarial/harness.js';
import { seedStandardTenant, until } from '../fixtures.js';
import { points, startTestSdk } from '../otel/sdk.js';

const emulator = useAdversarialEnv();
const UPSTREAM_TEXT = 'upstream-detail-in-the-error-body-5c1e';
const QUERY_SECRET = 'query-secret-9d2b';
const CHANNELS = [
  'genauth-guard:decision',
  'genauth-guard:token',
  'genauth-guard:cache',
  'genauth-guard:upstream',
  ...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((phase) => `tracing:genauth-guard:decision:${phase}`),
  ...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((phase) => `tracing:genauth-guard:load:${phase}`),
];

/** [channel, the payload as JSON (an error by its name and message)] of every publication. */
let events: Array<[string, string]> = [];
const asJson = (message: unknown) => JSON.stringify(message, (_key, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value));
const listeners = CHANNELS.map((name) => [name, (message: unknown) => void events.push([name, asJson(message)])] as const);
for (const [name, listener] of listeners) diagnostics.subscribe(name, listener);

const spans = { started: 0, ended: 0 };
/** `outcome/reason` of each decision span ended since the last request began. */
let decisionSpans: string[] = [];
const outcomeOf = (span: ReadableSpan) => `${String(span.attributes['genauth_guard.decision.outcome'])}/${String(span.attributes['genauth_guard.decision.reason'])}`;
const counting: SpanProcessor = {
  onStart: () => void spans.started++,
  onEnd: (span) => {
    spans.ended++;
    if (span.name === 'genauth-guard.decision') decisionSpans.push(outcomeOf(span));
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const meters = startTestSdk();
const otel = instrumentGenAuthGuard({ tracerProvider: new BasicTracerProvider({ spanProcessors: [counting] }), meterProvider: meters.meterProvider });
afterAll(async () => {
  otel.disable();
  for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener);
  await meters.shutdown();
});

/** Each point of a counter as `a/b` (its attributes' values) -> its value. */
async function counter(name: string): Promise<Map<string, number>> {
  return new Map(points((await meters.metrics()).get(name)).map((point) => [Object.values(point.attributes).map(String).join('/'), point.value]));
}
/** The counters as the last request began. */
let before = { decisions: new Map<string, number>(), refusals: new Map<string, number>() };
/** The points of a counter that moved since the last request began, each as often as it moved. */
function moved(now: Map<string, number>, then: Map<string, number>): string[] {
  return [...now].flatMap(([key, value]) => Array<string>(value - (then.get(key) ?? 0)).fill(key));
}

let probe: Probe | undefined;
beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  await probe?.close();
  probe = undefined;
});

const records: DecisionRecord[] = [];
const count = (channel: string) => events.filter(([name]) => name === channel).length;

/** Forgets what earlier requests were told. */
async function forget(): Promise<void> {
  events = [];
  records.length = 0;
  decisionSpans = [];
  before = { decisions: await counter('genauth_guard.decisions'), refusals: await counter('genauth_guard.token.refusals') };
}

/**
 * What one request was told: the decision channel, onDecision, the decision trace's phases, and of the
 * bridge the decision spans ended and the counts in `genauth_guard.decisions` and `genauth_guard.token.refusals`.
 */
async function told() {
  return {
    decision: count('genauth-guard:decision'),
    records: records.length,
    start: count('tracing:genauth-guard:decision:start'),
    end: count('tracing:genauth-guard:decision:end'),
    asyncEnd: count('tracing:genauth-guard:decision:asyncEnd'),
    error: count('tracing:genauth-guard:decision:error'),
    spans: decisionSpans.length,
    counted: moved(await counter('genauth_guard.decisions'), before.decisions).length,
    refused: moved(await counter('genauth_guard.token.refusals'), before.refusals),
    token: events.filter(([name]) => name === 'genauth-guard:token').map(([, payload]) => payload),
  };
}

async function ask(target: string, method: string, headers: Record<string, string>): Promise<{ status: number; told: Awaited<ReturnType<typeof told>> }> {
  await forget();
  const { status } = await send((probe as Probe).port, { method, target, headers });
  return { status, told: await told() };
}

/** How the bridge recorded the last request's decision: its span's and its count's `outcome/reason`. */
async function recorded(): Promise<{ span: string[]; count: string[] }> {
  return { span: decisionSpans, count: moved(await counter('genauth_guard.decisions'), before.decisions) };
}

/** Sends a request and leaves once GenAuth was asked for its grants, before the answer. */
async function leave(port: number, target: string, headers: Record<string, string>): Promise<void> {
  const asked = emulator().callCount(RESOURCES);
  const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: target, headers, agent: false });
  req.on('error', () => {});
  req.end();
  await until(() => emulator().callCount(RESOURCES) > asked, 5000, 'the grants asked for');
  req.destroy();
}

const WAITED = { decision: 1, records: 1, start: 1, end: 1, asyncEnd: 1, error: 0, spans: 1, counted: 1, refused: [], token: [] };
const AT_ONCE = { decision: 1, records: 1, start: 1, end: 1, asyncEnd: 0, error: 0, spans: 1, counted: 1, refused: [], token: [] };
const NONE = { decision: 0, records: 0, start: 0, end: 0, asyncEnd: 0, error: 0, spans: 0, counted: 0, refused: [], token: [] };
/** No token presented (401): no decision, a token refused for reason `missing`, on the channel and in the bridge's count. */
const MISSING = { ...NONE, refused: ['missing'], token: ['{"reason":"missing"}'] };
const FAILED = { decision: 0, records: 0, start: 1, end: 1, asyncEnd: 1, error: 1, spans: 1, counted: 1, refused: [], token: [] };
/** A resource the guard refuses (500): a decision that fails at once, before its grants are read or from the cached ones. */
const REFUSED = { decision: 0, records: 0, start: 1, end: 1, asyncEnd: 0, error: 1, spans: 1, counted: 1, refused: [], token: [] };
const AS_INTERNAL = { span: ['error/ERR_INTERNAL'], count: ['error/ERR_INTERNAL'] };

describe.each(ROWS)('$name', (row) => {
  it('route mode: each decision told once, none before a decision (a missing token told as a token refused), a failure as a trace error; every span ended', async () => {
    spans.started = 0;
    spans.ended = 0;
    probe = await startProbe(row, { options: optionsFor(emulator(), { onDecision: (record: DecisionRecord) => void records.push(record) }) });
    const alice = bearer(await emulator().mintToken('alice'));
    expect(await ask(`/api/v1/reports?access_token=${QUERY_SECRET}`, 'GET', alice)).toEqual({ status: 200, told: WAITED });
    expect(await ask('/api/v1/reports', 'GET', alice)).toEqual({ status: 200, told: AT_ONCE });
    expect(await ask('/api/v1/servers/2/start', 'POST', alice)).toEqual({ status: 403, told: AT_ONCE });
    expect(await ask('/api/v1/reports', 'GET', {})).toEqual({ status: 401, told: MISSING });
    // A resource the guard refuses (a missing value in the code): from the cached grants, from a resource
    // function that resolves it later, and with nothing cached. Each a failed decision, told as one.
    expect(await ask('/api/v1/servers/undefined/start', 'POST', alice)).toEqual({ status: 500, told: REFUSED });
    expect(await recorded()).toEqual(AS_INTERNAL);
    expect(await ask('/api/v1/disks/NaN', 'DELETE', alice)).toEqual({ status: 500, told: REFUSED });
    expect(await recorded()).toEqual(AS_INTERNAL);
    probe.core.invalidateAll();
    expect(await ask('/api/v1/servers/undefined/start', 'POST', alice)).toEqual({ status: 500, told: REFUSED });
    expect(await recorded()).toEqual(AS_INTERNAL);
    probe.core.invalidateAll();
    emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES });
    expect(await ask('/api/v1/reports', 'GET', alice)).toEqual({ status: 503, told: FAILED });
    expect(await recorded()).toEqual({ span: ['error/ERR_PERMISSIONS_UNAVAILABLE'], count: ['error/ERR_PERMISSIONS_UNAVAILABLE'] });
    emulator().clearFaults();
    // The client leaves while the decision waits on GenAuth: the decision is still made, told once, its span ended.
    probe.core.invalidateAll();
    await forget();
    emulator().fault({ kind: 'latency', ms: 200, path: RESOURCES, times: 1 });
    await leave(probe.port, '/api/v1/reports', alice);
    await until(() => count('genauth-guard:decision') === 1, 5000, 'the decision of the request whose client left');
    await until(() => decisionSpans.length === 1, 5000, 'the span of the request whose client left');
    expect(await told()).toEqual(WAITED);
    // Its handler does not run (docs/observability.md): the two 200s above only.
    expect(capture.handled).toBe(2);
    expect(spans.ended).toBe(spans.started);
    const published = events.map(([name, payload]) => `${name} ${payload}`).join('\n');
    for (const secret of [UPSTREAM_TEXT, QUERY_SECRET, (alice.authorization ?? '').slice(7)]) expect(published).not.toContain(secret);
  });

  it('the JWKS unreachable: a 503 told as no decision, counted as a token refused', async () => {
    probe = await startProbe(row, { options: optionsFor(emulator(), { onDecision: (record: DecisionRecord) => void records.push(record) }) });
    emulator().setJwksAvailable(false);
    const alice = bearer(await emulator().mintToken('alice'));
    expect(await ask('/api/v1/reports', 'GET', alice)).toEqual({ status: 503, told: { ...NONE, refused: ['keys_unavailable'], token: ['{"reason":"keys_unavailable"}'] } });
    expect(await ask('/api/v1/reports', 'GET', bearer('not.a.jwt'))).toEqual({ status: 401, told: { ...NONE, refused: ['malformed'], token: ['{"reason":"malformed"}'] } });
  });

  it('API mode: each decision told once (method and canonical path, never the query), none for a public path or before a decision', async () => {
    spans.started = 0;
    spans.ended = 0;
    emulator().setGrants('alice', [{ resourceCode: 'server', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers/:id' }]);
    probe = await startProbe(row, { options: optionsFor(emulator(), { onDecision: (record: DecisionRecord) => void records.push(record) }), api: { publicPaths: ['/health'] } });
    const alice = bearer(await emulator().mintToken('alice'));
    expect(await ask(`/api/v1/servers/1?token=${QUERY_SECRET}`, 'GET', alice)).toEqual({ status: 200, told: WAITED });
    expect(await ask(`/api/v1/servers/1?token=${QUERY_SECRET}`, 'GET', alice)).toEqual({ status: 200, told: AT_ONCE });
    expect(records[0]).toMatchObject({ method: 'GET', path: '/api/v1/servers/1', allowed: true });
    expect(await ask('/api/v1/servers/1', 'DELETE', alice)).toEqual({ status: 403, told: AT_ONCE });
    expect(await ask('/health', 'GET', {})).toEqual({ status: 200, told: NONE });
    expect(await ask('/api/v1/servers/1', 'GET', {})).toEqual({ status: 401, told: MISSING });
    probe.core.invalidateAll();
    emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES });
    expect(await ask('/api/v1/servers/1', 'GET', alice)).toEqual({ status: 503, told: FAILED });
    expect(spans.ended).toBe(spans.started);
    const published = events.map(([name, payload]) => `${name} ${payload}`).join('\n');
    for (const secret of [UPSTREAM_TEXT, QUERY_SECRET]) expect(published).not.toContain(secret);
  });
});
