// @bench {"id":"koa","label":"Koa 3 + @koa/router bare route (Koa baseline)","baseline":"koa","checks":[]}
import Koa from 'koa';
import Router from '@koa/router';
import { createServer } from 'node:http';
import { ROUTE, announce, payload } from '../lib/common.mjs';

const app = new Koa();
const router = new Router();
router.get(ROUTE, (ctx) => { ctx.body = payload(ctx.params.id); });
app.use(router.routes());
announce(createServer(app.callback()));
