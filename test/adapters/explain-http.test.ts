// guard.explain() against the middleware over HTTP: for every case of the shared table, the Express
// middleware's answer (200 or 403) and explain's verdict agree, with the grants served by the emulator
// exactly as written. Route checks and API mode both.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, useEmulator } from '../fixtures.js';
import { API_CASES, CONTEXT, ROUTE_CASES } from '../policy/explain-cases.js';

const emulator = useEmulator();
let guard: ExpressGuard;
let server: Server;
let base: string;

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
}

beforeAll(async () => {
  // cache: false, so every request and every explain loads from the emulator.
  guard = createExpressGuard({ ...emulator().guardOptions(), cache: false });
  const app = express();
  ROUTE_CASES.forEach(({ resource, requirement, resourceType }, i) => {
    app.get(`/route/${i}`, guard.requirePermission(resource, requirement, resourceType === undefined ? undefined : { resourceType }), (_req, res) => {
      res.send('ok');
    });
  });
  API_CASES.forEach(({ publicPaths }, i) => {
    const api = express.Router();
    api.use(guard.api(publicPaths === undefined ? {} : { publicPaths }));
    api.use((_req, res) => {
      res.send('ok');
    });
    app.use((req, res, next) => (req.headers['x-case'] === String(i) ? api(req, res, next) : next()));
  });
  server = await listen(app);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await guard.close();
});

describe('explain agrees with requirePermission over HTTP', () => {
  it.each(ROUTE_CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, entries, resource, requirement, resourceType, allowed }) => {
    const userId = `route-user-${i}`;
    emulator().setRawGrants(userId, entries);
    const response = await fetch(`${base}/route/${i}`, { headers: { authorization: await bearerFor(emulator(), userId) } });
    const question = typeof requirement === 'string' ? { action: requirement } : requirement;
    const explained = await guard.explain({ userId, resource, ...question, ...(resourceType === undefined ? {} : { resourceType }), context: CONTEXT(userId) });
    expect(response.status).toBe(allowed ? 200 : 403);
    expect(explained.allowed).toBe(response.status === 200);
  });
});

describe('explain agrees with API mode over HTTP', () => {
  it.each(API_CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, entries, method, path, publicPaths, allowed }) => {
    const userId = `api-user-${i}`;
    emulator().setRawGrants(userId, entries);
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: await bearerFor(emulator(), userId), 'x-case': String(i) } });
    const explained = await guard.explain({ userId, method, path, ...(publicPaths === undefined ? {} : { api: { publicPaths } }), context: CONTEXT(userId) });
    expect(response.status).toBe(allowed ? 200 : 403);
    expect(explained.allowed).toBe(response.status === 200);
  });

  it('never shows a token or a secret, and works taken off the guard', async () => {
    emulator().setRawGrants('api-user-0', API_CASES[0]?.entries ?? []);
    const { explain } = guard;
    const explained = await explain({ userId: 'api-user-0', method: 'GET', path: '/api/users' });
    const text = JSON.stringify(explained);
    const { accessKeySecret } = emulator().guardOptions().genauth as { accessKeySecret?: string };
    expect(explained).toMatchObject({ allowed: true, reason: 'allowed', grants: [{ outcome: 'applies', decisive: true }] });
    if (accessKeySecret !== undefined) expect(text).not.toContain(accessKeySecret);
    expect(text).not.toMatch(/eyJ/);
  });

  it('rejects a call without a user id', async () => {
    await expect(guard.explain({ userId: '', method: 'GET', path: '/' })).rejects.toThrow(TypeError);
  });
});
