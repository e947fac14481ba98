// The README's Express quick start, from a real tenant's values (the environment variable names are the
// ones every example and doc uses). test/package/pack.test.ts compiles it against the packed tarball
// under four module resolutions and runs it against the emulator.
// #region quickstart
import express from 'express';
import { createExpressGuard } from 'genauth-guard/express';

const guard = createExpressGuard({
  genauth: {
    host: process.env.GENAUTH_HOST, // optional: GenAuth's public API host by default
    userPoolId: process.env.GENAUTH_USER_POOL_ID!,
    accessKeyId: process.env.GENAUTH_ACCESS_KEY_ID, // optional: the user pool id by default
    accessKeySecret: process.env.GENAUTH_ACCESS_KEY_SECRET!,
  },
  jwt: {
    issuer: process.env.GENAUTH_ISSUER!, // https://<app-domain>/oidc
    audience: process.env.GENAUTH_AUDIENCE!, // the application's App ID
    jwksUri: process.env.GENAUTH_JWKS_URI!,
    algorithms: ['RS256'],
  },
});

const app = express();
app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
  res.json({ started: req.params.id, by: req.genauth!.identity.userId });
});
app.listen(Number(process.env.PORT ?? 3000));
// #endregion quickstart
