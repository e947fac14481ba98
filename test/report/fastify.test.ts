// unguardedRoutes() on real Fastify 5 instances: route configs, route hooks (and their order), the
// plugin's `api` option.
import Fastify, { type FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { genauthGuard, unguardedRoutes, warnUnguarded } from '../../src/adapters/fastify.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();

describe('Fastify unguardedRoutes', () => {
  it('lists the routes nothing of ours guards', async () => {
    const app = Fastify();
    await app.register(genauthGuard, emulator().guardOptions());
    app.get('/health', { config: { genauth: { public: true } } }, async () => 'ok');
    app.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'ok');
    app.post('/reports', async () => 'ok');
    app.get('/open/:id', async () => 'ok');
    app.delete('/items/:id', { preHandler: app.genauth.requirePermission('items', 'items:Delete') }, async () => 'ok');
    await app.register(
      async (scope) => {
        scope.put('/me', { onRequest: [app.genauth.authenticate()] }, async () => 'ok');
        scope.patch('/me', async () => 'ok');
      },
      { prefix: '/v1' },
    );
    await app.ready();
    expect(unguardedRoutes(app)).toEqual([
      { method: 'GET', path: '/open/:id' },
      { method: 'POST', path: '/reports' },
      { method: 'PATCH', path: '/v1/me' },
    ]);
    const lines: string[] = [];
    warnUnguarded(app, { warn: (line) => lines.push(line) });
    expect(lines).toEqual([expect.stringContaining('POST /reports')]);
    await app.close();
  });

  it('the plugin in API mode guards every route', async () => {
    const app = Fastify();
    await app.register(genauthGuard, { ...emulator().guardOptions(), api: { publicPaths: ['/health'] } });
    app.get('/health', async () => 'ok');
    app.put('/items/:id', async () => 'ok');
    await app.ready();
    expect(unguardedRoutes(app)).toEqual([]);
    await app.close();
  });

  it("a route whose own guard hook comes after another of its hooks is unguarded: that hook may answer first", async () => {
    const app = Fastify();
    await app.register(genauthGuard, emulator().guardOptions());
    // A hook that answers (a cache, say): the rest of the route's lifecycle, guard included, never runs.
    const answers = async (_request: unknown, reply: FastifyReply) => reply.send('cached');
    app.get('/cached', { onRequest: [answers], preHandler: [app.genauth.authenticate()] }, async () => 'ok');
    app.get('/late', { preHandler: [answers, app.genauth.authenticate()] }, async () => 'ok');
    app.get('/first', { onRequest: [app.genauth.authenticate()], preHandler: [answers] }, async () => 'ok');
    // config.genauth is enforced by the plugin's own onRequest hook, which runs before any route hook.
    app.get('/config', { onRequest: [answers], config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'ok');
    await app.ready();
    // What the report must tell: these answer with no token at all.
    for (const url of ['/cached', '/late']) expect((await app.inject({ url })).statusCode, url).toBe(200);
    for (const url of ['/first', '/config']) expect((await app.inject({ url })).statusCode, url).toBe(401);
    expect(unguardedRoutes(app)).toEqual([
      { method: 'GET', path: '/cached', reason: 'handler-before-guard' },
      { method: 'GET', path: '/late', reason: 'handler-before-guard' },
    ]);
    await app.close();
  });
});
