// @bench {"id":"jose","label":"hand-written jose 6 jwtVerify, CryptoKey imported once (reference for h)","baseline":"a","checks":["auth"],"token":"fresh"}
// What a careful user writes by hand: jose's jwtVerify on every request with a key imported once.
// Measured with a never-seen token per request, like (h), so the two rows compare verification cost.
import express from 'express';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, ROUTE, announce, bearer, payload } from '../lib/common.mjs';

const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const verifyOptions = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: [JWT_ALG] };

async function authenticate(req, res, next) {
  const token = bearer(req.headers.authorization);
  if (!token) return res.status(401).json({ error: 'invalid_request' });
  try {
    req.auth = (await jwtVerify(token, key, verifyOptions)).payload;
  } catch {
    return res.status(401).json({ error: 'invalid_token' });
  }
  next();
}

const app = express();
app.get(ROUTE, authenticate, (req, res) => { res.json(payload(req.params.id)); });
announce(createServer(app));
