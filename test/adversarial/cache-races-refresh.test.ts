/**
 * The permission cache's background refresh (stale-while-revalidate) against invalidation: a refresh
 * begun before `invalidateUser`/`invalidateAll` that GenAuth answers after it, with the old grants, is
 * never stored, neither for its user nor for another user holding the same interned grant set; and a
 * remembered outage (errorTtl) never serves an old ALLOW once the user was invalidated. Real guards
 * over loopback HTTP against the emulator, whose latency fault holds the refresh in flight.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { seedStandardTenant, until } from '../fixtures.js';
import { bearer, optionsFor, RESOURCES, ROWS, send, sleep, startProbe, useAdversarialEnv, type AdapterRow, type Answer, type OptionOverrides, type Probe } from './harness.js';

const emulator = useAdversarialEnv();
const tokens = new Map<string, string>();
const USERS = ['share-0', 'share-1'];
const READ = [{ resourceCode: 'reports', actions: ['reports:Read'] }];

beforeAll(async () => {
  seedStandardTenant(emulator());
  for (const user of ['alice', ...USERS]) tokens.set(user, await emulator().mintToken(user));
});

let open: Probe[] = [];
afterEach(async () => {
  await Promise.all(open.map((p) => p.close()));
  open = [];
  seedStandardTenant(emulator());
});

async function appFor(row: AdapterRow, overrides: OptionOverrides = {}): Promise<Probe> {
  const probe = await startProbe(row, { options: optionsFor(emulator(), overrides) });
  open.push(probe);
  return probe;
}

const reports = (probe: Probe, user: string): Promise<Answer> => send(probe.port, { target: '/api/v1/reports', headers: bearer(tokens.get(user) as string) });

/** Lets the refresh held by the latency fault be answered (with the grants it was begun under). */
const REFRESH_MS = 150;

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
    await sleep(REFRESH_MS * 3);
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
    await sleep(REFRESH_MS * 3);
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
});
