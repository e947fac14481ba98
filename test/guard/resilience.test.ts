import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { useEmulator, closeAfterEach, resetToAliceReading, until } from '../fixtures.js';
import { manualClock } from '../clock.js';

const RESOURCES = '/api/v3/get-user-authorized-resources';
// TTLs pass on this clock, moved by hand (each test's guard gets a new one from appWith).
let advance: (ms: number) => void;

const track = closeAfterEach<ExpressGuard>();

const emulator = useEmulator();
beforeEach(() => {
  resetToAliceReading(emulator());
});

function appWith(overrides: Partial<ExpressGuardOptions> = {}) {
  const base = emulator().guardOptions();
  const time = manualClock();
  advance = time.advance;
  const guard = createExpressGuard({
    ...base,
    clock: time.clock,
    ...overrides,
    genauth: { ...base.genauth, timeout: 1500, ...overrides.genauth },
    cache: { errorTtl: 0, ...overrides.cache },
  });
  track(guard);
  const app = express();
  let handled = 0;
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => {
    handled++;
    res.send('ok');
  });
  app.get('/cond', guard.requirePermission('vault', 'vault:Open'), (_req, res) => void res.send('ok'));
  return { app, guard, handled: () => handled };
}

const get = async (app: express.Express, user = 'alice', path = '/r') =>
  request(app).get(path).set('authorization', `Bearer ${await emulator().mintToken(user)}`);

describe('retries', () => {
  it('retries a 5xx twice inside the deadline, then succeeds', async () => {
    emulator().fault({ kind: 'status', status: 503, times: 2, path: RESOURCES });
    const { app } = appWith();
    expect((await get(app)).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('gives up after two retries', async () => {
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const { app } = appWith();
    expect((await get(app)).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('retries a dropped connection and a body 5xx', async () => {
    emulator().fault({ kind: 'drop', times: 1, path: RESOURCES });
    emulator().fault({ kind: 'body-error', statusCode: 500, times: 1, path: RESOURCES });
    const { app } = appWith();
    expect((await get(app)).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('honours a short Retry-After on 429', async () => {
    emulator().fault({ kind: 'status', status: 429, retryAfter: 1, times: 1, path: RESOURCES });
    const { app } = appWith({ genauth: { timeout: 2500 } as never });
    const started = Date.now();
    expect((await get(app)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('does not retry a 4xx body error', async () => {
    emulator().fault({ kind: 'body-error', statusCode: 400, path: RESOURCES });
    const { app } = appWith();
    expect((await get(app)).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});

describe('negative cache', () => {
  it('an outage burst makes one upstream call per user', async () => {
    emulator().fault({ kind: 'status', status: 400, path: RESOURCES });
    const { app } = appWith({ cache: { errorTtl: 60_000 } });
    for (let i = 0; i < 5; i++) expect((await get(app)).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('forgets the failure after errorTtl', async () => {
    emulator().fault({ kind: 'body-error', statusCode: 400, times: 1, path: RESOURCES });
    const { app } = appWith({ cache: { errorTtl: 150 } });
    expect((await get(app)).status).toBe(503);
    expect((await get(app)).status).toBe(503);
    advance(200);
    expect((await get(app)).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('stale rules', () => {
  it('serves stale grants within maxStale while GenAuth fails, then 503', async () => {
    const { app } = appWith({ cache: { ttl: 200, maxStale: 500 } });
    expect((await get(app)).status).toBe(200);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    advance(300); // past ttl, within ttl + maxStale
    expect((await get(app)).status).toBe(200);
    advance(600); // past ttl + maxStale
    const res = await get(app);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
  });

  it('revalidates in the background: the stale answer comes at once and the next sees the change', async () => {
    const { app } = appWith({ cache: { ttl: 150, maxStale: 10_000 } });
    expect((await get(app)).status).toBe(200);
    emulator().setGrants('alice', []);
    advance(200);
    expect((await get(app)).status).toBe(200); // stale, refresh started
    // The background refresh is a real upstream call: wait until GenAuth has answered it (not for a
    // fixed time a loaded machine can outlast); the request below reaches the guard after that answer.
    await until(() => emulator().calls.filter((call) => call.path === RESOURCES && call.status !== 0).length === 2, 5000, 'the refresh answered');
    expect((await get(app)).status).toBe(403); // refreshed
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('with maxStale 0 nothing stale is ever served', async () => {
    const { app } = appWith({ cache: { ttl: 100, maxStale: 0 } });
    expect((await get(app)).status).toBe(200);
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    advance(150);
    expect((await get(app)).status).toBe(503);
  });
});

describe('answers that are not errors', () => {
  it('a user GenAuth does not know is denied (403) and remembered briefly', async () => {
    const { app } = appWith();
    expect((await get(app, 'ghost')).status).toBe(403);
    expect((await get(app, 'ghost')).status).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('refused credentials are a 503 and one clear log line without the secret', async () => {
    const lines: string[] = [];
    const base = emulator().guardOptions();
    const { app } = appWith({
      genauth: { ...base.genauth, accessKeySecret: 'wrong-secret' },
      logger: { warn: (line: string) => lines.push(line) },
    });
    expect((await get(app)).status).toBe(503);
    expect((await get(app)).status).toBe(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused the management credentials/);
    expect(lines[0]).not.toMatch(/wrong-secret/);
  });
});

describe('memory bounds', () => {
  it('never exceeds the byte budget with many users', async () => {
    const grants = Array.from({ length: 100 }, (_, i) => ({ resourceCode: `res:${i}`, actions: ['res:Read', 'res:Write'] }));
    const { app, guard } = appWith({ cache: { maxBytes: 200_000, maxEntryBytes: 100_000 } });
    // A list of each user's own: equal lists would share one set, charged once (test/cache/grant-sets.test.ts).
    for (let u = 0; u < 20; u++) emulator().setGrants(`user${u}`, [...grants, { resourceCode: 'reports', actions: ['reports:Read'] }, { resourceCode: `own:${u}`, actions: ['read'] }]);
    for (let u = 0; u < 20; u++) {
      expect((await get(app, `user${u}`)).status).toBe(200);
      const stats = guard.core.cacheStats();
      expect(stats.bytes).toBeLessThanOrEqual(200_000);
      expect(stats.bytes).toBeGreaterThan(0);
    }
    expect(guard.core.cacheStats().entries).toBeLessThan(20);
  });

  it('a user over the per-entry budget is still answered correctly, at one upstream call per request', async () => {
    const grants = Array.from({ length: 300 }, (_, i) => ({ resourceCode: `res:${i}`, actions: ['res:Read'] }));
    emulator().setGrants('big', [...grants, { resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { app, guard } = appWith({ cache: { maxEntryBytes: 10_000 } });
    expect((await get(app, 'big')).status).toBe(200);
    expect((await get(app, 'big')).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
    expect(guard.core.cacheStats().entries).toBe(0);
  });

  it('an upstream body over maxResponseBytes is a 503, not a crash', async () => {
    const grants = Array.from({ length: 500 }, (_, i) => ({ resourceCode: `res:${i}`, actions: ['res:Read'] }));
    emulator().setGrants('alice', [...grants, { resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { app } = appWith({ genauth: { maxResponseBytes: 4096 } as never });
    expect((await get(app)).status).toBe(503);
  });
});

describe('conditions over HTTP', () => {
  it('SourceIp comes from the socket, not from X-Forwarded-For', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }] },
    ]);
    const { app } = appWith();
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await request(app).get('/cond').set('authorization', token)).status).toBe(200);
    emulator().setGrants('alice', [
      { resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '203.0.113.0/24' }] },
    ]);
    const { app: app2 } = appWith();
    const spoofed = await request(app2).get('/cond').set('authorization', token).set('x-forwarded-for', '203.0.113.9');
    expect(spoofed.status).toBe(403);
  });

  it('trusts X-Forwarded-For only for the configured proxy hops', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'SourceIp', operator: 'IpAddress', value: '203.0.113.0/24' }] },
    ]);
    const { app } = appWith({ conditions: { trustProxy: 1 } });
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await request(app).get('/cond').set('authorization', token).set('x-forwarded-for', '203.0.113.9')).status).toBe(200);
    expect((await request(app).get('/cond').set('authorization', token).set('x-forwarded-for', '203.0.113.9, 10.0.0.1')).status).toBe(403);
  });

  it('a user context function fills keys; a missing key keeps a conditional ALLOW from applying', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'Country', operator: 'StringEquals', value: 'NZ' }] },
    ]);
    const { app } = appWith();
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect((await request(app).get('/cond').set('authorization', token)).status).toBe(403);
    const { app: withCountry } = appWith({ conditions: { context: ({ request: req }) => ({ Country: req?.headers['x-country'] }) } });
    expect((await request(withCountry).get('/cond').set('authorization', token).set('x-country', 'NZ')).status).toBe(200);
    expect((await request(withCountry).get('/cond').set('authorization', token).set('x-country', 'AU')).status).toBe(403);
  });

  it('a conditional DENY with an unknown operator applies', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'SourceIp', operator: 'Whatever', value: 'x' }] },
    ]);
    const { app } = appWith();
    expect((await get(app, 'alice', '/cond')).status).toBe(403);
  });
});

describe('a repeated token reaches its grants without a lookup, and never past their life', () => {
  // The hot path links a cached token to its user's cached grants; each case repeats one token, so
  // the link is what answers unless it notices that the grants it points to are gone or stale.
  const repeat = async (app: express.Express, token: string) => (await request(app).get('/r').set('authorization', token)).status;

  it('expiry: grants past their ttl are loaded again', async () => {
    const { app } = appWith({ cache: { ttl: 300, maxStale: 0 } });
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect([await repeat(app, token), await repeat(app, token), await repeat(app, token)]).toEqual([200, 200, 200]);
    emulator().setGrants('alice', []);
    expect(await repeat(app, token)).toBe(200); // still fresh
    advance(350);
    expect(await repeat(app, token)).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('eviction: grants pushed out by another user are loaded again', async () => {
    const { app } = appWith({ cache: { max: 1 } });
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const alice = `Bearer ${await emulator().mintToken('alice')}`;
    expect([await repeat(app, alice), await repeat(app, alice)]).toEqual([200, 200]);
    emulator().setGrants('alice', []);
    expect(await repeat(app, `Bearer ${await emulator().mintToken('bob')}`)).toBe(200); // evicts alice
    expect(await repeat(app, alice)).toBe(403);
  });

  it('invalidation: invalidateUser and invalidateAll reach a linked token', async () => {
    const { app, guard } = appWith();
    const token = `Bearer ${await emulator().mintToken('alice')}`;
    expect([await repeat(app, token), await repeat(app, token)]).toEqual([200, 200]);
    emulator().setGrants('alice', []);
    guard.invalidateUser('alice');
    expect([await repeat(app, token), await repeat(app, token)]).toEqual([403, 403]);
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    guard.invalidateAll();
    expect([await repeat(app, token), await repeat(app, token)]).toEqual([200, 200]);
  });

  it('a token of the same user reaches the same grants; one of another user, its own', async () => {
    const { app } = appWith();
    emulator().setGrants('bob', []);
    const alice = `Bearer ${await emulator().mintToken('alice')}`;
    const bob = `Bearer ${await emulator().mintToken('bob')}`;
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push(await repeat(app, i % 3 === 2 ? bob : alice));
    expect(statuses).toEqual(Array.from({ length: 40 }, (_, i) => (i % 3 === 2 ? 403 : 200)));
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});
