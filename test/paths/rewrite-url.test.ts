/**
 * Fastify's `rewriteUrl` (also through Nest's FastifyAdapter) rewrites `raw.url` before routing and keeps
 * the received target in `raw.originalUrl`. API mode must judge the path Fastify routes: judged on the
 * alias the client sent, a DENY on the routed path was bypassed and a public path exempted another route.
 *
 * The same on Express (and Nest on Express) with a middleware in front of the guard that rewrites
 * `req.url`: Express keeps the received target in `req.originalUrl` and routes `req.url`. Judged on
 * `originalUrl`, `GET /legacy/admin/x` reached the `/api/v1/admin/:x` handler past its DENY.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { startExpress, startFastify, startNest, type AppInput, type PathApp } from './apps.js';
import { raw } from './raw.js';

const GRANTS: AuthorizedResource[] = [
  { resourceCode: 'all', resourceType: 'API', apiIdentifier: '/*', actions: ['read'], effect: 'ALLOW' },
  { resourceCode: 'admin', resourceType: 'API', apiIdentifier: '/api/v1/admin/*', actions: ['*'], effect: 'DENY' },
];

/** A legacy prefix served by the current routes. */
const rewrite = (url: string): string => url.replace(/^\/legacy\//, '/api/v1/');
const rewriteUrl = (req: { url?: string }): string => rewrite(req.url ?? '/');

let emulator: GenAuthEmulator;
let authorization: string;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('alice', GRANTS);
  authorization = `Bearer ${await emulator.mintToken('alice')}`;
});
afterAll(async () => {
  await emulator.close();
});

const CASES: Array<[string, (input: AppInput) => Promise<PathApp>]> = [
  ['Fastify', (input) => startFastify({ rewriteUrl }, input)],
  ['Nest (fastify)', (input) => startNest({ platform: 'fastify', fastify: { rewriteUrl } }, input)],
  ['Express 4 with a rewriting middleware', (input) => startExpress(4, { rewrite }, input)],
  ['Express 5 with a rewriting middleware', (input) => startExpress(5, { rewrite }, input)],
  ['Nest (express) with a rewriting middleware', (input) => startNest({ platform: 'express', rewrite }, input)],
];

describe.each(CASES)('%s (rewriteUrl or a middleware), API mode', (_label, start) => {
  it('judges the rewritten path: a DENY holds through the alias, a public path exempts only itself', async () => {
    const app = await start({ options: emulator.guardOptions(), api: { publicPaths: ['/legacy/keys'] } });
    try {
      expect((await raw(app.port, 'GET', '/api/v1/admin/x', { authorization })).status).toBe(403);
      expect((await raw(app.port, 'GET', '/legacy/admin/x', { authorization })).status).toBe(403);
      // /legacy/keys is routed as /api/v1/keys, which is not public.
      expect((await raw(app.port, 'GET', '/legacy/keys')).status).toBe(401);
      expect(app.ran).toEqual([]);
      expect((await raw(app.port, 'GET', '/legacy/users', { authorization })).status).toBe(200);
      expect(app.ran.map((r) => r.route)).toEqual(['users']);
    } finally {
      await app.close();
    }
  });
});
