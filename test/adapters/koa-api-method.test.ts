// docs/koa.md ("API mode"): the guard judges the method the request has when it runs. A method
// override (koa-methodoverride and the like: a POST with `X-HTTP-Method-Override: DELETE` becomes a
// DELETE) placed after guard.api() makes the router run a route the guard never judged (trap); placed
// before it, the override is what is judged. The middleware below does what those packages do.
import type { Server } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKoaGuard, type KoaGuard } from '../../src/adapters/koa.js';
import { bearerFor, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

const methodOverride: Koa.Middleware = (ctx, next) => {
  const wanted = ctx.get('x-http-method-override');
  if (ctx.method === 'POST' && wanted !== '') ctx.method = wanted.toUpperCase();
  return next();
};

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
])('%s API mode and a method override', (_name, App) => {
  let guard: KoaGuard;
  let ran: string[];
  const servers: Server[] = [];

  beforeEach(() => {
    emulator().setGrants('alice', [
      { resourceCode: 'items', resourceType: 'API', apiIdentifier: '/items/*', actions: ['read', 'create'] },
      { resourceCode: 'items-delete', resourceType: 'API', apiIdentifier: '/items/*', actions: ['delete'], effect: 'DENY' },
    ]);
    guard = createKoaGuard(emulator().guardOptions());
    ran = [];
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close();
    await guard.close();
  });

  function appWith(order: 'override after the guard' | 'override before the guard'): Server {
    const app = new App();
    if (order === 'override before the guard') app.use(methodOverride);
    app.use(guard.api());
    if (order === 'override after the guard') app.use(methodOverride);
    const router = new Router();
    router.delete('/items/:id', (ctx) => {
      ran.push(`DELETE ${ctx.params.id}`);
      ctx.status = 204;
    });
    router.post('/items/:id', (ctx) => {
      ran.push(`POST ${ctx.params.id}`);
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    return server;
  }

  it('control: DELETE is denied, POST allowed', async () => {
    const server = appWith('override after the guard');
    const alice = await bearerFor(emulator(), 'alice');
    expect((await request(server).delete('/items/9').set('authorization', alice)).status).toBe(403);
    expect((await request(server).post('/items/9').set('authorization', alice)).status).toBe(200);
    expect(ran).toEqual(['POST 9']);
  });

  it('an override after guard.api() runs the DELETE route the guard judged as a POST (trap)', async () => {
    const server = appWith('override after the guard');
    const res = await request(server).post('/items/9').set('authorization', await bearerFor(emulator(), 'alice')).set('x-http-method-override', 'DELETE');
    expect(res.status).toBe(204);
    expect(ran).toEqual(['DELETE 9']);
  });

  it('an override before guard.api() is judged: the DELETE is refused', async () => {
    const server = appWith('override before the guard');
    const res = await request(server).post('/items/9').set('authorization', await bearerFor(emulator(), 'alice')).set('x-http-method-override', 'DELETE');
    expect(res.status).toBe(403);
    expect(ran).toEqual([]);
  });
});
