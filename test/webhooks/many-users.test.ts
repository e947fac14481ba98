// A `user:blocked`/`deleted`/`archived` delivery naming thousands of users (a 64 KB body holds
// about 10,000 ids) costs work in proportion to the users it names and the tokens cached, never
// their product: the old one cleared each user with a walk over the whole verified-token cache
// (10,000 x 10,000 steps on one event loop turn). Measured by the cache entries visited.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { countCacheWalks } from '../cache-walks.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { eventBody, jsonHeaders, post } from './http.js';

const SECRET = 'whsec-0123456789abcdef';
const emulator = useEmulator();
/** Users whose tokens are cached before the delivery. */
const CACHED = 40;
/** Users the delivery names. */
const NAMED = 3_000;

let guard: ExpressGuard;
let server: Server;
let port: number;

beforeEach(async () => {
  seedStandardTenant(emulator());
  guard = createExpressGuard({ ...emulator().guardOptions(), logger: false });
  const app = express();
  app.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (req: Request, res: Response) => void res.json({ user: req.genauth?.identity.userId }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await guard.close();
});

const reports = async (authorization: string) => post(port, '/reports', { method: 'GET', headers: { authorization } });

describe('a user event naming thousands of users', () => {
  it.each(['user:blocked', 'user:deleted', 'user:archived'])('%s: revokes every named user with work bounded by users + cached tokens', async (eventName) => {
    // Every cached user is named too (at the end, so a per-user walk meets a full cache each time).
    const cached = Array.from({ length: CACHED }, (_, i) => `cached-${i}`);
    const tokens = await Promise.all(cached.map((user) => bearerFor(emulator(), user)));
    const aliceToken = await bearerFor(emulator(), 'alice');
    for (const token of tokens) expect((await reports(token)).status).toBe(403); // verified and cached, no grants
    expect((await reports(aliceToken)).status).toBe(200);
    const named = [...Array.from({ length: NAMED - CACHED }, (_, i) => `named-${i}`), ...cached];
    const body = eventBody(eventName, { users: named.map((id) => ({ id })) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);

    const walks = countCacheWalks();
    let answer;
    try {
      answer = await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body });
    } finally {
      walks.restore();
    }
    expect(answer.status).toBe(204);
    // At most one walk over what is cached (41 tokens), never one per named user (3,000 x 41).
    expect(walks.visited).toBeLessThanOrEqual(CACHED + 1);

    // Every named user is refused, the one not named is served.
    for (const token of tokens) {
      const refused = await reports(token);
      expect(refused.status).toBe(401);
    }
    expect((await reports(aliceToken)).status).toBe(200);
  });
});
