/**
 * The channels fire on Koa as on Express (channels.test.ts): decision, cache, upstream and token events
 * over a real Koa app, and the webhook's four channels (delivery, received, rejected, invalidation),
 * refusals decided before the body is read included.
 */
import diagnostics from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createKoaGuard, type KoaGuard } from '../../src/adapters/koa.js';
import { eventBody, jsonHeaders, post } from '../webhooks/http.js';
import { resetToAliceReading, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const SECRET = 'koa-webhook-secret-0123456789abcdef';
const CHANNELS = [
  'genauth-guard:decision', 'genauth-guard:upstream', 'genauth-guard:cache', 'genauth-guard:token', 'genauth-guard:webhook',
  'genauth-guard:webhook:received', 'genauth-guard:webhook:rejected', 'genauth-guard:webhook:invalidation',
];

let guard: KoaGuard;
let server: Server;
let port = 0;
beforeAll(async () => {
  guard = createKoaGuard(emulator().guardOptions());
  const router = new Router();
  router.get('/r', guard.requirePermission('reports', 'reports:Read'), (ctx) => {
    ctx.body = 'ok';
  });
  router.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
  const app = new Koa().use(router.routes());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await guard.close();
});
beforeEach(() => resetToAliceReading(emulator()));

/** Records every channel above as [channel, copy of the payload] while `run` runs. */
async function recorded(run: () => Promise<void>): Promise<Array<[string, Record<string, unknown>]>> {
  const events: Array<[string, Record<string, unknown>]> = [];
  const listeners = CHANNELS.map((name) => {
    const listener = (message: unknown) => events.push([name, { ...(message as Record<string, unknown>) }]);
    diagnostics.subscribe(name, listener);
    return () => diagnostics.unsubscribe(name, listener);
  });
  try {
    await run();
  } finally {
    listeners.forEach((stop) => stop());
  }
  return events;
}

const get = async (authorization: string) => (await post(port, '/r', { method: 'GET', headers: { authorization } })).status;

it('a miss, a hit and a refused token publish on Koa what they publish on Express', async () => {
  const token = `Bearer ${await emulator().mintToken('alice')}`;
  const events = await recorded(async () => {
    expect(await get(token)).toBe(200);
    expect(await get(token)).toBe(200);
    expect(await get('Bearer abc')).toBe(401);
  });
  const decision = { userId: 'alice', resource: 'reports', actions: ['reports:Read'], allowed: true, reason: 'allowed' };
  expect(events.map(([name]) => name)).toEqual([
    'genauth-guard:upstream', 'genauth-guard:cache', 'genauth-guard:decision',
    'genauth-guard:cache', 'genauth-guard:decision',
    'genauth-guard:token',
  ]);
  expect(events.slice(1)).toEqual([
    ['genauth-guard:cache', { kind: 'miss', userId: 'alice' }],
    ['genauth-guard:decision', decision],
    ['genauth-guard:cache', { kind: 'hit', userId: 'alice' }],
    ['genauth-guard:decision', decision],
    ['genauth-guard:token', { reason: 'malformed' }],
  ]);
});

it('webhooks: received, mapped to an invalidation, and rejected, each on its channel; never the secret', async () => {
  const events = await recorded(async () => {
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: eventBody('user:blocked', { user: { id: 'u9' } }) })).status).toBe(204);
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: eventBody('role:updated') })).status).toBe(204);
    // Refused on its headers alone, before the body is read.
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders('wrong-secret-0123456789abcdef'), body: eventBody('role:updated') })).status).toBe(401);
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: '{not json' })).status).toBe(400);
  });
  const webhook = events.filter(([name]) => name.startsWith('genauth-guard:webhook'));
  expect(webhook).toEqual([
    ['genauth-guard:webhook:received', { eventName: 'user:blocked' }],
    ['genauth-guard:webhook:invalidation', { eventName: 'user:blocked', kind: 'revokeUser', userId: 'u9', recorded: true }],
    ['genauth-guard:webhook', { eventName: 'user:blocked', status: 204, invalidatedUsers: 0, revokedUsers: 1, invalidatedAll: false }],
    ['genauth-guard:webhook:received', { eventName: 'role:updated' }],
    ['genauth-guard:webhook:invalidation', { eventName: 'role:updated', kind: 'invalidateAll', userId: undefined, recorded: true }],
    ['genauth-guard:webhook', { eventName: 'role:updated', status: 204, invalidatedUsers: 0, revokedUsers: 0, invalidatedAll: true }],
    ['genauth-guard:webhook', { eventName: undefined, status: 401, invalidatedUsers: 0, revokedUsers: 0, invalidatedAll: false }],
    ['genauth-guard:webhook:rejected', { eventName: undefined, status: 401, reason: 'bad_secret' }],
    ['genauth-guard:webhook', { eventName: undefined, status: 400, invalidatedUsers: 0, revokedUsers: 0, invalidatedAll: false }],
    ['genauth-guard:webhook:rejected', { eventName: undefined, status: 400, reason: 'malformed' }],
  ]);
  expect(JSON.stringify(events)).not.toContain(SECRET);
});
