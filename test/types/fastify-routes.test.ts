// Type-level tests of typed routes on Fastify (tsc checks them; every `@ts-expect-error` must meet an
// error). Fastify takes a route's params as its route generic, not from the path: on a route typed
// `app.post<{ Params: ... }>`, a resource function's `req.params` has those params; elsewhere it is the
// router's string dictionary, as before.
import Fastify from 'fastify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

describe('Fastify: requirePermission is typed by the route generic', () => {
  it("types req.params from the route's Params, and serves the route", async () => {
    seedStandardTenant(emulator());
    const app = Fastify();
    await app.register(genauthGuard, emulator().guardOptions());
    app.post<{ Params: { serverId: string; diskId: string } }>(
      '/servers/:serverId/disks/:diskId/attach',
      {
        preHandler: app.genauth.requirePermission((req) => {
          expectTypeOf(req.params).toEqualTypeOf<{ serverId: string; diskId: string }>();
          return `disk:${req.params.diskId}`;
        }, 'disk:Attach'),
      },
      async (req) => ({ server: req.params.serverId, disk: req.params.diskId }),
    );
    app.post<{ Params: { id: string } }>('/b/:id', {
      // @ts-expect-error the route's Params have no serverId
      preHandler: app.genauth.requirePermission((req) => `ecs:${req.params.serverId}`, 'ecs:Start'),
    }, async () => 'never');
    // Without a route generic: the router's dictionary, as before.
    app.post('/c/:id', { preHandler: app.genauth.requirePermission((req) => {
      expectTypeOf(req.params).toEqualTypeOf<Record<string, string>>();
      return `ecs:${req.params.id}`;
    }, 'ecs:Start') }, async () => 'ok');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${url}/servers/1/disks/3/attach`, { method: 'POST', headers: { authorization: await bearerFor(emulator(), 'alice') } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ server: '1', disk: '3' });
    } finally {
      await app.close();
    }
  });
});
