// Typed routes (docs/typescript.md): a resource function's `req.params` has exactly the path's parameters.
// test/types/express-routes.test.ts type-checks this file and runs the app against the emulator.
import express from 'express';
import type { ExpressGuard } from 'genauth-guard/express';

export function typedRoutes(guard: ExpressGuard): express.Express {
  // #region typed-routes
  const app = express();
  app.post(
    '/servers/:serverId/disks/:diskId/attach',
    guard.requirePermission((req) => `disk:${req.params.diskId}`, 'disk:Attach'), // req.params: { serverId, diskId }
    (req, res) => {
      res.json({ server: req.params.serverId, disk: req.params.diskId });
    },
  );
  // @ts-expect-error the path has no :id, so `req.params.id` does not compile (it would ask for `ecs:undefined`)
  app.post('/servers/:serverId/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'));
  // #endregion typed-routes
  return app;
}
