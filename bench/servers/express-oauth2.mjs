// @bench {"id":"b","label":"express-oauth2-jwt-bearer auth(), HS256, authentication only","baseline":"a","checks":["auth"]}
// The documented configuration for symmetric secrets; no issuerBaseURL, so no network at all.
import express from 'express';
import { createServer } from 'node:http';
import { auth } from 'express-oauth2-jwt-bearer';
import { JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, ROUTE, announce, payload } from '../lib/common.mjs';

const app = express();
app.get(ROUTE, auth({ issuer: JWT_ISSUER, audience: JWT_AUDIENCE, secret: JWT_SECRET, tokenSigningAlg: JWT_ALG }), (req, res) => {
  res.json(payload(req.params.id));
});
app.use((err, req, res, _next) => { res.status(err.status || 500).json({ error: err.code || 'error' }); });
announce(createServer(app));
