// @bench {"id":"attach","label":"Express 5 with a middleware that attaches one object to req (the floor for a middleware that hands its result on)","baseline":"a"}
// Every authentication middleware hands its result to the handler on `req` (req.auth, req.user,
// req.genauth). Express gives each request object a hidden class of its own (Object.setPrototypeOf
// per request), so adding a property copies that class instead of following a cached transition:
// this row shows what that one store costs by itself.
import express from 'express';
import { createServer } from 'node:http';
import { ROUTE, announce, payload } from '../lib/common.mjs';

const app = express();
app.get(ROUTE, (req, res, next) => {
  req.genauth = { identity: { userId: 'u' }, decision: { allowed: true } };
  next();
}, (req, res) => { res.json(payload(req.params.id)); });
announce(createServer(app));
