// A request whose user is revoked while its decision waits (on GenAuth's answer, on the conditions
// context) is answered 401 `revoked`. Its observers (onDecision, the decision channel, the decision
// trace) must be told that refusal, once, never the "allowed" the grants reloaded for it gave. Over real
// HTTP: an Express app, the emulator holding the grants call with a latency fault.
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { DecisionRecord } from '../../src/options.js';
import type { GrantInput } from '../../src/testing/index.js';
import { RESOURCES, closeAfterEach, resetToAliceReading, until, useEmulator } from '../fixtures.js';
import { eventBody, jsonHeaders } from '../webhooks/http.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const SECRET = 'whsec-0123456789abcdef';

type Kind = 'route' | 'api';
const PATHS: Record<Kind, string> = { route: '/r', api: '/reports' };

/** What each observer was told, as [observer, payload]. */
interface Seen {
  records: DecisionRecord[];
  events: Array<Record<string, unknown>>;
  traces: Array<Record<string, unknown>>;
  stop(): void;
}

/** Subscribes to the decision channel and the decision trace (its ends); `records` fills from onDecision. */
function subscribe(): Seen {
  const seen: Seen = { records: [], events: [], traces: [], stop: () => {} };
  const onEvent = (message: unknown) => void seen.events.push({ ...(message as Record<string, unknown>) });
  const end = (phase: string) => (message: unknown) => {
    const { userId, resource, allowed, reason, error } = message as Record<string, unknown>;
    seen.traces.push({ phase, userId, resource, allowed, reason, error });
  };
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd: end('asyncEnd'), error: end('error') };
  diagnostics.subscribe('genauth-guard:decision', onEvent);
  diagnostics.tracingChannel('genauth-guard:decision').subscribe(handlers);
  seen.stop = () => {
    diagnostics.unsubscribe('genauth-guard:decision', onEvent);
    diagnostics.tracingChannel('genauth-guard:decision').unsubscribe(handlers);
  };
  return seen;
}

let seen: Seen | undefined;
beforeEach(() => resetToAliceReading(emulator()));
afterEach(() => {
  seen?.stop();
  seen = undefined;
});

function app(records: DecisionRecord[], extra: Partial<ExpressGuardOptions> = {}) {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: false, onDecision: (record) => void records.push(record), ...extra }));
  const server = express();
  server.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  server.use(guard.api(), (_req, res) => void res.send('ok'));
  return { server, guard };
}

const GRANTS: GrantInput[] = [
  { resourceCode: 'reports', actions: ['reports:Read'] },
  { resourceCode: 'reports-api', resourceType: 'API', actions: ['read'], apiIdentifier: '/reports' },
];

/** What every observer must say of the refused request: refused, as revoked, by no grant. */
function expectRevoked(records: DecisionRecord[], kind: Kind, cache: DecisionRecord['cache']) {
  const resource = kind === 'route' ? 'reports' : '/reports';
  const actions = kind === 'route' ? ['reports:Read'] : ['read'];
  const api = kind === 'api' ? { method: 'GET', path: '/reports' } : {};
  expect(records).toEqual([{ userId: 'alice', resource, ...api, actions, allowed: false, reason: 'revoked', grant: undefined, cache, durationMs: expect.any(Number) }]);
}

describe.each([
  ['the cache', {}, 'miss'],
  ['cache: false', { cache: false as const }, 'none'],
] as const)('%s: a user revoked while their request waits on GenAuth', (_mode, extra, cache) => {
  async function revokedWhileWaiting(kind: Kind, records: DecisionRecord[]) {
    emulator().setGrants('alice', GRANTS);
    const { server, guard } = app(records, extra);
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const answer = request(server).get(PATHS[kind]).set('authorization', auth).then((response) => response);
    await until(() => emulator().callCount(RESOURCES) >= 1);
    guard.revokeUser('alice');
    const response = await answer;
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('revoked');
    // The next request is refused before any decision: nothing more is told.
    expect((await request(server).get(PATHS[kind]).set('authorization', auth)).status).toBe(401);
  }

  it.each(['route', 'api'] as const)('%s: onDecision alone (no channel subscriber) is told the refusal as revoked', async (kind) => {
    const records: DecisionRecord[] = [];
    await revokedWhileWaiting(kind, records);
    expectRevoked(records, kind, cache);
  });

  it.each(['route', 'api'] as const)('%s: onDecision, the decision channel and the decision trace are told the refusal as revoked', async (kind) => {
    const records: DecisionRecord[] = [];
    seen = subscribe();
    await revokedWhileWaiting(kind, records);
    expectRevoked(records, kind, cache);
    const resource = kind === 'route' ? 'reports' : '/reports';
    expect(seen.events).toEqual([
      { userId: 'alice', resource, actions: kind === 'route' ? ['reports:Read'] : ['read'], allowed: false, reason: 'revoked', ...(kind === 'api' ? { method: 'GET' } : {}) },
    ]);
    expect(seen.traces).toEqual([{ phase: 'asyncEnd', userId: 'alice', resource, allowed: false, reason: 'revoked', error: undefined }]);
  });
});

describe('a user revoked while their request waits on the conditions context', () => {
  it.each(['route', 'api'] as const)('%s: every observer is told the refusal as revoked', async (kind) => {
    const laptop = [{ param: 'Device', operator: 'StringEquals', value: 'laptop' }];
    emulator().setGrants('alice', GRANTS.map((grant) => ({ ...grant, condition: laptop })));
    let release: () => void = () => {};
    let entered = false;
    const records: DecisionRecord[] = [];
    const { server, guard } = app(records, {
      conditions: {
        context: () =>
          new Promise((resolve) => {
            entered = true;
            release = () => resolve({ Device: 'laptop' });
          }),
      },
    });
    seen = subscribe();
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    const answer = request(server).get(PATHS[kind]).set('authorization', auth).then((response) => response);
    await until(() => entered);
    guard.revokeUser('alice');
    release();
    expect((await answer).status).toBe(401);
    expectRevoked(records, kind, 'miss');
    expect(seen.events).toMatchObject([{ allowed: false, reason: 'revoked' }]);
    expect(seen.traces).toMatchObject([{ phase: 'asyncEnd', allowed: false, reason: 'revoked', error: undefined }]);
  });
});

describe('a user blocked by a webhook delivery while their request waits on GenAuth', () => {
  it('every observer is told the refusal as revoked', async () => {
    const records: DecisionRecord[] = [];
    const { server } = app(records);
    seen = subscribe();
    const auth = `Bearer ${await emulator().mintToken('alice')}`;
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const answer = request(server).get('/r').set('authorization', auth).then((response) => response);
    await until(() => emulator().callCount(RESOURCES) >= 1);
    const delivery = await request(server).post('/hooks/genauth').set(jsonHeaders(SECRET)).send(eventBody('user:blocked', { user: { id: 'alice' } }));
    expect(delivery.status).toBe(204);
    expect((await answer).status).toBe(401);
    expectRevoked(records, 'route', 'miss');
    expect(seen.events).toMatchObject([{ allowed: false, reason: 'revoked' }]);
    expect(seen.traces).toMatchObject([{ phase: 'asyncEnd', allowed: false, reason: 'revoked', error: undefined }]);
  });
});
