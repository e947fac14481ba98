// @bench {"id":"koa-f100","label":"Koa + genauth-guard requirePermission, warm cache, 100 grants","baseline":"koa","checks":["auth","authz"],"env":{"NAMESPACE":"n100"}}
// @bench {"id":"koa-f10k","label":"Koa + genauth-guard requirePermission, warm cache, 10,000 grants (maxEntryBytes 16 MiB)","baseline":"koa","checks":["auth","authz"],"env":{"NAMESPACE":"n10000","GUARD_MAX_ENTRY_BYTES":"16777216"}}
import Koa from 'koa';
import Router from '@koa/router';
import { createServer } from 'node:http';
import { createKoaGuard } from '../../dist/koa.js';
import { ACTION, RESOURCE_OF, ROUTE, announce, payload } from '../lib/common.mjs';
import { guardOptions } from '../lib/guard-options.mjs';

const guard = createKoaGuard(guardOptions());
const app = new Koa();
const router = new Router();
router.get(ROUTE, guard.requirePermission((ctx) => RESOURCE_OF(ctx.params.id), ACTION), (ctx) => {
  ctx.body = payload(ctx.params.id);
});
app.use(router.routes());
announce(createServer(app.callback()), () => guard.close());
