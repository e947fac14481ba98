/**
 * Every adapter (Express 4/5, Koa 2/3, Fastify, Nest on both platforms), route and API mode, over
 * real HTTP: each decision is told exactly once (the decision channel, `onDecision`, one decision
 * trace), a request that ends before a decision (401) is told nothing, a failed decision (503) is told
 * as a trace error only, and every span the OpenTelemetry bridge opens is ended, a request whose client
 * left while its decision waited included. No payload carries the token, its query string or GenAuth's
 * error text.
 */
import diagnostics from 'node:diagnostics_channel';
import { request as httpRequest } from 'node:http';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/options.js';
import { instrumentGenAuthGuard } from '../../src/otel/index.js';
import { ROWS, RESOURCES, bearer, capture, optionsFor, send, startProbe, useAdversarialEnv, type Probe } from '../adversarial/harness.js';
import { seedStandardTenant, until } from '../fixtures.js';

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
const counting: SpanProcessor = { onStart: () => void spans.started++, onEnd: () => void spans.ended++, forceFlush: async () => {}, shutdown: async () => {} };
const otel = instrumentGenAuthGuard({ tracerProvider: new BasicTracerProvider({ spanProcessors: [counting] }) });
afterAll(() => {
  otel.disable();
  for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener);
});

let probe: Probe | undefined;
beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  await probe?.close();
  probe = undefined;
});

const records: DecisionRecord[] = [];
const count = (channel: string) => events.filter(([name]) => name === channel).length;

/** What one request was told: the decision channel, onDecision and the decision trace's phases. */
function told() {
  return {
    decision: count('genauth-guard:decision'),
    records: records.length,
    start: count('tracing:genauth-guard:decision:start'),
    end: count('tracing:genauth-guard:decision:end'),
    asyncEnd: count('tracing:genauth-guard:decision:asyncEnd'),
    error: count('tracing:genauth-guard:decision:error'),
  };
}

async function ask(target: string, method: string, headers: Record<string, string>): Promise<{ status: number; told: ReturnType<typeof told> }> {
  events = [];
  records.length = 0;
  const { status } = await send((probe as Probe).port, { method, target, headers });
  return { status, told: told() };
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

const WAITED = { decision: 1, records: 1, start: 1, end: 1, asyncEnd: 1, error: 0 };
const AT_ONCE = { decision: 1, records: 1, start: 1, end: 1, asyncEnd: 0, error: 0 };
const NONE = { decision: 0, records: 0, start: 0, end: 0, asyncEnd: 0, error: 0 };
const FAILED = { decision: 0, records: 0, start: 1, end: 1, asyncEnd: 1, error: 1 };

describe.each(ROWS)('$name', (row) => {
  it('route mode: each decision told once, none before a decision, a failure as a trace error; every span ended', async () => {
    spans.started = 0;
    spans.ended = 0;
    probe = await startProbe(row, { options: optionsFor(emulator(), { onDecision: (record: DecisionRecord) => void records.push(record) }) });
    const alice = bearer(await emulator().mintToken('alice'));
    expect(await ask(`/api/v1/reports?access_token=${QUERY_SECRET}`, 'GET', alice)).toEqual({ status: 200, told: WAITED });
    expect(await ask('/api/v1/reports', 'GET', alice)).toEqual({ status: 200, told: AT_ONCE });
    expect(await ask('/api/v1/servers/2/start', 'POST', alice)).toEqual({ status: 403, told: AT_ONCE });
    expect(await ask('/api/v1/reports', 'GET', {})).toEqual({ status: 401, told: NONE });
    probe.core.invalidateAll();
    emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES });
    expect(await ask('/api/v1/reports', 'GET', alice)).toEqual({ status: 503, told: FAILED });
    emulator().clearFaults();
    // The client leaves while the decision waits on GenAuth: the decision is still made, told once, its span ended.
    probe.core.invalidateAll();
    events = [];
    emulator().fault({ kind: 'latency', ms: 200, path: RESOURCES, times: 1 });
    await leave(probe.port, '/api/v1/reports', alice);
    await until(() => count('genauth-guard:decision') === 1, 5000, 'the decision of the request whose client left');
    expect(told()).toEqual(WAITED);
    // Its handler does not run (docs/observability.md): the two 200s above only.
    expect(capture.handled).toBe(2);
    expect(spans.ended).toBe(spans.started);
    const published = events.map(([name, payload]) => `${name} ${payload}`).join('\n');
    for (const secret of [UPSTREAM_TEXT, QUERY_SECRET, (alice.authorization ?? '').slice(7)]) expect(published).not.toContain(secret);
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
    expect(await ask('/api/v1/servers/1', 'GET', {})).toEqual({ status: 401, told: NONE });
    probe.core.invalidateAll();
    emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES });
    expect(await ask('/api/v1/servers/1', 'GET', alice)).toEqual({ status: 503, told: FAILED });
    expect(spans.ended).toBe(spans.started);
    const published = events.map(([name, payload]) => `${name} ${payload}`).join('\n');
    for (const secret of [UPSTREAM_TEXT, QUERY_SECRET]) expect(published).not.toContain(secret);
  });
});
