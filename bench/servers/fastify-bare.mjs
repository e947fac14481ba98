// @bench {"id":"fastify","label":"Fastify 5 bare route (Fastify baseline)","baseline":"fastify","checks":[]}
import Fastify from 'fastify';
import { createServer } from 'node:http';
import { ROUTE, announce, payload } from '../lib/common.mjs';

const app = Fastify({ logger: false, serverFactory: (handler) => createServer(handler) });
app.get(ROUTE, async (request) => payload(request.params.id));
await app.ready();
announce(app.server);
