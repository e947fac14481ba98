// `cache: false`: every request asks GenAuth, concurrent requests for one user share the call in
// flight, an invalidation during that call makes them ask again, and an outage is a 503 at once.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { createGuard } from '../../src/core/guard.js';
import { RESOURCES, useEmulator, resetToAliceReading, closeAfterEach, until } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => {
  const e = emulator();
  resetToAliceReading(e);
});

function uncachedApp() {
  const guard = createExpressGuard({ ...emulator().guardOptions(), cache: false });
  track(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { app, guard };
}

const bearer = async (user = 'alice') => `Bearer ${await emulator().mintToken(user)}`;

describe('cache: false', () => {
  it('asks GenAuth on every request and sees a change at once', async () => {
    const { app } = uncachedApp();
    const auth = await bearer();
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(200);
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
    emulator().setGrants('alice', []);
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('shares one call among concurrent requests for the same user', async () => {
    emulator().fault({ kind: 'latency', ms: 150, path: RESOURCES });
    const { app } = uncachedApp();
    const auth = await bearer();
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(app).get('/r').set('authorization', auth)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('loads again when the user is invalidated while the call runs', async () => {
    emulator().fault({ kind: 'latency', ms: 200, path: RESOURCES, times: 1 });
    const guard = createGuard({ ...emulator().guardOptions(), cache: false });
    try {
      const pending = guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
      // The call is under way (not merely 50 ms of wall time, which a loaded machine can outlast).
      await until(() => emulator().callCount(RESOURCES) === 1, 5000, 'the grants call');
      emulator().setGrants('alice', []);
      guard.invalidateUser('alice');
      // Decided from the grants loaded after the invalidation: none.
      expect(await pending).toMatchObject({ allowed: false, reason: 'no_grant' });
      expect(emulator().callCount(RESOURCES)).toBe(2);
    } finally {
      await guard.close();
    }
  });

  it('answers 503 while GenAuth is down, and keeps nothing', async () => {
    const { app, guard } = uncachedApp();
    const auth = await bearer();
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(200);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const down = await request(app).get('/r').set('authorization', auth);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    expect(guard.core.cacheStats()).toEqual({ entries: 0, bytes: 0, users: 0, sets: 0 });
  });

  it('rejects a cache option that is neither an object nor false', () => {
    expect(() => createGuard({ ...emulator().guardOptions(), cache: true as never })).toThrow(/"cache"/);
  });
});
