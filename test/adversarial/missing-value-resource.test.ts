// A resource function that reads a value the request does not have there builds a code such as
// `ecs:undefined`: `router.use(guard.requirePermission((req) => `ecs:${req.params.id}`, ...))` runs
// before any route has set `req.params` (Express, @koa/router), `Number(missing)` is NaN, an object
// in a template is `[object Object]`. Checked as such, the code escaped a DENY on the server the
// handler then ran on whenever a wildcard ALLOW covered it. Such a code is refused (500), never decided.
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/core/guard.js';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import type { GrantInput } from '../../src/testing/index.js';
import { bearerFor, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

const GRANTS: GrantInput[] = [
  { resourceCode: 'ecs:*', actions: ['ecs:Describe'] },
  { resourceCode: 'ecs:9', actions: ['ecs:Describe'], effect: 'DENY' },
];

describe('a resource code built from a missing value', () => {
  it('Express: a guard in router.use() reads req.params before any route set them: 500, the handler does not run', async () => {
    emulator().setGrants('alice', GRANTS);
    const guard = createExpressGuard(emulator().guardOptions());
    let handled = 0;
    const app = express();
    const router = express.Router();
    router.use(guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Describe'));
    router.get('/servers/:id', (_req, res) => {
      handled++;
      res.json({ ok: true });
    });
    app.use('/api', router);
    try {
      const res = await request(app).get('/api/servers/9').set('authorization', await bearerFor(emulator(), 'alice'));
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('ERR_INTERNAL');
      expect(handled).toBe(0);
    } finally {
      await guard.close();
    }
  });

  it('Koa: a guard in router.use() reads ctx.params before the route layer set them: 500, the handler does not run', async () => {
    emulator().setGrants('alice', GRANTS);
    const guard = createKoaGuard(emulator().guardOptions());
    let handled = 0;
    const app = new Koa();
    const router = new Router();
    router.use(guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Describe'));
    router.get('/servers/:id', (ctx) => {
      handled++;
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    try {
      const res = await request(app.callback()).get('/servers/9').set('authorization', await bearerFor(emulator(), 'alice'));
      expect(res.status).toBe(500);
      expect(handled).toBe(0);
    } finally {
      await guard.close();
    }
  });

  it.each(['ecs:undefined', 'undefined', 'ecs:NaN', 'ecs:[object Object]', 'ecs:undefined:start', 'files/undefined/a'])('check() refuses %s as a resource', async (resource) => {
    emulator().setGrants('alice', GRANTS);
    const guard = createGuard(emulator().guardOptions());
    try {
      await expect(guard.check({ userId: 'alice', resource, action: 'ecs:Describe' })).rejects.toMatchObject({ code: 'ERR_INTERNAL', status: 500 });
    } finally {
      await guard.close();
    }
  });

  it.each(['ecs:undefined-x', 'ecs:9', 'ecs:undefinedness', 'ecs:nan', 'ecs:null'])('check() decides %s as usual', async (resource) => {
    emulator().setGrants('alice', GRANTS);
    const guard = createGuard(emulator().guardOptions());
    try {
      const decision = await guard.check({ userId: 'alice', resource, action: 'ecs:Describe' });
      expect(decision.allowed).toBe(resource !== 'ecs:9');
    } finally {
      await guard.close();
    }
  });
});
