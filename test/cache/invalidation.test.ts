// An invalidation while a user's grants are being fetched: the requests waiting on that load are
// answered from a load that began after the invalidation, never with a 503 and never with the answer
// the invalidation was meant to drop; a load begun before it leaves nothing behind (no entry, no
// remembered failure). Real timing: the emulator holds the first grants call with a latency fault.
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { manualClock, type ManualClock } from '../clock.js';
import { RESOURCES, useEmulator, resetToAliceReading, closeAfterEach, sleep, until } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

// Upstream attempts that ended in a timeout: how a test sees the held load give up.
let timeouts = 0;
const countTimeouts = (event: unknown) => {
  if ((event as { outcome: string }).outcome === 'timeout') timeouts++;
};
beforeAll(() => diagnostics.subscribe('genauth-guard:upstream', countTimeouts));
afterAll(() => void diagnostics.unsubscribe('genauth-guard:upstream', countTimeouts));

beforeEach(() => {
  timeouts = 0;
  const e = emulator();
  resetToAliceReading(e);
});

function app(cache: ExpressGuardOptions['cache'], timeout = 3000, time?: ManualClock) {
  const base = emulator().guardOptions();
  const guard = createExpressGuard({ ...base, genauth: { ...base.genauth, timeout }, cache, logger: false, ...(time && { clock: time.clock }) });
  track(guard);
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { server, guard };
}


/** Sends `count` requests for alice at once and resolves their statuses. */
async function burst(server: express.Express, count: number): Promise<number[]> {
  const auth = `Bearer ${await emulator().mintToken('alice')}`;
  const answers = await Promise.all(Array.from({ length: count }, () => request(server).get('/r').set('authorization', auth)));
  return answers.map((answer) => answer.status);
}

/** The first grants call has arrived at the emulator and is being held. */
const firstLoadHeld = () => until(() => emulator().callCount(RESOURCES) >= 1);
/** The emulator has answered the first grants call (the one begun before the invalidation). */
const firstLoadAnswered = () => until(() => (emulator().calls.find((call) => call.path === RESOURCES)?.status ?? 0) !== 0);

const modes: Array<[string, ExpressGuardOptions['cache']]> = [
  ['cache with maxStale 0', { maxStale: 0, errorTtl: 0 }],
  ['cache with the defaults', {}],
  ['cache: false', false],
];

describe.each(modes)('%s: invalidating a user whose grants are loading', (_mode, cache) => {
  it.each(['invalidateUser', 'invalidateAll'] as const)('%s: the waiting requests get the grants loaded after it', async (how) => {
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const { server, guard } = app(cache);
    const waiting = burst(server, 5);
    await firstLoadHeld();
    emulator().setGrants('alice', []); // revoked in GenAuth, then the guard is told
    if (how === 'invalidateUser') guard.invalidateUser('alice');
    else guard.invalidateAll();
    expect(await waiting).toEqual([403, 403, 403, 403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(2); // the waiters shared one fresh load
    // The load begun before the invalidation ends later: it must not put the old grants back.
    await firstLoadAnswered();
    await sleep(50);
    expect(await burst(server, 1)).toEqual([403]);
  });

  it('a load begun before the invalidation that fails is not the waiting requests\' answer', async () => {
    // Faults are spent in arrival order: a hang is taken by the first call alone (a later fault
    // behind a latency one would go to the next call), and fails it at the client's deadline.
    emulator().fault({ kind: 'hang', path: RESOURCES, times: 1 });
    const { server, guard } = app(cache, 400);
    const waiting = burst(server, 3);
    await firstLoadHeld();
    guard.invalidateUser('alice');
    expect(await waiting).toEqual([200, 200, 200]);
  });

  it('a request that arrives after the invalidation does not join the load begun before it', async () => {
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const { server, guard } = app(cache);
    const early = burst(server, 1);
    await firstLoadHeld();
    emulator().setGrants('alice', []);
    guard.invalidateUser('alice');
    expect(await burst(server, 1)).toEqual([403]);
    expect(await early).toEqual([403]);
  });
});

describe('the failure of a load begun before an invalidation is not remembered', () => {
  it('a later load is made, not answered with the old failure for errorTtl', async () => {
    emulator().fault({ kind: 'hang', path: RESOURCES, times: 1 });
    const time = manualClock();
    const { server, guard } = app({ ttl: 300, maxStale: 0, errorTtl: 60_000 }, 400, time);
    const waiting = burst(server, 1);
    await firstLoadHeld();
    guard.invalidateUser('alice');
    expect(await waiting).toEqual([200]); // from a load begun after the invalidation
    await until(() => timeouts === 1); // the old load fails now, after the invalidation
    time.advance(301); // the fresh entry (ttl 300 ms) expires; a remembered failure (errorTtl 60 s) would not
    expect(await burst(server, 1)).toEqual([200]);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });
});
