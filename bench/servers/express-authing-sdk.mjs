// @bench {"id":"e","label":"official authing-node-sdk getUserAuthorizedResources per request + jose + scan, 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100"}}
// Same as (d), but the GenAuth call goes through the official SDK (ManagementClient, host = the
// emulator). The SDK builds its AK/SK signature on every request as always; the emulator speaks the
// management-token scheme, so an axios interceptor swaps the finished `authorization` header for the
// management token (fetched once) just before sending. Everything else is the SDK's own path.
import express from 'express';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { request } from 'undici';
import { ManagementClient } from 'authing-node-sdk';
import {
  ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACTION, JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, RESOURCE_OF, ROUTE,
  USER_POOL_ID, announce, bearer, payload, requireEnv,
} from '../lib/common.mjs';
import { naiveAllows } from '../lib/fixtures.mjs';

const HOST = requireEnv('GENAUTH_HOST');
const NAMESPACE = requireEnv('NAMESPACE');
const management = new ManagementClient({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, host: HOST });
const tokenAnswer = await request(`${HOST}/api/v3/get-management-token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET }),
});
const managementToken = (await tokenAnswer.body.json()).data.access_token;
management.httpClient.axios.interceptors.request.use((config) => {
  config.headers.authorization = `Bearer ${managementToken}`;
  config.headers['x-authing-userpool-id'] = USER_POOL_ID;
  return config;
});

const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const verifyOptions = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: [JWT_ALG] };

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
    let envelope;
    try {
      envelope = await management.getUserAuthorizedResources({ userId: claims.sub, namespace: NAMESPACE });
    } catch {
      return res.status(503).json({ error: 'authorization_unavailable' });
    }
    if (envelope.statusCode !== 200) return res.status(503).json({ error: 'authorization_unavailable' });
    if (!naiveAllows(envelope.data.list, resourceOf(req), action)) return res.status(403).json({ error: 'forbidden' });
    next();
  };
}

const app = express();
app.get(ROUTE, requirePermission((req) => RESOURCE_OF(req.params.id), ACTION), (req, res) => {
  res.json(payload(req.params.id));
});
announce(createServer(app));
