// @bench {"id":"fastify-f100","label":"Fastify + genauth-guard (route config), warm cache, 100 grants","baseline":"fastify","checks":["auth","authz"],"env":{"NAMESPACE":"n100"}}
// @bench {"id":"fastify-f10k","label":"Fastify + genauth-guard (route config), warm cache, 10,000 grants (maxEntryBytes 16 MiB)","baseline":"fastify","checks":["auth","authz"],"env":{"NAMESPACE":"n10000","GUARD_MAX_ENTRY_BYTES":"16777216"}}
import Fastify from 'fastify';
import { createServer } from 'node:http';
import { genauthGuard } from '../../dist/fastify.js';
import { ACTION, RESOURCE_OF, ROUTE, announce, payload } from '../lib/common.mjs';
import { guardOptions } from '../lib/guard-options.mjs';

const app = Fastify({ logger: false, serverFactory: (handler) => createServer(handler) });
await app.register(genauthGuard, guardOptions());
app.get(ROUTE, { config: { genauth: { resource: (request) => RESOURCE_OF(request.params.id), requirement: ACTION } } }, async (request) =>
  payload(request.params.id),
);
await app.ready();
announce(app.server, () => app.close());
