/**
 * The permission cache's background refresh (stale-while-revalidate) against invalidation: a refresh
 * begun before `invalidateUser`/`invalidateAll` that GenAuth answers after it, with the old grants, is
 * never stored, neither for its user nor for another user holding the same interned grant set; and a
 * remembered outage (errorTtl) never serves an old ALLOW once the user was invalidated (nor after the
 * clock jumps back); a token whose grants were evicted (max, maxBytes) does not reach them through the
 * link its cached record keeps. Real guards over loopback HTTP against the emulator, whose latency
 * fault holds the refresh in flight (it reads the grants after the delay: they are set to the revoked
 * ones only once the refresh has answered with the old ones).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { seedStandardTenant, until } from '../fixtures.js';
import { bearer, RESOURCES, ROWS, send, useAdversarialEnv, useProbes, type Answer, type Probe } from './harness.js';

const emulator = useAdversarialEnv();
const tokens = new Map<string, string>();
const USERS = ['share-0', 'share-1'];
const READ = [{ resourceCode: 'reports', actions: ['reports:Read'] }];

beforeAll(async () => {
  seedStandardTenant(emulator());
  for (const user of ['alice', 'bob', ...USERS]) tokens.set(user, await emulator().mintToken(user));
});

const appFor = useProbes(emulator);

const reports = (probe: Probe, user: string): Promise<Answer> => send(probe.port, { target: '/api/v1/reports', headers: bearer(tokens.get(user) as string) });

/** How long the latency fault holds the refresh (answered with the grants it was begun under). */
const REFRESH_MS = 150;

/**
 * Until GenAuth has answered the held refresh (the first grants call): the request after this reaches the
 * guard once that answer has come in. Not a fixed time, which a loaded machine can outlast (the answer
 * then came after the next request and the test no longer checked what it says).
 */
const refreshAnswered = () => until(() => (emulator().calls.find((call) => call.path === RESOURCES)?.status ?? 0) !== 0, 5000, 'the held refresh answered');

describe.each(ROWS)('$name', (row) => {
  it('invalidateUser during a background refresh: the refresh answered after it is not stored, the next request loads again', async () => {
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100 } });
    expect((await reports(probe, 'alice')).status).toBe(200);
    emulator().resetCalls();
    time.advance(150);
    emulator().fault({ kind: 'latency', ms: REFRESH_MS, path: RESOURCES, times: 1 });
    // Stale, served while the refresh (which will answer the old, allowing grants) is in flight.
    expect((await reports(probe, 'alice')).status).toBe(200);
    await until(() => emulator().callCount(RESOURCES) === 1);
    probe.core.invalidateUser('alice');
    await refreshAnswered();
    emulator().setGrants('alice', []);
    expect((await reports(probe, 'alice')).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('invalidateAll during a refresh of a user whose grant set another user shares: neither is answered from the old set', async () => {
    const time = manualClock(Date.now());
    for (const user of USERS) emulator().setGrants(user, READ);
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100 } });
    for (const user of USERS) expect((await reports(probe, user)).status).toBe(200);
    expect(probe.core.cacheStats()).toMatchObject({ users: 2, sets: 1 });
    emulator().resetCalls();
    time.advance(150);
    emulator().fault({ kind: 'latency', ms: REFRESH_MS, path: RESOURCES, times: 1 });
    expect((await reports(probe, 'share-0')).status).toBe(200);
    await until(() => emulator().callCount(RESOURCES) === 1);
    probe.core.invalidateAll();
    await refreshAnswered();
    for (const user of USERS) emulator().setGrants(user, []);
    expect((await reports(probe, 'share-1')).status).toBe(403);
    expect((await reports(probe, 'share-0')).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('a remembered outage (errorTtl) with a stale ALLOW: after invalidateUser the stale ALLOW is gone (503, never 200)', async () => {
    const time = manualClock(Date.now());
    const probe = await appFor(row, { clock: time.clock, cache: { ttl: 100, maxStale: 10_000, errorTtl: 5_000 } });
    expect((await reports(probe, 'alice')).status).toBe(200);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    time.advance(150);
    // Stale-on-error: the old ALLOW is served while GenAuth fails, within maxStale.
    expect((await reports(probe, 'alice')).status).toBe(200);
    probe.core.invalidateUser('alice');
    emulator().setGrants('alice', []);
    for (let i = 0; i < 3; i++) expect((await reports(probe, 'alice')).status).toBe(503);
    time.advance(-10_000); // the clock jumps back: nothing comes back from before the invalidation
    expect((await reports(probe, 'alice')).status).toBe(503);
  });

  it('a token whose grants were evicted (max) is not answered from its kept link: the next request loads again', async () => {
    const probe = await appFor(row, { cache: { max: 1 } });
    for (let i = 0; i < 3; i++) expect((await reports(probe, 'alice')).status).toBe(200);
    expect((await reports(probe, 'bob')).status).toBe(200);
    expect(probe.core.cacheStats()).toMatchObject({ users: 1 });
    emulator().resetCalls();
    emulator().setGrants('alice', []);
    expect((await reports(probe, 'alice')).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a token whose grants were evicted for the byte budget (maxBytes) is not answered from its kept link', async () => {
    // Measured on a guard of its own: a budget that holds either user's set, not both.
    const measure = await appFor(row);
    expect((await reports(measure, 'alice')).status).toBe(200);
    const one = measure.core.cacheStats().bytes;
    expect((await reports(measure, 'bob')).status).toBe(200);
    const both = measure.core.cacheStats().bytes;
    expect(measure.core.cacheStats()).toMatchObject({ users: 2, sets: 2 });
    const budget = Math.max(one, both - one) + 16;
    expect(budget).toBeLessThan(both);
    const probe = await appFor(row, { cache: { maxBytes: budget, maxEntryBytes: budget } });
    for (let i = 0; i < 3; i++) expect((await reports(probe, 'alice')).status).toBe(200);
    expect((await reports(probe, 'bob')).status).toBe(200);
    expect(probe.core.cacheStats()).toMatchObject({ users: 1, sets: 1 });
    emulator().resetCalls();
    emulator().setGrants('alice', []);
    expect((await reports(probe, 'alice')).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});
