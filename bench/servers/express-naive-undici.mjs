// @bench {"id":"d","label":"naive: jose verify + GenAuth call per request (undici, keep-alive) + linear scan, 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100"}}
// The integration a user writes from the docs: verify the JWT (key imported once), then on every
// request GET /api/v3/get-user-authorized-resources and scan the list. The management token is
// fetched once at start-up. No cache.
import express from 'express';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { request } from 'undici';
import {
  ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACTION, JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, RESOURCE_OF, ROUTE,
  USER_POOL_ID, announce, bearer, payload, requireEnv,
} from '../lib/common.mjs';
import { naiveAllows } from '../lib/fixtures.mjs';

const HOST = requireEnv('GENAUTH_HOST');
const NAMESPACE = requireEnv('NAMESPACE');
const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const verifyOptions = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: [JWT_ALG] };

const tokenAnswer = await request(`${HOST}/api/v3/get-management-token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET }),
});
const managementToken = (await tokenAnswer.body.json()).data.access_token;
const headers = { authorization: `Bearer ${managementToken}`, 'x-authing-userpool-id': USER_POOL_ID };

async function userAuthorizedResources(userId) {
  const { statusCode, body } = await request(`${HOST}/api/v3/get-user-authorized-resources`, {
    method: 'GET',
    query: { userId, namespace: NAMESPACE },
    headers,
  });
  const envelope = await body.json();
  if (statusCode !== 200 || envelope.statusCode !== 200) throw new Error('GenAuth request failed');
  return envelope.data.list;
}

function requirePermission(resourceOf, action) {
  return async (req, res, next) => {
    const token = bearer(req.headers.authorization);
    if (!token) return res.status(401).json({ error: 'invalid_request' });
    let claims;
    try {
      claims = (await jwtVerify(token, key, verifyOptions)).payload;
    } catch {
      return res.status(401).json({ error: 'invalid_token' });
    }
    let list;
    try {
      list = await userAuthorizedResources(claims.sub);
    } catch {
      return res.status(503).json({ error: 'authorization_unavailable' });
    }
    if (!naiveAllows(list, resourceOf(req), action)) return res.status(403).json({ error: 'forbidden' });
    next();
  };
}

const app = express();
app.get(ROUTE, requirePermission((req) => RESOURCE_OF(req.params.id), ACTION), (req, res) => {
  res.json(payload(req.params.id));
});
announce(createServer(app));
