// The README's quick start: an Express API protected with a real tenant's values, read from the
// environment (the names of ENV.md). test/docs/examples.test.ts runs it against the emulator.
// #region quickstart
import express from 'express';
import { createExpressGuard } from 'genauth-guard/express';

export const guard = createExpressGuard({
  genauth: {
    host: process.env.GENAUTH_HOST, // optional: https://api.genauth.ai unless set
    userPoolId: process.env.GENAUTH_USER_POOL_ID!,
    accessKeySecret: process.env.GENAUTH_ACCESS_KEY_SECRET!, // never logged
  },
  jwt: {
    issuer: process.env.GENAUTH_ISSUER!, // https://<app-domain>/oidc
    audience: process.env.GENAUTH_AUDIENCE!, // the application's App ID
    jwksUri: process.env.GENAUTH_JWKS_URI!, // https://<app-domain>/oidc/.well-known/jwks.json
    algorithms: ['RS256'],
  },
});

export const app = express();
app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
  res.json({ started: req.params.id, by: req.genauth!.identity.userId });
});
// #endregion quickstart
