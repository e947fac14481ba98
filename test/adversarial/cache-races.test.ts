/**
 * The permission cache under concurrency: single-flight loads, invalidation while a load is in flight,
 * revocation, the retry budget of an outage burst, stale rules, users interleaved on the hot path, and
 * a client that leaves while its request waits. Each case starts a fresh app (a fresh guard and cache).
 */
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { seedStandardTenant, until } from '../fixtures.js';
import {
  bearer,
  capture,
  expectAllowed,
  expectNoLeak,
  expectRefused,
  expectUpstream,
  forbiddenStrings,
  RESOURCES,
  ROWS,
  send,
  sleep,
  useAdversarialEnv,
  useProbes,
  type Answer,
  type Probe,
} from './harness.js';
import { encodeRequest } from './raw-http.js';

const emulator = useAdversarialEnv();
const tokens = new Map<string, string>();

beforeAll(async () => {
  seedStandardTenant(emulator());
  for (const user of ['alice', 'bob', 'carol', ...Array.from({ length: 20 }, (_, i) => `burst-${i}`)]) tokens.set(user, await emulator().mintToken(user));
});

const appFor = useProbes(emulator);

const token = (user: string): string => tokens.get(user) as string;
const reports = (probe: Probe, user: string): Promise<Answer> => send(probe.port, { target: '/api/v1/reports', headers: bearer(token(user)) });
const disk9 = (probe: Probe, user: string): Promise<Answer> => send(probe.port, { method: 'DELETE', target: '/api/v1/disks/9', headers: bearer(token(user)) });


/** Resets what the capture counts, between the steps of one case. */
function nextStep(): void {
  capture.handled = 0;
  emulator().resetCalls();
}

const DENIED = { status: 403, code: 'ERR_PERMISSION_DENIED', challenge: 'Bearer realm="api", error="insufficient_scope"' } as const;
const UNAVAILABLE = { status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE', challenge: null } as const;

describe.each(ROWS)('$name', (row) => {
  it('single flight: 20 concurrent requests of one user make one upstream call', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'latency', ms: 100, path: RESOURCES, times: 1 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => reports(probe, 'alice')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(capture.handled).toBe(20);
    expectUpstream(emulator(), 1);
  });

  it('invalidateUser while a load is in flight: the waiting request is answered from a fresh load (the revocation), never 503', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES, times: 1 });
    const pending = reports(probe, 'alice');
    await until(() => emulator().callCount(RESOURCES) === 1);
    emulator().setGrants('alice', []);
    probe.core.invalidateUser('alice');
    expectRefused(emulator(), probe, await pending, { ...DENIED, upstream: 2, forbidden: forbiddenStrings(emulator(), token('alice')) });
    nextStep();
    expectRefused(emulator(), probe, await reports(probe, 'alice'), { ...DENIED, upstream: 0, forbidden: forbiddenStrings(emulator(), token('alice')) });
  });

  it('invalidateUser while five requests wait on one load: all are answered from a fresh load, never 503', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES, times: 1 });
    const pending = Promise.all(Array.from({ length: 5 }, () => reports(probe, 'alice')));
    await until(() => emulator().callCount(RESOURCES) === 1);
    emulator().setGrants('alice', []);
    probe.core.invalidateUser('alice');
    expect((await pending).map((a) => a.status)).toEqual(Array(5).fill(403));
    expect(capture.handled).toBe(0);
  });

  it('invalidateUser during each of three successive loads: the request is still answered, never 503', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES, times: 4 });
    const pending = reports(probe, 'alice');
    for (let load = 1; load <= 3; load++) {
      await until(() => emulator().callCount(RESOURCES) === load);
      probe.core.invalidateUser('alice');
    }
    expectAllowed(emulator(), await pending);
  });

  it('invalidateAll while ten loads are in flight: every request is answered, never 503', async () => {
    const probe = await appFor(row);
    const users = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
    for (const user of users) emulator().setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES, times: 10 });
    const pending = Promise.all(users.map((user) => reports(probe, user)));
    await until(() => emulator().callCount(RESOURCES) === 10);
    probe.core.invalidateAll();
    const answers = await pending;
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(capture.handled).toBe(10);
  });

  it('revocation with invalidateUser: the next request is denied at once', async () => {
    const probe = await appFor(row);
    expectAllowed(emulator(), await reports(probe, 'alice'), 1);
    nextStep();
    emulator().setGrants('alice', []);
    probe.core.invalidateUser('alice');
    expectRefused(emulator(), probe, await reports(probe, 'alice'), { ...DENIED, upstream: 1, forbidden: forbiddenStrings(emulator(), token('alice')) });
  });

  it('revocation without invalidation: denied once the ttl is over (no stale-while-revalidate)', async () => {
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100, staleWhileRevalidate: false } });
    expectAllowed(emulator(), await reports(probe, 'alice'), 1);
    nextStep();
    emulator().setGrants('alice', []);
    time.advance(150);
    expectRefused(emulator(), probe, await reports(probe, 'alice'), { ...DENIED, upstream: 1, forbidden: forbiddenStrings(emulator(), token('alice')) });
  });

  it('revocation with stale-while-revalidate: stale answers only until the one background refresh lands, then denied', async () => {
    // The guard's clock stands still once the ttl is over: the refreshed entry cannot go stale in turn
    // (and make a second refresh) however slowly a loaded machine answers the requests below.
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100 } });
    expectAllowed(emulator(), await reports(probe, 'alice'), 1);
    nextStep();
    emulator().setGrants('alice', []);
    time.advance(150);
    const statuses: number[] = [];
    for (let i = 0; i < 200 && statuses.at(-1) !== 403; i++) {
      statuses.push((await reports(probe, 'alice')).status);
      await sleep(25);
    }
    expect(statuses.at(-1)).toBe(403);
    expect(statuses.every((s) => s === 200 || s === 403)).toBe(true);
    expectUpstream(emulator(), 1);
  });

  it('retry budget: 200 concurrent requests over 20 users during an outage make at most 40 upstream calls', async () => {
    // The guard's clock stands still: a user's remembered failure (errorTtl, 1 s) must outlast the
    // burst, which a loaded machine can take longer than a second to deliver (45 calls, seen so).
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock });
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const users = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => reports(probe, users[i % 20] as string)));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expectNoLeak(answer, forbiddenStrings(emulator(), undefined, ['emulated HTTP']));
    }
    expect(capture.handled).toBe(0);
    expectUpstream(emulator(), { max: 40 });
  });

  it('an outage burst for one user is one upstream call (the failure is remembered)', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'body-error', statusCode: 400, path: RESOURCES });
    for (let i = 0; i < 10; i++) {
      expectRefused(emulator(), probe, await reports(probe, 'alice'), { ...UNAVAILABLE, upstream: 1, forbidden: forbiddenStrings(emulator(), token('alice'), ['emulated error']) });
    }
  });

  it('stale grants are not served past maxStale during an outage', async () => {
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 50, maxStale: 100, errorTtl: 0 } });
    expectAllowed(emulator(), await reports(probe, 'alice'), 1);
    nextStep();
    emulator().fault({ kind: 'status', status: 400, path: RESOURCES });
    time.advance(200);
    expectRefused(emulator(), probe, await reports(probe, 'alice'), { ...UNAVAILABLE, upstream: { max: 2 }, forbidden: forbiddenStrings(emulator(), token('alice'), ['emulated HTTP']) });
  });

  it('a stale DENY during an outage still denies', async () => {
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100 } });
    const first = await disk9(probe, 'alice');
    expect(first.status).toBe(403);
    nextStep();
    emulator().fault({ kind: 'status', status: 400, path: RESOURCES });
    time.advance(150);
    for (let i = 0; i < 3; i++) {
      expectRefused(emulator(), probe, await disk9(probe, 'alice'), { ...DENIED, upstream: { max: 2 }, forbidden: forbiddenStrings(emulator(), token('alice')) });
    }
  });

  it('users interleaved on the hot path never get each other\'s decision', async () => {
    const probe = await appFor(row);
    emulator().setGrants('bob', [{ resourceCode: 'disk:*', actions: ['*'] }]);
    // Warm the token and grant caches of both, then interleave: alice is denied disk 9, bob may, carol is unknown.
    expect((await disk9(probe, 'alice')).status).toBe(403);
    expect((await disk9(probe, 'bob')).status).toBe(200);
    nextStep();
    const order = Array.from({ length: 150 }, (_, i) => (['alice', 'bob', 'carol'] as const)[i % 3] as string);
    const answers = await Promise.all(order.map((user) => disk9(probe, user)));
    answers.forEach((answer, i) => {
      expect(answer.status, order[i]).toBe(order[i] === 'bob' ? 200 : 403);
      if (answer.status === 200) expect(JSON.parse(answer.body)).toMatchObject({ user: 'bob' });
    });
    expect(capture.handled).toBe(50);
  });

  it('a client that disconnects while its request waits: the handler does not run', async () => {
    const probe = await appFor(row);
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES, times: 1 });
    const socket = connect({ host: '127.0.0.1', port: probe.port });
    socket.on('error', () => undefined);
    socket.write(encodeRequest({ method: 'GET', target: '/api/v1/reports', headers: [['authorization', `Bearer ${token('alice')}`]] }, false));
    await until(() => emulator().callCount(RESOURCES) === 1);
    socket.destroy();
    // A second request shares the same load: once it is answered, the first one's continuation has run.
    expectAllowed(emulator(), await reports(probe, 'alice'), 1);
    await sleep(50);
    expect(capture.handled).toBe(1);
  });
});
