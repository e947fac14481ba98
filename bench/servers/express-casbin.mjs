// @bench {"id":"c100","label":"express-oauth2-jwt-bearer + casbin enforce, keyMatch2 RBAC, 100 policies","baseline":"a","checks":["auth","authz"],"env":{"CASBIN_N":"100"}}
// @bench {"id":"c10k","label":"express-oauth2-jwt-bearer + casbin enforce, keyMatch2 RBAC, 10,000 policies","baseline":"a","prime":false,"checks":["auth","authz"],"env":{"CASBIN_N":"10000"}}
// An in-process policy engine instead of GenAuth: enforce(sub, path, method) per request.
import express from 'express';
import { createServer } from 'node:http';
import { auth } from 'express-oauth2-jwt-bearer';
import { JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, ROUTE, announce, payload } from '../lib/common.mjs';
import { makeEnforcer } from '../lib/fixtures.mjs';

const enforcer = await makeEnforcer(Number(process.env.CASBIN_N || 100));

async function authorize(req, res, next) {
  try {
    if (await enforcer.enforce(req.auth.payload.sub, req.path, req.method)) return next();
    res.status(403).json({ error: 'forbidden' });
  } catch (err) {
    next(err);
  }
}

const app = express();
app.get(
  ROUTE,
  auth({ issuer: JWT_ISSUER, audience: JWT_AUDIENCE, secret: JWT_SECRET, tokenSigningAlg: JWT_ALG }),
  authorize,
  (req, res) => { res.json(payload(req.params.id)); },
);
app.use((err, req, res, _next) => { res.status(err.status || 500).json({ error: err.code || 'error' }); });
announce(createServer(app));
