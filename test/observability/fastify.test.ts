/** The same events and records on Fastify as on Express: the core publishes them, not an adapter. */
import diagnostics from 'node:diagnostics_channel';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { genauthGuard } from '../../src/adapters/fastify.js';
import type { DecisionRecord } from '../../src/options.js';
import { RESOURCES, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

it('Fastify: load trace, cache, decision events and onDecision records', async () => {
  emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  const records: DecisionRecord[] = [];
  const events: Array<[string, unknown]> = [];
  const plain = (name: string) => (message: unknown) => events.push([name, { ...(message as object) }]);
  const onCache = plain('cache');
  const onDecisionEvent = plain('decision');
  const loadEnd = { asyncEnd: plain('load') };
  diagnostics.subscribe('genauth-guard:cache', onCache);
  diagnostics.subscribe('genauth-guard:decision', onDecisionEvent);
  diagnostics.tracingChannel('genauth-guard:load').subscribe(loadEnd as never);
  const app = Fastify();
  try {
    app.register(genauthGuard, { ...emulator().guardOptions(), onDecision: (record) => records.push(record) });
    await app.after();
    app.get('/r', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'ok');
    app.get('/w', { config: { genauth: { resource: 'reports', requirement: 'reports:Write' } } }, async () => 'ok');
    const authorization = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await app.inject({ method: 'GET', url: '/r', headers: { authorization } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/w', headers: { authorization } })).statusCode).toBe(403);
  } finally {
    diagnostics.unsubscribe('genauth-guard:cache', onCache);
    diagnostics.unsubscribe('genauth-guard:decision', onDecisionEvent);
    diagnostics.tracingChannel('genauth-guard:load').unsubscribe(loadEnd as never);
    await app.close();
  }
  expect(events).toEqual([
    ['load', expect.objectContaining({ endpoint: RESOURCES, attempt: 0, statusClass: '2xx' })],
    ['cache', { kind: 'miss', userId: 'alice' }],
    ['decision', { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed' }],
    ['cache', { kind: 'hit', userId: 'alice' }],
    ['decision', { userId: 'alice', resource: 'reports', actions: ['reports:Write'], allowed: false, reason: 'no_grant' }],
  ]);
  expect(records.map((record) => [record.allowed, record.reason, record.cache])).toEqual([
    [true, 'allowed', 'miss'],
    [false, 'no_grant', 'hit'],
  ]);
});
