// Retry storms: during an outage every user's load used to be tried 1 + genauth.retries times, so a
// burst over N users made 3N upstream calls. The retry budget stops retries while most recent calls
// fail and lets them resume as calls succeed (or with time, at genauth.retryBudget.minPerSecond).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { createGuard } from '../../src/core/guard.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guards: ExpressGuard[] = [];
let servers: Server[] = [];
const agent = new Agent({ connections: 256 });

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
});
afterEach(async () => {
  await Promise.all(guards.map((g) => g.close()));
  for (const server of servers) server.close();
  guards = [];
  servers = [];
});

/** A listening Express app (one server for every request of a burst) and its guard. */
async function listening(overrides: Partial<ExpressGuardOptions> = {}) {
  const guard = createExpressGuard({ ...emulator().guardOptions(), logger: false, ...overrides });
  guards.push(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r`;
  const get = async (authorization: string) => {
    const res = await request(url, { headers: { authorization }, dispatcher: agent });
    await res.body.dump();
    return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
  };
  return { guard, get };
}

const bearer = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;

describe('retry budget over HTTP', () => {
  it.each([
    ['the default cache', {}],
    ['errorTtl 0 (requests waiting on a failed load share its failure)', { errorTtl: 0 }],
    ['cache: false', false],
  ] as const)('a burst of 200 requests over 20 users during an outage makes at most 2N upstream calls, with %s', async (_name, cache) => {
    const N = 20;
    const users = Array.from({ length: N }, (_, i) => `user${i}`);
    for (const user of users) emulator().setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const tokens = await Promise.all(users.map(bearer));
    const { get } = await listening({ cache });
    // Every grants call is held 200 ms and then fails retryably: the requests all join their user's load.
    emulator().fault({ kind: 'latency', ms: 200, path: RESOURCES });
    emulator().fault({ kind: 'status', status: 503, path: RESOURCES });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(tokens[i % N]!)));
    expect(answers.every((answer) => answer.status === 503 && answer.retryAfter !== undefined)).toBe(true);
    const calls = emulator().callCount(RESOURCES);
    expect(calls).toBeGreaterThanOrEqual(N); // every user was asked
    expect(calls).toBeLessThanOrEqual(2 * N); // without a budget: 3N (each load tried 1 + 2 times); measured: 1.25N
  });

  it('stops retrying while calls fail, and retries again once the budget has refilled', async () => {
    // The guard's clock, which the budget refills on at minPerSecond: still unless the test moves it.
    const { clock, advance } = manualClock();
    const { get } = await listening({ clock, cache: { errorTtl: 0 } });
    for (const user of ['a', 'b', 'c', 'late', 'later']) emulator().setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES, times: 9 });
    // Three users' loads in the outage: 1 + 2 retries, then 1 + 1 (the budget is down to half), then 1.
    for (const user of ['a', 'b', 'c']) expect((await get(await bearer(user))).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(6);
    // A lone failure now: the budget is spent, so it is not retried.
    emulator().clearFaults();
    emulator().resetCalls();
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES, times: 1 });
    expect((await get(await bearer('late'))).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    // Ten seconds later (at 1 token a second) retries are back.
    advance(10_000);
    emulator().resetCalls();
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES, times: 1 });
    expect((await get(await bearer('later'))).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('genauth.retryBudget', () => {
  const withBudget = (retryBudget: unknown) => () =>
    createGuard({ ...emulator().guardOptions(), genauth: { ...emulator().guardOptions().genauth, retryBudget: retryBudget as never } });

  it.each([
    ['a number', 5, 'genauth.retryBudget'],
    ['null', null, 'genauth.retryBudget'],
    ['an array', [], 'genauth.retryBudget'],
    ['ratio 0', { ratio: 0 }, 'genauth.retryBudget.ratio'],
    ['ratio above 1', { ratio: 1.5 }, 'genauth.retryBudget.ratio'],
    ['ratio NaN', { ratio: Number.NaN }, 'genauth.retryBudget.ratio'],
    ['a negative minPerSecond', { minPerSecond: -1 }, 'genauth.retryBudget.minPerSecond'],
    ['an infinite minPerSecond', { minPerSecond: Number.POSITIVE_INFINITY }, 'genauth.retryBudget.minPerSecond'],
  ])('refuses %s', (_name, value, path) => {
    expect(withBudget(value)).toThrow(TypeError);
    expect(withBudget(value)).toThrow(`"${path}"`);
  });

  it('takes a valid budget and fills defaults', async () => {
    const guard = withBudget({ ratio: 0.5 })();
    expect(guard.options.genauth.retryBudget).toEqual({ ratio: 0.5, minPerSecond: 1 });
    await guard.close();
    const defaults = withBudget(undefined)();
    expect(defaults.options.genauth.retryBudget).toEqual({ ratio: 0.2, minPerSecond: 1 });
    await defaults.close();
  });
});
