// The identity examples of docs/identity.md, each an Express app built from the environment (the
// variable names every example uses). test/examples/identity.test.ts runs each against the emulator.
import express, { type Request } from 'express';
import { createExpressGuard, type ExpressGuard } from 'genauth-guard/express';

type Env = Record<string, string | undefined>;

/** The `name` cookie of a request (no cookie library needed for one value). */
function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The token from an `access_token` cookie instead of the `Authorization` header. */
export function cookieTokenGuard(env: Env = process.env): ExpressGuard {
  // #region cookie
  const guard = createExpressGuard({
    genauth: { host: env.GENAUTH_HOST, userPoolId: env.GENAUTH_USER_POOL_ID!, accessKeySecret: env.GENAUTH_ACCESS_KEY_SECRET! },
    jwt: { issuer: env.GENAUTH_ISSUER!, audience: env.GENAUTH_AUDIENCE!, jwksUri: env.GENAUTH_JWKS_URI!, algorithms: ['RS256'] },
    // The one source of the token: the Authorization header is not read, even when this returns undefined.
    getToken: (req) => cookie(req, 'access_token'),
  });
  // #endregion cookie
  return guard;
}

/** Who passport (or a session) says the caller is: `req.user`, set by a layer in front of the guard. */
export function passportUserGuard(env: Env = process.env): ExpressGuard {
  // #region passport
  const guard = createExpressGuard({
    genauth: { host: env.GENAUTH_HOST, userPoolId: env.GENAUTH_USER_POOL_ID!, accessKeySecret: env.GENAUTH_ACCESS_KEY_SECRET! },
    // No jwt: the guard trusts the layer that set req.user (passport.session(), express-session, ...).
    identity: { resolve: (req) => (req as Request & { user?: { id?: string } }).user?.id },
  });
  // #endregion passport
  return guard;
}

/** Only the issuer: the key set's address comes from its discovery document. */
export function issuerOnlyGuard(env: Env = process.env): ExpressGuard {
  // #region discovery
  const guard = createExpressGuard({
    genauth: { host: env.GENAUTH_HOST, userPoolId: env.GENAUTH_USER_POOL_ID!, accessKeySecret: env.GENAUTH_ACCESS_KEY_SECRET! },
    // Reads <issuer>/.well-known/openid-configuration once, then its jwks_uri.
    jwt: { issuer: env.GENAUTH_ISSUER!, audience: env.GENAUTH_AUDIENCE!, discovery: true, algorithms: ['RS256'] },
  });
  // #endregion discovery
  return guard;
}

/** One protected route behind `guard`; `before` stands for the app's own layers (passport, sessions). */
export function protectedApp(guard: ExpressGuard, before?: express.RequestHandler): express.Express {
  const app = express();
  if (before !== undefined) app.use(before);
  app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
    res.json({ started: req.params.id, by: req.genauth!.identity.userId });
  });
  return app;
}
