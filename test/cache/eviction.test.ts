// A cold burst of more users than `cache.max`: lru-cache evicts loads still in flight to make room for
// the next ones. An eviction is the cache's bookkeeping, not an outage: the requests waiting on an
// evicted load are still answered from it (it is just not kept), never with a 503, and no user's
// grants are fetched over and over. Real timing: every grants call is held by a latency fault, so
// all the loads overlap.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { RESOURCES, useEmulator, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
const USERS = Array.from({ length: 10 }, (_, i) => `cold-${i}`);
let guards: ExpressGuard[] = [];
let servers: Server[] = [];

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
  for (const user of USERS) e.setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
});
afterEach(async () => {
  await Promise.all(guards.map((g) => g.close()));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  guards = [];
  servers = [];
});

async function listen(cache: ExpressGuardOptions['cache']): Promise<Server> {
  const guard = createExpressGuard({ ...emulator().guardOptions(), cache, logger: false });
  guards.push(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

/** Grants calls per user since the last reset. */
function callsPerUser(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of emulator().calls) {
    if (call.path === RESOURCES && call.userId !== undefined) counts.set(call.userId, (counts.get(call.userId) ?? 0) + 1);
  }
  return counts;
}

describe.each([
  ['maxStale 0', { max: 2, maxStale: 0 }],
  ['maxStale 60 s', { max: 2, maxStale: 60_000 }],
  ['maxStale 60 s, errorTtl 0', { max: 2, maxStale: 60_000, errorTtl: 0 }],
] as const)('cache %s: a cold burst of ten users over max 2', (_name, cache) => {
  it('answers every request 200, with at most two grants calls per user', async () => {
    const server = await listen({ ...cache });
    const port = (server.address() as AddressInfo).port;
    const tokens = await Promise.all(USERS.map((user) => emulator().mintToken(user)));
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES });
    const answers = await Promise.all(
      tokens.map((token) => request(`http://127.0.0.1:${port}`).get('/r').set('authorization', `Bearer ${token}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(USERS.length).fill(200));
    const calls = callsPerUser();
    expect([...calls.keys()].sort()).toEqual([...USERS].sort());
    for (const count of calls.values()) expect(count).toBeLessThanOrEqual(2);
  });

  it('twenty requests, two per user: all 200', async () => {
    const server = await listen({ ...cache });
    const port = (server.address() as AddressInfo).port;
    const tokens = await Promise.all(USERS.map((user) => emulator().mintToken(user)));
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES });
    const answers = await Promise.all(
      [...tokens, ...tokens].map((token) => request(`http://127.0.0.1:${port}`).get('/r').set('authorization', `Bearer ${token}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(2 * USERS.length).fill(200));
    for (const count of callsPerUser().values()) expect(count).toBeLessThanOrEqual(2);
  });
});
