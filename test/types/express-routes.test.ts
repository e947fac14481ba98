// Type-level tests of typed routes on Express (tsc checks them: `npm run typecheck` covers test/; every
// `@ts-expect-error` must meet an error). The resource function's `req.params` is typed from the route's
// path, as Express's own handlers are: a parameter the path lacks does not compile.
import express, { type Request, type RequestHandler } from 'express';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';

const guard: ExpressGuard = createExpressGuard({
  genauth: { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' },
  jwt: { jwksUri: 'http://127.0.0.1:9/jwks', algorithms: ['RS256'] },
});

describe('Express: requirePermission is typed by the route path', () => {
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
