// @bench {"id":"noop","label":"Express 5 with a do-nothing middleware before the route handler (the floor for any middleware)","baseline":"a"}
// What one extra Express layer costs by itself: every guard row pays it before doing any work.
import express from 'express';
import { createServer } from 'node:http';
import { ROUTE, announce, payload } from '../lib/common.mjs';

const app = express();
app.get(ROUTE, (req, res, next) => { next(); }, (req, res) => { res.json(payload(req.params.id)); });
announce(createServer(app));
