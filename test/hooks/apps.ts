/**
 * One small app per framework for the token and identity hooks: a prior layer (what passport or a
 * session middleware does) sets the request's user from the `x-session` header through {@link SESSIONS};
 * `POST /servers/:id/start` requires `ecs:Start` on `ecs:<id>`; `GET /me` only authenticates. Each
 * answers `{ user }` from the guard's context.
 */
import 'reflect-metadata';
import Router from '@koa/router';
import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import Koa, { type ParameterizedContext } from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { genauthGuard, type FastifyGuardOptions } from '../../src/adapters/fastify.js';
import { createKoaGuard, type KoaGuardOptions } from '../../src/adapters/koa.js';
import { Authenticated, GenAuth, GenAuthGuardModule, GenAuthService, RequirePermission, type GenAuthContext } from '../../src/adapters/nest/index.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { startNestApp, type Platform } from '../nest/app.js';

/** What makes the prior layer's user lookup throw (a broken session store). */
export const BROKEN = Symbol('broken session store');

/** What makes the prior layer's user lookup an async one that rejects (an async hook, a bug). */
export const REJECTING = Symbol('rejecting session store');

/** Session id -> what the prior layer puts on the request as its user: fit ids and hostile values. */
export const SESSIONS: Record<string, unknown> = {
  alice: 'alice',
  bob: 'bob',
  long: 'a'.repeat(1025),
  nul: 'alice\u0000',
  newline: 'alice\nbob',
  spaced: ' alice',
  number: 42,
  object: { id: 'alice' },
  array: ['alice'],
  promise: Promise.resolve('alice'),
  broken: BROKEN,
  rejecting: REJECTING,
};

/** The prior layer's user, as `identity.resolve` reads it: passport's `req.user`, Koa's `ctx.state.user`. */
function sessionUser(value: unknown): string | undefined {
  if (value === BROKEN) throw new Error('session store down: secret-ish detail');
  // Made on demand: a rejection held at module level would be unhandled before any request.
  if (value === REJECTING) return Promise.reject(new Error('session store down: secret-ish detail')) as never;
  return value as string | undefined;
}

/** The `token` cookie, as `getToken` reads it; `token=rejecting` makes it an async hook that rejects (a bug). */
export function tokenCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== 'token') continue;
    if (value.join('=') === 'rejecting') return Promise.reject(new Error('cookie store down: secret-ish detail')) as never;
    return value.join('=');
  }
  return undefined;
}

/** `cookie`: the token from the `token` cookie (`getToken`); `session`: the prior layer's user (`identity.resolve`). */
export type HookMode = 'cookie' | 'session';

export interface HookApp {
  url: string;
  /** The guard's `revokeUser`: with a Redis tier, a promise of the record in Redis. */
  revoke(userId: string): void | Promise<void>;
  close(): Promise<void>;
}

type UserRequest = { user?: unknown };

/** The app once its server listens: the Express and Koa apps end alike. */
function listening(server: Server, guard: { revokeUser(userId: string): void | Promise<void>; close(): Promise<void> }): Promise<HookApp> {
  return new Promise((resolve) =>
    server.once('listening', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        revoke: (userId) => guard.revokeUser(userId),
        close: async () => {
          server.close();
          await guard.close();
        },
      }),
    ),
  );
}

function expressApp(emulator: GenAuthEmulator, mode: HookMode, extra: Partial<ExpressGuardOptions> = {}): Promise<HookApp> {
  const base = emulator.guardOptions();
  const options: ExpressGuardOptions =
    mode === 'cookie'
      ? { ...base, ...extra, getToken: (req) => tokenCookie(req.headers.cookie) }
      : { ...extra, genauth: base.genauth, identity: { resolve: (req) => sessionUser((req as Request & UserRequest).user) } };
  const guard = createExpressGuard(options);
  const app = express();
  app.use((req: Request & UserRequest, _res, next) => {
    req.user = SESSIONS[req.get('x-session') ?? ''];
    next();
  });
  app.post('/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
    res.json({ user: req.genauth!.identity.userId });
  });
  app.get('/me', guard.authenticate(), (req, res) => {
    res.json({ user: req.genauth!.identity.userId });
  });
  const server = app.listen(0, '127.0.0.1');
  return listening(server, guard);
}

function koaApp(emulator: GenAuthEmulator, mode: HookMode, extra: Partial<KoaGuardOptions> = {}): Promise<HookApp> {
  const base = emulator.guardOptions();
  const options: KoaGuardOptions =
    mode === 'cookie'
      ? { ...base, ...extra, getToken: (ctx) => tokenCookie(ctx.headers.cookie) }
      : { ...extra, genauth: base.genauth, identity: { resolve: (ctx) => sessionUser(ctx.state.user) } };
  const guard = createKoaGuard(options);
  const app = new Koa();
  const router = new Router();
  app.use(async (ctx: ParameterizedContext, next) => {
    ctx.state.user = SESSIONS[ctx.get('x-session')];
    await next();
  });
  router.post('/servers/:id/start', guard.requirePermission((ctx) => `ecs:${ctx.params.id}`, 'ecs:Start'), (ctx) => {
    ctx.body = { user: ctx.state.genauth!.identity.userId };
  });
  router.get('/me', guard.authenticate(), (ctx) => {
    ctx.body = { user: ctx.state.genauth!.identity.userId };
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  return listening(server, guard);
}

async function fastifyApp(emulator: GenAuthEmulator, mode: HookMode, extra: Partial<FastifyGuardOptions> = {}): Promise<HookApp> {
  const base = emulator.guardOptions();
  const options: FastifyGuardOptions =
    mode === 'cookie'
      ? { ...base, ...extra, getToken: (request) => tokenCookie(request.headers.cookie) }
      : { ...extra, genauth: base.genauth, identity: { resolve: (request) => sessionUser((request as FastifyRequest & UserRequest).user) } };
  const app = Fastify();
  app.addHook('onRequest', async (request: FastifyRequest & UserRequest) => {
    request.user = SESSIONS[String(request.headers['x-session'] ?? '')];
  });
  await app.register(genauthGuard, options);
  app.post('/servers/:id/start', { preHandler: app.genauth.requirePermission((req) => `ecs:${(req.params as { id: string }).id}`, 'ecs:Start') }, async (req) => ({
    user: req.genauth!.identity.userId,
  }));
  app.get('/me', { onRequest: app.genauth.authenticate() }, async (req) => ({ user: req.genauth!.identity.userId }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, revoke: (userId) => app.genauth.revokeUser(userId), close: () => app.close() };
}

@Controller('servers')
class HookServersController {
  @Post(':id/start')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
  start(@GenAuth() auth: GenAuthContext) {
    return { user: auth.identity.userId };
  }
}

@Controller('me')
class HookMeController {
  @Get()
  @Authenticated()
  me(@GenAuth() auth: GenAuthContext) {
    return { user: auth.identity.userId };
  }
}

/** The prior layer on Nest: Express middleware, or a Fastify `onRequest` hook (what passport's Nest strategies sit behind). */
function priorLayer(app: INestApplication, platform: Platform): void {
  const instance = app.getHttpAdapter().getInstance() as {
    use?: (handler: (req: UserRequest & { headers: Record<string, unknown> }, res: unknown, next: () => void) => void) => void;
    addHook?: (name: 'onRequest', hook: (request: UserRequest & { headers: Record<string, unknown> }) => Promise<void>) => void;
  };
  if (platform === 'express') {
    instance.use!((req, _res, next) => {
      req.user = SESSIONS[String(req.headers['x-session'] ?? '')];
      next();
    });
  } else {
    instance.addHook!('onRequest', async (request) => {
      request.user = SESSIONS[String(request.headers['x-session'] ?? '')];
    });
  }
}

async function nestApp(emulator: GenAuthEmulator, mode: HookMode, platform: Platform, extra: object = {}): Promise<HookApp> {
  const base = emulator.guardOptions();
  type NativeRequest = UserRequest & { headers: Record<string, string | undefined> };
  const genauth = GenAuthGuardModule.forRoot(
    mode === 'cookie'
      ? { ...base, ...extra, getToken: (req) => tokenCookie((req as NativeRequest).headers.cookie) }
      : { ...extra, genauth: base.genauth, identity: { resolve: (req) => sessionUser((req as NativeRequest).user) } },
  );
  const app = await startNestApp({
    platform,
    genauth,
    handled: () => {},
    controllers: [HookServersController, HookMeController],
    prefixed: false,
    beforeListen: (nest) => priorLayer(nest, platform),
  });
  return { url: app.url, revoke: (userId) => app.app.get(GenAuthService).revokeUser(userId), close: () => app.close() };
}

/** Every framework the hooks must work on, by name; `extra`: more guard options (e.g. a Redis `cache`). */
export const HOOK_APPS: Record<string, (emulator: GenAuthEmulator, mode: HookMode, extra?: object) => Promise<HookApp>> = {
  express: expressApp,
  koa: koaApp,
  fastify: fastifyApp,
  'nest (express)': (emulator, mode, extra) => nestApp(emulator, mode, 'express', extra),
  'nest (fastify)': (emulator, mode, extra) => nestApp(emulator, mode, 'fastify', extra),
};
