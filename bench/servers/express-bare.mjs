// @bench {"id":"a","label":"Express 5 bare route (baseline)","baseline":"a","checks":[]}
import express from 'express';
import { createServer } from 'node:http';
import { ROUTE, announce, payload } from '../lib/common.mjs';

const app = express();
app.get(ROUTE, (req, res) => { res.json(payload(req.params.id)); });
announce(createServer(app));
