// A stale entry whose refresh is in flight lies behind lru-cache's background fetch, and lru-cache
// does not dispose of it when it deletes that fetch (the user invalidated, everything cleared, the
// refresh failed with maxStale 0): the entry must still let go of its grant set and its
// link, or the set stays charged and held for good and `cacheStats()` counts users nobody holds.
// Over real HTTP: an Express app, the emulator holding or failing the refresh, a hand-moved clock.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { manualClock } from '../clock.js';
import { RESOURCES, closeAfterEach, resetToAliceReading, useEmulator, sleep, until } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => resetToAliceReading(emulator()));


function app(cache: ExpressGuardOptions['cache']) {
  const time = manualClock();
  const base = emulator().guardOptions();
  const guard = track(createExpressGuard({ ...base, genauth: { ...base.genauth, timeout: 1000 }, clock: time.clock, cache, logger: false }));
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const get = async (user = 'alice') => (await request(server).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`)).status;
  return { guard, get, time };
}

const empty = { entries: 0, users: 0, sets: 0, bytes: 0 };

describe('a stale entry dropped while its refresh is in flight lets go of its grant set', () => {
  it.each(['invalidateUser', 'invalidateAll'] as const)('%s during stale-while-revalidate', async (how) => {
    const { guard, get, time } = app({ ttl: 1000, errorTtl: 0 });
    expect(await get()).toBe(200);
    expect(guard.cacheStats().sets).toBe(1);
    time.advance(1001);
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    expect(await get()).toBe(200); // served stale; the refresh is held
    await until(() => emulator().callCount(RESOURCES) === 2);
    if (how === 'invalidateUser') guard.invalidateUser('alice');
    else guard.invalidateAll();
    await sleep(0);
    expect(guard.cacheStats()).toEqual(empty);
    await sleep(400); // the superseded refresh ends
    expect(guard.cacheStats()).toEqual(empty);
  });

  it('evicted (cache.max) during stale-while-revalidate: let go of once (lru-cache disposes of it there)', async () => {
    const { guard, get, time } = app({ ttl: 1000, errorTtl: 0, max: 1 });
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read', 'reports:Write'] }]);
    expect(await get()).toBe(200);
    time.advance(1001);
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    expect(await get()).toBe(200);
    await until(() => emulator().callCount(RESOURCES) === 2);
    expect(await get('bob')).toBe(200); // evicts alice, her refresh still in flight
    expect(guard.cacheStats()).toMatchObject({ entries: 1, sets: 1 });
    guard.invalidateUser('bob');
    await sleep(400);
    expect(guard.cacheStats()).toEqual(empty);
  });

  it('a failed refresh with maxStale 0', async () => {
    const { guard, get, time } = app({ ttl: 1000, maxStale: 0, errorTtl: 0 });
    expect(await get()).toBe(200);
    time.advance(1001);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    expect(await get()).toBe(503);
    expect(guard.cacheStats()).toEqual(empty);
  });

  it('the set is held once again by the next user who loads it, and let go with them', async () => {
    const { guard, get, time } = app({ ttl: 1000, errorTtl: 0 });
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    expect(await get()).toBe(200);
    time.advance(1001);
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    expect(await get()).toBe(200);
    await until(() => emulator().callCount(RESOURCES) === 2);
    guard.invalidateUser('alice');
    expect(await get('bob')).toBe(200); // bob's list is alice's: one set, one user
    expect(guard.cacheStats()).toMatchObject({ entries: 1, sets: 1 });
    guard.invalidateUser('bob');
    expect(guard.cacheStats()).toEqual(empty);
  });
});
