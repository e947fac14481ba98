// What a closed guard keeps: nothing. close() empties its caches, and a GenAuth answer that arrives
// after it (a load in flight when close() was called) is stored nowhere: not in the guard's memory,
// not in the shared Redis tier. The request that waited on it gets the closed guard's 503. The late
// answer is seen arriving on `genauth-guard:upstream` (its attempt is told once it settled); a turn
// later, whatever the load would have stored is stored.
import diagnostics from 'node:diagnostics_channel';
import { setImmediate as nextTurn } from 'node:timers/promises';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { UpstreamEvent } from '../../src/events.js';
import { resolveOptions } from '../../src/options.js';
import { createTokenVerifier } from '../../src/token/verifier.js';
import { RESOURCES, bearerFor, closeAfterEach, resetToAliceReading, until, useEmulator } from '../fixtures.js';
import { clients, freshPrefix, sharedOptions, subscribed } from '../redis/harness.js';
import { ask, redisTestsRun, startRedisServer, type RedisServer } from '../redis/server.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

/** A guard and an app with one route. */
function appWith(options: ExpressGuardOptions) {
  const guard = track(createExpressGuard(options));
  const app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { guard, app };
}

/** Resolves once a grants call answered `ok` from the moment this is called on. */
function grantsAnswered(): Promise<void> {
  return new Promise((resolve) => {
    const heard = (message: unknown) => {
      const event = message as UpstreamEvent;
      if (event.path !== RESOURCES || event.outcome !== 'ok') return;
      diagnostics.unsubscribe('genauth-guard:upstream', heard);
      resolve();
    };
    diagnostics.subscribe('genauth-guard:upstream', heard);
  });
}

beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
});
afterEach(() => emulator().clearFaults());

/**
 * alice cached, then bob's grants asked for with GenAuth answering late; the guard is closed while
 * bob's request waits (`beforeClose` runs just before). Resolves bob's answer once GenAuth's late
 * answer arrived and a turn passed.
 */
async function closeWhileBobWaits(guard: ExpressGuard, app: express.Express, beforeClose: () => Promise<void> = () => Promise.resolve()) {
  expect((await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
  expect(guard.core.cacheStats()).toMatchObject({ users: 1 });
  const bob = await bearerFor(emulator(), 'bob');
  emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
  const late = grantsAnswered();
  const answer = request(app).get('/reports').set('authorization', bob).then((res) => res);
  await until(() => emulator().callCount(RESOURCES) === 2, 5000, "bob's grants asked for");
  await beforeClose();
  await guard.close();
  await late;
  await nextTurn();
  return answer;
}

describe('close() with a GenAuth answer on its way', () => {
  it('the cache is emptied, the late answer is not stored, the waiting request gets the 503', async () => {
    const { guard, app } = appWith(emulator().guardOptions() as ExpressGuardOptions);
    const res = await closeWhileBobWaits(guard, app);
    expect(guard.core.cacheStats()).toEqual({ entries: 0, users: 0, sets: 0, bytes: 0 });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  it('API mode: the same', async () => {
    emulator().setGrants('alice', [{ resourceCode: 'reports', resourceType: 'API', actions: ['read'], apiIdentifier: '/reports' }]);
    emulator().setGrants('bob', [{ resourceCode: 'reports', resourceType: 'API', actions: ['read'], apiIdentifier: '/reports' }]);
    const guard = track(createExpressGuard(emulator().guardOptions() as ExpressGuardOptions));
    const app = express();
    app.use(guard.api());
    app.get('/reports', (_req, res) => void res.send('ok'));
    const res = await closeWhileBobWaits(guard, app);
    expect(guard.core.cacheStats()).toEqual({ entries: 0, users: 0, sets: 0, bytes: 0 });
    expect(res.status).toBe(503);
  });
});

// The token cache has no stats: its verifier is asked directly (the guard's close() closes it).
describe("close() and the guard's token cache", () => {
  it('cached tokens are dropped, and a token whose verification was under way is not cached', async () => {
    const options = resolveOptions(emulator().guardOptions());
    const verifier = createTokenVerifier(options.jwt!, options.identity, options);
    const alice = await emulator().mintToken('alice');
    const bob = await emulator().mintToken('bob');
    expect((await verifier.verifyNow(alice)).userId).toBe('alice');
    expect(verifier.peek(alice)?.userId).toBe('alice');
    const underWay = verifier.verifyNow(bob); // jose's check is asynchronous
    expect(underWay).toBeInstanceOf(Promise);
    verifier.close();
    expect((await underWay).userId).toBe('bob');
    expect(verifier.peek(alice)).toBeUndefined();
    expect(verifier.peek(bob)).toBeUndefined();
  });
});

const run = redisTestsRun('test/lifecycle/late-answers.test.ts');

describe.skipIf(!run)('close() with a GenAuth answer on its way, with the shared Redis tier', () => {
  const open = clients();
  let redis: RedisServer | undefined;
  afterEach(async () => {
    open.closeAll();
    await redis?.stop();
    redis = undefined;
  });

  it('nothing is written to Redis after close(), and nothing is kept in memory', async () => {
    redis = await startRedisServer();
    const client = await open.client(redis.url);
    const prefix = freshPrefix();
    const { guard, app } = appWith(sharedOptions(emulator(), client, { redisPrefix: prefix }));
    await subscribed(guard);
    const keys = async () => (await ask(redis!.port, `KEYS ${prefix}*`)).split('\n').map((line) => line.trim()).filter((line) => line.includes(prefix)).sort();
    let beforeClose: string[] = [];
    const res = await closeWhileBobWaits(guard, app, async () => {
      beforeClose = await keys();
    });
    // A command sent now runs after any the late answer made the guard send on the same client.
    await client.ping();
    expect(beforeClose.some((key) => key.includes('=bob}:mark'))).toBe(true); // bob's entry was read
    expect(await keys()).toEqual(beforeClose);
    expect(guard.core.cacheStats()).toMatchObject({ entries: 0, users: 0, sets: 0, bytes: 0 });
    expect(res.status).toBe(503);
  });
});
