// Type-level tests of typed routes on Express (tsc checks them: `npm run typecheck` covers test/; every
// `@ts-expect-error` must meet an error). The resource function's `req.params` is typed from the route's
// path, as Express's own handlers are: a parameter the path lacks does not compile.
import express, { type Request, type RequestHandler } from 'express';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { typedRoutes } from '../../examples/express/typed-routes.js';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';

const guard: ExpressGuard = createExpressGuard({
  genauth: { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' },
  jwt: { jwksUri: 'http://127.0.0.1:9999/jwks', algorithms: ['RS256'] },
});

const emulator = useEmulator();

describe('Express: requirePermission is typed by the route path', () => {
  it("docs/typescript.md's example type-checks (tsc) and serves the typed route", async () => {
    seedStandardTenant(emulator());
    const real = createExpressGuard(emulator().guardOptions());
    const server = typedRoutes(real).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/servers/1/disks/3/attach`;
      const res = await fetch(url, { method: 'POST', headers: { authorization: await bearerFor(emulator(), 'alice') } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ server: '1', disk: '3' });
    } finally {
      server.close();
      await real.close();
    }
  });

  it("types req.params from app.post's path; an unknown parameter does not compile", async () => {
    const app = express();
    app.post(
      '/servers/:serverId/disks/:diskId',
      guard.requirePermission((req) => {
        expectTypeOf(req.params).toEqualTypeOf<{ serverId: string } & { diskId: string }>();
        return `disk:${req.params.serverId}:${req.params.diskId}`;
      }, 'disk:Attach'),
      (req, res) => {
        res.json({ server: req.params.serverId });
      },
    );
    app.post(
      '/b/:id',
      guard.requirePermission(
        // @ts-expect-error the path has no :serverId (it would ask for `ecs:undefined`)
        (req) => `ecs:${req.params.serverId}`,
        'ecs:Start',
      ),
    );
    // Routers and route() infer the same way.
    express.Router().get('/reports/:year', guard.requirePermission((req) => `reports:${req.params.year}`, 'reports:Read'));
    app.route('/servers/:id').delete(guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Delete'));
    await guard.close();
    expect(app).toBeTypeOf('function');
  });

  it('outside a route, params are given explicitly or default to a dictionary', () => {
    const typed = guard.requirePermission<{ id: string }>((req) => `ecs:${req.params.id}`, 'ecs:Start');
    expectTypeOf(typed).toEqualTypeOf<RequestHandler<{ id: string }>>();
    const plain = guard.requirePermission((req: Request) => `ecs:${req.params.id}`, 'ecs:Start');
    expectTypeOf(plain).toExtend<RequestHandler>();
    // The handler after the guard keeps Express's own typing, req.genauth included.
    express().get('/me', guard.authenticate(), (req) => {
      expectTypeOf(req.genauth?.identity.userId).toEqualTypeOf<string | undefined>();
    });
  });
});
