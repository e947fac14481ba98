/**
 * The decision tracing channel around decisions made at once from fresh cached grants (the hot path),
 * over real HTTP (Express + the emulator): `start` and `end` fire, in the same call, with the documented
 * context (`allowed` and `reason` set by `end`, `synchronous: true`); a 403 is a result, not an error.
 */
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, closeAfterEach, useEmulator, resetToAliceReading } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

type Seen = Array<[string, Record<string, unknown>]>;

/** The decision tracing channel's events (a copy of the context at each), and the plain cache and decision channels. */
function record(): { events: Seen; stop(): void } {
  const events: Seen = [];
  const channel = diagnostics.tracingChannel('genauth-guard:decision');
  const at = (phase: string) => (message: unknown) => {
    const { result: _result, ...rest } = message as Record<string, unknown>;
    events.push([phase, rest]);
  };
  const handlers = { start: at('start'), end: at('end'), asyncStart: at('asyncStart'), asyncEnd: at('asyncEnd'), error: at('error') };
  const plain = (name: string) => (message: unknown) => events.push([name, { ...(message as Record<string, unknown>) }]);
  const onCache = plain('cache');
  const onDecision = plain('decision');
  channel.subscribe(handlers);
  diagnostics.subscribe('genauth-guard:cache', onCache);
  diagnostics.subscribe('genauth-guard:decision', onDecision);
  return {
    events,
    stop() {
      channel.unsubscribe(handlers);
      diagnostics.unsubscribe('genauth-guard:cache', onCache);
      diagnostics.unsubscribe('genauth-guard:decision', onDecision);
    },
  };
}

let seen: { events: Seen; stop(): void } | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('bob', [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/users', actions: ['read'] }]);
});
afterEach(() => {
  seen?.stop();
  seen = undefined;
});

function routeApp(): express.Express {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return app;
}

it('a warm allowed decision: start then end with the documented context, no async phase', async () => {
  const app = routeApp();
  const token = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200); // loads the grants
  seen = record();
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  expect(seen.events).toEqual([
    ['cache', { kind: 'hit', userId: 'alice' }],
    ['start', { userId: 'alice', resource: 'reports', synchronous: true }],
    ['end', { userId: 'alice', resource: 'reports', synchronous: true, allowed: true, reason: 'allowed' }],
    ['decision', { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed' }],
  ]);
});

it('a warm denial: the same, a result (no error event), and the answer is still 403', async () => {
  const app = routeApp();
  const token = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);
  seen = record();
  const response = await request(app).get('/w').set('authorization', token);
  expect(response.status).toBe(403);
  expect(response.body).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  expect(seen.events).toEqual([
    ['cache', { kind: 'hit', userId: 'alice' }],
    ['start', { userId: 'alice', resource: 'reports', synchronous: true }],
    ['end', { userId: 'alice', resource: 'reports', synchronous: true, allowed: false, reason: 'no_grant' }],
    ['decision', { userId: 'alice', resource: 'reports', actions: ['reports:Write'], allowed: false, reason: 'no_grant' }],
  ]);
});

it('a decision that waits is not marked synchronous: start, end, then asyncStart and asyncEnd', async () => {
  const app = routeApp();
  seen = record();
  expect((await request(app).get('/w').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(403);
  const phases = seen.events.filter(([name]) => ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].includes(name));
  expect(phases.map(([name]) => name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  expect(phases.every(([, context]) => !('synchronous' in context))).toBe(true);
  expect(phases[3]?.[1]).toEqual({ userId: 'alice', resource: 'reports', allowed: false, reason: 'no_grant' });
});

it('API mode, warm: the method and the canonical path (never the query), allowed and refused', async () => {
  const guard = track(createExpressGuard(emulator().guardOptions()));
  const app = express();
  app.use('/api', guard.api(), (_req, res) => void res.send('ok'));
  const token = await bearerFor(emulator(), 'bob');
  expect((await request(app).get('/api/users').set('authorization', token)).status).toBe(200); // loads the grants
  seen = record();
  expect((await request(app).get('/api/users?token=secret').set('authorization', token)).status).toBe(200);
  expect((await request(app).delete('/api/users').set('authorization', token)).status).toBe(403);
  const traced = seen.events.filter(([name]) => name !== 'cache' && name !== 'decision');
  expect(traced).toEqual([
    ['start', { userId: 'bob', resource: '/api/users', method: 'GET', synchronous: true }],
    ['end', { userId: 'bob', resource: '/api/users', method: 'GET', synchronous: true, allowed: true, reason: 'allowed' }],
    ['start', { userId: 'bob', resource: '/api/users', method: 'DELETE', synchronous: true }],
    ['end', { userId: 'bob', resource: '/api/users', method: 'DELETE', synchronous: true, allowed: false, reason: expect.any(String) }],
  ]);
  expect(traced[3]?.[1].reason).not.toBe('allowed');
  expect(JSON.stringify(seen.events)).not.toContain('secret');
});
