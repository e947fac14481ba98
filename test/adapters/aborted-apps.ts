/**
 * The apps of aborted.test.ts: one per adapter, each reporting what its framework logs as an error (or
 * warning) and counting the handlers that ran. Every app serves:
 *
 *   POST /api/v1/servers/:id/start  requirePermission(`ecs:${id}`, 'ecs:Start')   (Fastify: route config)
 *   POST /api/v1/servers/:id/stop   requirePermission(`ecs:${id}`, 'ecs:Stop')    (Fastify: preHandler hook)
 *   GET  /api/v1/me                 authenticate()
 *
 * or, in API mode, the adapter's API mode in front of a catch-all handler.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Controller, HttpCode, Inject, Post, type LoggerService } from '@nestjs/common';
import express5 from 'express';
import express4 from 'express4';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import Koa, { type Middleware } from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GenAuthGuardModule, RequirePermission } from '../../src/adapters/nest/index.js';
import type { GuardOptions } from '../../src/options.js';
import { CatchAllController, FastifyCatchAllController, HANDLED, MeController, startNestApp, type Platform } from '../nest/app.js';

/** What the test hands an app factory. */
export interface AbortFixture {
  /** Guard options pointing at the emulator. */
  options: GuardOptions;
  /** Hand errors to the framework instead of answering (so an error that reaches it is seen). */
  passErrors: boolean;
  /** The API-mode app instead of the per-route one. */
  api: boolean;
  /** Every handler calls this when it runs. */
  handled(): void;
  /** The framework reported an error or a warning (error handler, `error` event, logger). */
  logged(what: unknown): void;
}

export interface AbortApp {
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface AbortRow {
  name: string;
  /** The framework answers a request its guard refused even when the client left (Nest's exception layer). */
  answersClosedConnections?: boolean;
  start(fixture: AbortFixture): Promise<AbortApp>;
}

async function listening(server: Server, closeGuard: () => Promise<void>): Promise<AbortApp> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await closeGuard();
    },
  };
}

type ExpressFactory = typeof express5;

function expressRow(name: string, express: ExpressFactory): AbortRow {
  return {
    name,
    start(fixture) {
      const guard = createExpressGuard({ ...fixture.options, passErrors: fixture.passErrors });
      const app = express();
      const handler = (req: Request, res: Response) => {
        fixture.handled();
        res.json({ ok: true, user: req.genauth?.identity.userId ?? null });
      };
      if (fixture.api) {
        app.use(guard.api());
        app.use(handler);
      } else {
        app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), handler);
        app.post('/api/v1/servers/:id/stop', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Stop'), handler);
        app.get('/api/v1/me', guard.authenticate(), handler);
      }
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        fixture.logged(error);
        res.status(500).end();
      });
      return listening(app.listen(0, '127.0.0.1'), () => guard.close());
    },
  };
}

function koaRow(name: string, KoaApp: typeof Koa): AbortRow {
  return {
    name,
    start(fixture) {
      const guard = createKoaGuard({ ...fixture.options, passErrors: fixture.passErrors });
      const app = new KoaApp();
      app.on('error', (error: unknown) => fixture.logged(error));
      const handler: Middleware = (ctx) => {
        fixture.handled();
        ctx.body = { ok: true, user: ctx.state.genauth?.identity.userId ?? null };
      };
      if (fixture.api) {
        app.use(guard.api()).use(handler);
      } else {
        const router = new Router();
        router.post('/api/v1/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), handler);
        router.post('/api/v1/servers/:id/stop', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Stop'), handler);
        router.get('/api/v1/me', guard.authenticate(), handler);
        app.use(router.routes()).use(router.allowedMethods());
      }
      return listening(app.listen(0, '127.0.0.1'), () => guard.close());
    },
  };
}

const fastifyRow: AbortRow = {
  name: 'Fastify 5',
  async start(fixture) {
    // Fastify logs errors at level 50 and warnings (e.g. "Reply was already sent") at 40.
    const stream = {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number };
        if (entry.level >= 40) fixture.logged(entry);
      },
    };
    const app = Fastify({ logger: { level: 'warn', stream } });
    const options = { ...fixture.options, passErrors: fixture.passErrors, ...(fixture.api ? { api: {} } : {}) };
    await app.register(genauthGuard, options);
    const handler = async (request: { genauth: { identity: { userId: string } } | null }) => {
      fixture.handled();
      return { ok: true, user: request.genauth?.identity.userId ?? null };
    };
    if (fixture.api) {
      app.route({ method: ['GET', 'POST'], url: '/*', handler });
    } else {
      app.post('/api/v1/servers/:id/start', { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } }, handler);
      app.post('/api/v1/servers/:id/stop', { preHandler: app.genauth.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Stop') }, handler);
      app.get('/api/v1/me', { onRequest: app.genauth.authenticate() }, handler);
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      port: (app.server.address() as AddressInfo).port,
      server: app.server,
      close: async () => {
        app.server.closeAllConnections();
        await app.close(); // the plugin closes the guard
      },
    };
  },
};

/** Start and stop under the standard prefix (`/api/v1/servers/...`). */
@Controller('servers')
class PowerController {
  constructor(@Inject(HANDLED) private readonly handled: () => void) {}

  @Post(':id/start')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
  start() {
    this.handled();
    return { ok: true };
  }

  @Post(':id/stop')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Stop')
  stop() {
    this.handled();
    return { ok: true };
  }
}

/** Nest's logger, reporting errors, warnings and fatal messages (the exception filter logs with it). */
function capturingLogger(logged: (what: unknown) => void): LoggerService {
  return { log() {}, error: (message: unknown) => logged(message), warn: (message: unknown) => logged(message), fatal: (message: unknown) => logged(message) };
}

function nestRow(platform: Platform): AbortRow {
  return {
    name: `Nest 11 (${platform})`,
    answersClosedConnections: true,
    async start(fixture) {
      const catchAll = platform === 'express' ? CatchAllController : FastifyCatchAllController;
      const started = await startNestApp({
        platform,
        genauth: GenAuthGuardModule.forRoot({ ...fixture.options, passErrors: fixture.passErrors, ...(fixture.api ? { api: {} } : {}) }),
        handled: fixture.handled,
        controllers: fixture.api ? [catchAll] : [PowerController, MeController],
        // API mode judges the full path: the catch-all app has no prefix so every target reaches it.
        prefixed: !fixture.api,
        beforeListen: (app) => app.useLogger(capturingLogger(fixture.logged)),
      });
      const server = started.app.getHttpServer() as Server;
      return {
        port: started.port,
        server,
        close: async () => {
          server.closeAllConnections();
          await started.close();
        },
      };
    },
  };
}

export const ABORT_ROWS: AbortRow[] = [
  expressRow('Express 5', express5),
  expressRow('Express 4', express4 as unknown as ExpressFactory),
  koaRow('Koa 3', Koa),
  koaRow('Koa 2', Koa2 as unknown as typeof Koa),
  fastifyRow,
  nestRow('express'),
  nestRow('fastify'),
];

/** An app served over cleartext HTTP/2, where a client cancels one stream and keeps the connection. */
export interface H2Row {
  name: string;
  start(fixture: Omit<AbortFixture, 'passErrors' | 'api'>): Promise<{ port: number; close(): Promise<void> }>;
}

export const H2_ROWS: H2Row[] = [
  {
    name: 'Fastify 5',
    async start(fixture) {
      const stream = {
        write(line: string) {
          const entry = JSON.parse(line) as { level: number };
          if (entry.level >= 40) fixture.logged(entry);
        },
      };
      const app = Fastify({ http2: true, logger: { level: 'warn', stream } });
      await app.register(genauthGuard, fixture.options);
      app.post('/api/v1/servers/:id/start', { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } }, async () => {
        fixture.handled();
        return { ok: true };
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
  {
    name: 'Koa 3',
    async start(fixture) {
      const guard = createKoaGuard(fixture.options);
      const app = new Koa();
      app.on('error', (error: unknown) => fixture.logged(error));
      const router = new Router();
      router.post('/api/v1/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), (ctx) => {
        fixture.handled();
        ctx.body = { ok: true };
      });
      app.use(router.routes());
      const server = createServer(app.callback()).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      return {
        port: (server.address() as AddressInfo).port,
        close: async () => {
          await new Promise((resolve) => server.close(resolve));
          await guard.close();
        },
      };
    },
  },
];
