/**
 * The observability channels over real HTTP (Express + the emulator): what subscribers see on allow,
 * deny, miss, hit, stale, an upstream error, invalidation and a refused token, and that no payload
 * carries a token, a secret or upstream text.
 */
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GuardOptions } from '../../src/options.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, resetToAliceReading } from '../fixtures.js';

const emulator = useEmulator();
const UPSTREAM_TEXT = 'UPSTREAM-TEXT-NEVER-SHOWN';

/** Every plain and tracing channel, recorded in order as [channel, copy of the payload]. */
function record(): { events: Array<[string, Record<string, unknown>]>; stop(): void } {
  const events: Array<[string, Record<string, unknown>]> = [];
  const names = ['genauth-guard:decision', 'genauth-guard:upstream', 'genauth-guard:cache', 'genauth-guard:retry-refused', 'genauth-guard:token'];
  const plain = names.map((name) => {
    const listener = (message: unknown) => events.push([name, { ...(message as Record<string, unknown>) }]);
    diagnostics.subscribe(name, listener);
    return () => diagnostics.unsubscribe(name, listener);
  });
  const traced = ['genauth-guard:load', 'genauth-guard:decision'].map((name) => {
    const channel = diagnostics.tracingChannel(name);
    const at = (phase: string) => (message: unknown) => {
      const { result: _result, ...rest } = message as Record<string, unknown>;
      events.push([`tracing:${name}:${phase}`, rest]);
    };
    const handlers = { start: at('start'), end: at('end'), asyncStart: at('asyncStart'), asyncEnd: at('asyncEnd'), error: at('error') };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  return { events, stop: () => [...plain, ...traced].forEach((stop) => stop()) };
}

let guard: ExpressGuard | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
});
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

function appWith(options: Partial<GuardOptions> = {}): express.Express {
  guard = createExpressGuard({ ...emulator().guardOptions(), ...options });
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return app;
}

const names = (events: Array<[string, unknown]>) => events.map(([name]) => name);

it('miss then hit: a load trace and a decision trace on the miss, a synchronous decision trace on the hit', async () => {
  const app = appWith();
  const token = `Bearer ${await emulator().mintToken('alice')}`;
  const seen = record();
  try {
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    expect(names(seen.events)).toEqual([
      'tracing:genauth-guard:decision:start',
      'tracing:genauth-guard:load:start',
      'tracing:genauth-guard:load:end',
      'tracing:genauth-guard:decision:end',
      'tracing:genauth-guard:load:asyncStart',
      'tracing:genauth-guard:load:asyncEnd',
      'genauth-guard:upstream',
      'genauth-guard:cache',
      'tracing:genauth-guard:decision:asyncStart',
      'tracing:genauth-guard:decision:asyncEnd',
      'genauth-guard:decision',
    ]);
    const byName = (name: string) => seen.events.filter(([n]) => n === name).map(([, payload]) => payload);
    const [loadEnd] = byName('tracing:genauth-guard:load:asyncEnd');
    expect(loadEnd).toMatchObject({ endpoint: RESOURCES, attempt: 0, statusClass: '2xx' });
    expect(typeof loadEnd?.durationMs).toBe('number');
    expect(byName('tracing:genauth-guard:decision:asyncEnd')).toEqual([{ userId: 'alice', resource: 'reports', allowed: true, reason: 'allowed' }]);
    expect(byName('genauth-guard:cache')).toEqual([{ kind: 'miss', userId: 'alice' }]);
    expect(byName('genauth-guard:decision')).toEqual([{ userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed' }]);

    seen.events.length = 0;
    expect((await request(app).get('/w').set('authorization', token)).status).toBe(403);
    // The synchronous hot path: a hit, a traceSync decision (start and end only), the decision.
    expect(seen.events).toEqual([
      ['genauth-guard:cache', { kind: 'hit', userId: 'alice' }],
      ['tracing:genauth-guard:decision:start', { userId: 'alice', resource: 'reports', synchronous: true }],
      ['tracing:genauth-guard:decision:end', { userId: 'alice', resource: 'reports', synchronous: true, allowed: false, reason: 'no_grant' }],
      ['genauth-guard:decision', { userId: 'alice', resource: 'reports', actions: ['reports:Write'], allowed: false, reason: 'no_grant' }],
    ]);
  } finally {
    seen.stop();
  }
});

it('stale served on an upstream error, then invalidation; no payload carries the token, the secret or upstream text', async () => {
  const time = manualClock();
  const app = appWith({ clock: time.clock, cache: { ttl: 1_000, maxStale: 60_000, staleWhileRevalidate: false }, genauth: { ...emulator().guardOptions().genauth, retries: 0 } });
  const token = `Bearer ${await emulator().mintToken('alice', { expiresIn: 3600 })}`;
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  time.advance(2_000);
  emulator().fault({ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT });
  const seen = record();
  try {
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
    const payloads = (name: string) => seen.events.filter(([n]) => n === name).map(([, payload]) => payload);
    expect(payloads('genauth-guard:cache')).toEqual([{ kind: 'stale', userId: 'alice' }]);
    const [failed] = payloads('tracing:genauth-guard:load:error');
    expect(failed).toMatchObject({ endpoint: RESOURCES, attempt: 0 });
    expect(failed?.error).toBeInstanceOf(Error);
    expect(payloads('tracing:genauth-guard:load:asyncEnd')[0]).toMatchObject({ statusClass: expect.any(String), durationMs: 0 });
    expect(payloads('genauth-guard:upstream')[0]).toMatchObject({ outcome: 'error_envelope', attempt: 0 });

    guard?.invalidateUser('alice');
    guard?.invalidateAll();
    expect(payloads('genauth-guard:cache').slice(1)).toEqual([{ kind: 'invalidate', userId: 'alice' }, { kind: 'invalidate', userId: undefined }]);

    const secret = emulator().guardOptions().genauth.accessKeySecret as string;
    const text = JSON.stringify(seen.events, (_key, value: unknown) => (value instanceof Error ? { message: value.message, name: value.name } : value));
    expect(text).not.toContain(token.slice(7));
    expect(text).not.toContain(secret);
    expect(text).not.toContain(UPSTREAM_TEXT);
  } finally {
    seen.stop();
  }
});

it('a refused token is told by its reason only', async () => {
  const app = appWith();
  const expired = await emulator().mintToken('alice', { expiresIn: -60 });
  const seen = record();
  try {
    expect((await request(app).get('/r').set('authorization', 'Bearer abc')).status).toBe(401);
    expect((await request(app).get('/r').set('authorization', `Bearer ${expired}`)).status).toBe(401);
    expect(seen.events).toEqual([
      ['genauth-guard:token', { reason: 'malformed' }],
      ['genauth-guard:token', { reason: 'expired' }],
    ]);
  } finally {
    seen.stop();
  }
});

it('a retry the retry budget refuses is told', async () => {
  const app = appWith({ genauth: { ...emulator().guardOptions().genauth, retries: 3, retryBudget: { ratio: 0.2, minPerSecond: 0 } } });
  emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
  const seen = record();
  try {
    for (const user of ['u1', 'u2', 'u3']) {
      expect((await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`)).status).toBe(503);
    }
    const refused = seen.events.filter(([n]) => n === 'genauth-guard:retry-refused').map(([, payload]) => payload);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toEqual({ path: RESOURCES, attempt: expect.any(Number), outcome: 'http_status' });
    const failures = seen.events.filter(([n]) => n === 'tracing:genauth-guard:load:asyncEnd').map(([, payload]) => payload.statusClass);
    expect(failures.every((statusClass) => statusClass === '5xx')).toBe(true);
  } finally {
    seen.stop();
  }
});

it('an eviction and an entry refused for its size are told', async () => {
  emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  emulator().setGrants('big', Array.from({ length: 50 }, (_, i) => ({ resourceCode: `code-${i}`, actions: ['reports:Read'] })));
  const app = appWith({ cache: { max: 1, maxEntryBytes: 4_000, maxBytes: 1_000_000 } });
  const seen = record();
  try {
    for (const user of ['alice', 'bob', 'big']) {
      expect((await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`)).status).toBe(user === 'big' ? 403 : 200);
    }
    const cache = seen.events.filter(([n]) => n === 'genauth-guard:cache').map(([, payload]) => payload);
    expect(cache).toEqual([
      { kind: 'miss', userId: 'alice' },
      { kind: 'evict', userId: 'alice' },
      { kind: 'miss', userId: 'bob' },
      // big's load takes bob's place as it starts (max: 1); then it is too large to keep.
      { kind: 'evict', userId: 'bob' },
      { kind: 'oversize', userId: 'big' },
      { kind: 'miss', userId: 'big' },
    ]);
  } finally {
    seen.stop();
  }
});
