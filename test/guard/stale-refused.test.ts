// GenAuth's apiCode 2120008 ("user disabled or not a member of this tenant") on the refresh of a user's
// stale grants is an answer about the user, not an outage: their cached grants are dropped and the
// request gets what a cold load of that user gets (the 503), never the stale grants stale-if-error
// would serve for up to ttl + maxStale. An outage on the same refresh still serves them. A real Express
// app over the emulator; TTLs pass on the guard's test clock.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { manualClock } from '../clock.js';
import { RESOURCES, closeAfterEach, resetEmulator, until, useEmulator } from '../fixtures.js';

const NOT_A_MEMBER = 2120008;
const TTL = 1_000;
const ERROR_TTL = 1_000; // the default, remembered failures included

const track = closeAfterEach<ExpressGuard>();
const emulator = useEmulator();

/** Two ways GenAuth comes to refuse alice: removed from the guard's tenant, or disabled (no tenant named). */
const REFUSALS: Array<[string, { tenantId?: string }, (e: GenAuthEmulator) => void]> = [
  [
    'removed from the tenant',
    { tenantId: 't1' },
    (e) => {
      e.deleteUser('alice');
      e.addUser('alice'); // still in the pool, no longer a member of t1
    },
  ],
  ['disabled', {}, (e) => e.fault({ kind: 'body-error', statusCode: 403, apiCode: NOT_A_MEMBER, path: RESOURCES })],
];

function appWith(genauth: { tenantId?: string }, cache: Record<string, unknown> = {}) {
  const base = emulator().guardOptions();
  const time = manualClock();
  const options = { ...base, clock: time.clock, logger: false, genauth: { ...base.genauth, ...genauth }, cache: { ttl: TTL, maxStale: 60_000, ...cache } };
  const guard = track(createExpressGuard(options as ExpressGuardOptions));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { app, guard, advance: time.advance };
}

async function get(app: express.Express, user = 'alice') {
  const res = await request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`);
  return { status: res.status, code: (res.body as { code?: unknown }).code };
}

/** The user's grants calls GenAuth answered with apiCode 2120008. */
const refusals = () => emulator().calls.filter((call) => call.path === RESOURCES && call.apiCode === NOT_A_MEMBER).length;

beforeEach(() => {
  resetEmulator(emulator());
  const reading = [{ resourceCode: 'reports', actions: ['reports:Read'] }];
  emulator().setGrants('alice', reading);
  emulator().setGrants('alice', reading, { tenant: 't1' });
});

describe.each(REFUSALS)('apiCode 2120008 on the refresh of stale grants (%s)', (_name, genauth, refuse) => {
  it('drops them: the 503 a cold load gets, never the stale grants, while an outage still serves them', async () => {
    const { app, guard, advance } = appWith(genauth, { staleWhileRevalidate: false });
    expect((await get(app)).status).toBe(200);
    advance(TTL + 1);
    // An outage on the refresh: stale-if-error serves the cached grants.
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    expect((await get(app)).status).toBe(200);
    emulator().clearFaults();
    advance(ERROR_TTL + 1); // the remembered outage is forgotten: the next request asks GenAuth
    refuse(emulator());
    const refused = await get(app);
    expect(refusals()).toBe(1);
    expect(refused.status).not.toBe(200);
    expect(guard.cacheStats()).toMatchObject({ users: 0, sets: 0 });
    // What a guard that never cached alice answers her.
    const cold = await get(appWith(genauth).app);
    expect(refused).toEqual(cold);
    expect(cold).toEqual({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    // Nothing stale is left to serve, within the remembered failure and after it.
    expect(await get(app)).toEqual(cold);
    advance(ERROR_TTL + 1);
    expect(await get(app)).toEqual(cold);
  });

  it('with stale-while-revalidate: the answer given before the refresh, none after it', async () => {
    const { app, guard, advance } = appWith(genauth);
    expect((await get(app)).status).toBe(200);
    advance(TTL + 1);
    refuse(emulator());
    // Served at once while the refresh runs (what stale-while-revalidate is); GenAuth has not answered yet.
    expect((await get(app)).status).toBe(200);
    await until(() => refusals() === 1 && guard.cacheStats().users === 0, 5_000, 'the refresh refused and the grants dropped');
    expect(await get(app)).toEqual({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    advance(ERROR_TTL + 1);
    expect(await get(app)).toEqual({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  it('a user still allowed keeps their cached grants', async () => {
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }], { tenant: 't1' });
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { app, guard, advance } = appWith(genauth, { staleWhileRevalidate: false });
    expect((await get(app, 'bob')).status).toBe(200);
    expect((await get(app)).status).toBe(200);
    advance(TTL + 1);
    refuse(emulator());
    expect((await get(app)).status).toBe(503);
    expect(guard.cacheStats()).toMatchObject({ users: 1 });
  });
});
