// unguardedRoutes() on real Fastify 5 instances: route configs, route hooks, the plugin's `api` option.
import Fastify from 'fastify';
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
});
