// docs/api-mode.md ("The method the guard checks"), docs/express.md: guard.api() judges the method the
// request has when it runs (`req.method`, read at check time). A method override (the method-override
// package and the like: a POST with `X-HTTP-Method-Override: DELETE` becomes a DELETE) placed after
// guard.api() makes Express's router run a route the guard never judged (trap); placed before it, the
// override is what is judged. The middleware below does what method-override does (not installed).
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Delete, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express5 from 'express';
import express4 from 'express4';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import { bearerFor, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

function methodOverride(req: Request, _res: Response, next: NextFunction): void {
  const wanted = req.get('x-http-method-override');
  if (req.method === 'POST' && wanted) {
    (req as Request & { originalMethod?: string }).originalMethod = req.method;
    req.method = wanted.toUpperCase();
  }
  next();
}

type ExpressModule = typeof express5;
type Order = 'override after the guard' | 'override before the guard';
type Place = 'app' | 'router';

describe.each([
  ['Express 4', express4 as unknown as ExpressModule],
  ['Express 5', express5],
])('%s API mode and a method override', (_name, express) => {
  let guard: ExpressGuard;
  let ran: string[];
  const servers: Server[] = [];

  beforeEach(() => {
    emulator().setGrants('alice', [
      { resourceCode: 'items', resourceType: 'API', apiIdentifier: '/api/items/*', actions: ['read', 'create'] },
      { resourceCode: 'items-delete', resourceType: 'API', apiIdentifier: '/api/items/*', actions: ['delete'], effect: 'DENY' },
    ]);
    guard = createExpressGuard(emulator().guardOptions());
    ran = [];
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close();
    await guard.close();
  });

  /** guard.api() on the app, or on the router mounted at /api, with the override around it in that order. */
  function appWith(order: Order, place: Place): Server {
    const app = express();
    const router = express.Router();
    const host: { use(handler: RequestHandler): unknown } = place === 'app' ? app : router;
    if (order === 'override before the guard') host.use(methodOverride);
    host.use(guard.api());
    if (order === 'override after the guard') host.use(methodOverride);
    router.delete('/items/:id', (req, res) => {
      ran.push(`DELETE ${req.params.id}`);
      res.status(204).end();
    });
    router.post('/items/:id', (req, res) => {
      ran.push(`POST ${req.params.id}`);
      res.json({ ok: true });
    });
    app.use('/api', router);
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    return server;
  }

  describe.each(['app', 'router'] as const)('guard.api() on the %s', (place) => {
    it('control: DELETE is denied, POST allowed', async () => {
      const server = appWith('override after the guard', place);
      const alice = await bearerFor(emulator(), 'alice');
      expect((await request(server).delete('/api/items/9').set('authorization', alice)).status).toBe(403);
      expect((await request(server).post('/api/items/9').set('authorization', alice)).status).toBe(200);
      expect(ran).toEqual(['POST 9']);
    });

    it('an override after guard.api() runs the DELETE route the guard judged as a POST (trap)', async () => {
      const server = appWith('override after the guard', place);
      const res = await request(server).post('/api/items/9').set('authorization', await bearerFor(emulator(), 'alice')).set('x-http-method-override', 'DELETE');
      expect(res.status).toBe(204);
      expect(ran).toEqual(['DELETE 9']);
    });

    it('an override before guard.api() is judged: the DELETE is refused, first on a cold cache, then from the cached grants', async () => {
      const server = appWith('override before the guard', place);
      const alice = await bearerFor(emulator(), 'alice');
      for (let i = 0; i < 2; i++) {
        const res = await request(server).post('/api/items/9').set('authorization', alice).set('x-http-method-override', 'DELETE');
        expect(res.status).toBe(403);
        expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
      }
      // The override to a method the grants allow is judged as that method too.
      expect((await request(server).post('/api/items/9').set('authorization', alice).set('x-http-method-override', 'POST')).status).toBe(200);
      expect(ran).toEqual(['POST 9']);
    });
  });
});

// Nest on Express: a middleware on the Express instance runs before Nest's routes, and Nest's guard runs
// after Express has routed, so the override is always what the guard judges.
const nestRan: string[] = [];

@Controller('api/items')
class ItemsController {
  @Delete(':id')
  remove(@Param('id') id: string): string {
    nestRan.push(`DELETE ${id}`);
    return 'deleted';
  }

  @Post(':id')
  create(@Param('id') id: string): string {
    nestRan.push(`POST ${id}`);
    return 'created';
  }
}

describe('Nest on Express, API mode, a method override on the Express instance', () => {
  it('is judged: the DELETE is refused, a POST allowed', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'items', resourceType: 'API', apiIdentifier: '/api/items/*', actions: ['read', 'create'] },
      { resourceCode: 'items-delete', resourceType: 'API', apiIdentifier: '/api/items/*', actions: ['delete'], effect: 'DENY' },
    ]);
    @Module({ imports: [GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), api: {} })], controllers: [ItemsController] })
    class ItemsModule {}
    const instance = express5();
    instance.use(methodOverride);
    const app: INestApplication = await NestFactory.create(ItemsModule, new ExpressAdapter(instance), { logger: false });
    await app.init();
    try {
      const alice = await bearerFor(emulator(), 'alice');
      const server = app.getHttpServer() as Server;
      expect((await request(server).post('/api/items/9').set('authorization', alice).set('x-http-method-override', 'DELETE')).status).toBe(403);
      expect((await request(server).post('/api/items/9').set('authorization', alice)).status).toBe(201);
      expect(nestRan).toEqual(['POST 9']);
    } finally {
      await app.close();
    }
  });
});
