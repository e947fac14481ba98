/**
 * `onDecision` over real HTTP: one record per decision (allowed or denied, route and API mode,
 * `check()`), the cache state and the duration on the guard's clock; what the callback throws is
 * reported once and never changes an answer.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { DecisionRecord, GuardOptions } from '../../src/options.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, resetToAliceReading } from '../fixtures.js';

const emulator = useEmulator();

let guard: ExpressGuard | undefined;
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('bob', [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/users', actions: ['read'] }]);
});
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

function appWith(options: Partial<GuardOptions>): express.Express {
  guard = createExpressGuard({ ...emulator().guardOptions(), ...options });
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  app.use('/api', guard.api(), (_req, res) => void res.send('ok'));
  return app;
}

const READ_GRANT = { code: 'reports', type: 'DATA', effect: 'ALLOW', actions: ['reports:Read'], apiIdentifier: null };

it('records each decision: user, resource, actions, verdict, deciding grant, cache state and duration', async () => {
  const time = manualClock();
  const records: DecisionRecord[] = [];
  // The manual clock stands still: 0 shows the duration is read on the guard's clock.
  const app = appWith({ clock: time.clock, onDecision: (record) => records.push(record), cache: { ttl: 1_000, maxStale: 60_000, staleWhileRevalidate: true } });
  const alice = `Bearer ${await emulator().mintToken('alice', { expiresIn: 3600 })}`;
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  time.advance(2_000);
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect(records).toEqual([
    { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed', grant: expect.objectContaining({ code: 'reports', effect: 'ALLOW' }), cache: 'miss', durationMs: 0 },
    { userId: 'alice', resource: 'reports', actions: ['reports:Write'], allowed: false, reason: 'no_grant', grant: undefined, cache: 'hit', durationMs: 0 },
    { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed', grant: expect.objectContaining({ code: 'reports' }), cache: 'stale', durationMs: 0 },
  ]);
  expect(records[0]?.grant).toMatchObject({ actions: ['reports:Read'], apiIdentifier: null });
});

it('API mode records the method and the canonical path; check() is recorded too; cache: false is none', async () => {
  const records: DecisionRecord[] = [];
  const app = appWith({ cache: false, onDecision: (record) => records.push(record) });
  const bob = `Bearer ${await emulator().mintToken('bob')}`;
  expect((await request(app).get('/api/users?token=secret').set('authorization', bob)).status).toBe(200);
  expect((await request(app).delete('/api/users').set('authorization', bob)).status).toBe(403);
  await guard?.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
  expect(records.map(({ durationMs: _d, grant: _g, ...rest }) => rest)).toEqual([
    { userId: 'bob', resource: '/api/users', method: 'GET', path: '/api/users', actions: ['read'], allowed: true, reason: 'allowed', cache: 'none' },
    { userId: 'bob', resource: '/api/users', method: 'DELETE', path: '/api/users', actions: ['delete'], allowed: false, reason: 'no_grant', cache: 'none' },
    { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed', cache: 'none' },
  ]);
  expect(records.every((record) => typeof record.durationMs === 'number' && record.durationMs >= 0)).toBe(true);
  expect(JSON.stringify(records)).not.toContain('secret');
});

it('an exception thrown by onDecision never changes the answer and is reported once', async () => {
  const warnings: string[] = [];
  let calls = 0;
  const app = appWith({
    logger: { warn: (message) => warnings.push(message) },
    onDecision: () => {
      calls++;
      throw new Error('the callback broke with alice in its message');
    },
  });
  const alice = `Bearer ${await emulator().mintToken('alice')}`;
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  expect(calls).toBe(3);
  expect(warnings).toEqual(['genauth-guard: onDecision threw (Error); later errors are not reported']);
});

it('an async onDecision that rejects (a record written to a store that is down) is reported once, never an unhandled rejection', async () => {
  const warnings: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  let calls = 0;
  try {
    const app = appWith({
      logger: { warn: (message) => warnings.push(message) },
      onDecision: async () => {
        calls++;
        throw new Error('the audit store is down');
      },
    });
    const alice = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
    // Unhandled rejections are told after a macrotask: wait one so a rejection left unhandled is seen.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(calls).toBe(3);
  expect(unhandled).toEqual([]);
  expect(warnings).toEqual(['genauth-guard: onDecision threw (Error); later errors are not reported']);
});

it('onDecision throwing something whose name cannot be read still leaves the answer as it was', async () => {
  const warnings: string[] = [];
  const hostile = new Error('odd');
  Object.defineProperty(hostile, 'name', {
    get() {
      throw new Error('no name');
    },
  });
  const app = appWith({
    logger: { warn: (message) => warnings.push(message) },
    onDecision: () => {
      throw hostile;
    },
  });
  const alice = `Bearer ${await emulator().mintToken('alice')}`;
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  // Named by its type: its name could not be read.
  expect(warnings).toEqual(['genauth-guard: onDecision threw (object); later errors are not reported']);
});

it('denials are not logged; no decision (401, 503) means no record', async () => {
  const warnings: string[] = [];
  const records: DecisionRecord[] = [];
  const app = appWith({ logger: { warn: (message) => warnings.push(message) }, onDecision: (record) => records.push(record) });
  const alice = `Bearer ${await emulator().mintToken('alice')}`;
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  expect((await request(app).get('/w').set('authorization', 'Bearer abc')).status).toBe(401);
  emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
  expect((await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken('carol')}`)).status).toBe(503);
  expect(records.map((record) => [record.userId, record.reason])).toEqual([['alice', 'no_grant']]);
  expect(warnings).toEqual([]);
});

it('onDecision must be a function', () => {
  expect(() => createExpressGuard({ ...emulator().guardOptions(), onDecision: 'log' as never })).toThrow(
    new TypeError('genauth-guard: option "onDecision" must be a function (record) => void'),
  );
});
