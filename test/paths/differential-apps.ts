/**
 * The route table of the differential path test (differential.test.ts), built on every framework: static
 * segments, parameters, wildcards, mixed case, a route registered with a trailing slash and routes
 * under a mounted router (Express `app.use('/mnt', router)`, a nested @koa/router, a Fastify plugin
 * with a prefix, a Nest controller with a path). Every handler records which route ran, with the
 * parameters its router decoded, and names its route in the `x-route` header. With `guarded: false`
 * the same app runs without the guard: what the router dispatches on its own.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Get, Inject, Module, Req, Res, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import Router from '@koa/router';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Koa, { type Context } from 'koa';
import Koa2 from 'koa2';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import type { GuardOptions } from '../../src/options.js';
import { closing, listening, portOf } from './apps.js';
import { koaRest } from '../koa-router.js';

/** Route names in registration order (the first match wins on Express and Koa). */
export const DIFF_ROUTES = [
  'root',
  'health',
  'docs',
  'keys',
  'admin',
  'reports',
  'users',
  'user',
  'slash',
  'files',
  'mntSecret',
  'mntOpen',
  'mntPub',
  'mntRest',
  'name',
  'section',
  'rest',
] as const;
export type DiffRoute = (typeof DIFF_ROUTES)[number];

/**
 * Each route in the guard's pattern syntax: `:x` one decoded parameter, a final `*` the decoded rest.
 * `mnt*` routes live in a router mounted at `/mnt` (their path there is the template without `/mnt`).
 */
export const DIFF_TEMPLATES: Record<DiffRoute, string> = {
  root: '/',
  health: '/health',
  docs: '/docs/:page',
  keys: '/api/v1/keys',
  admin: '/api/v1/admin/:x',
  reports: '/Reports/Q1',
  users: '/api/v1/users',
  user: '/api/v1/users/:id',
  slash: '/slash/',
  files: '/files/*',
  mntSecret: '/mnt/Secret/:id',
  mntOpen: '/mnt/open',
  mntPub: '/mnt/pub',
  mntRest: '/mnt/*',
  name: '/api/v1/:name',
  section: '/:section/:page',
  rest: '/*',
};

const MOUNTED: readonly DiffRoute[] = ['mntSecret', 'mntOpen', 'mntPub', 'mntRest'];
const isMounted = (route: DiffRoute): boolean => MOUNTED.includes(route);

/** Which handler ran, with the parameters its router decoded (`*`: the rest of the path). */
export interface DiffRan {
  route: DiffRoute;
  params: Record<string, string>;
}

export interface DiffApp {
  port: number;
  ran: DiffRan[];
  close(): Promise<void>;
}

export interface DiffInput {
  options: GuardOptions;
  api: ApiModeOptions;
  /** False: the same routes without the guard. */
  guarded: boolean;
}

function record(ran: DiffRan[], route: DiffRoute, params: Record<string, unknown> | undefined): void {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    // Express 5 gives a wildcard as its segments; Express 4 names it `0`; Fastify `*`; Koa `rest`.
    const text = Array.isArray(value) ? value.join('/') : String(value);
    if (key === '0' || key === 'rest' || key === '*') flat['*'] = text.replace(/^\//, '');
    else flat[key] = text;
  }
  ran.push({ route, params: flat });
}

/** Path of a route inside its router: mounted ones without `/mnt`, in the router's own syntax. */
function localPath(route: DiffRoute, syntax: 'express4' | 'v8' | 'koa' | 'fastify'): string {
  let path = DIFF_TEMPLATES[route];
  if (isMounted(route)) path = path.slice('/mnt'.length) || '/';
  if (path.endsWith('/*')) {
    const base = path.slice(0, -1);
    if (syntax === 'express4') return `${base}*`;
    if (syntax === 'v8') return `${base}{*rest}`;
    if (syntax === 'koa') return koaRest(base);
  }
  return path;
}

// ---------------------------------------------------------------------------------------------- Express

type ExpressModule = typeof express5;

export interface ExpressDiffSet {
  settings?: { 'case sensitive routing'?: boolean; 'strict routing'?: boolean };
}

export async function startExpressDiff(version: 4 | 5, set: ExpressDiffSet, input: DiffInput): Promise<DiffApp> {
  const express = (version === 4 ? express4 : express5) as unknown as ExpressModule;
  const guard = input.guarded ? createExpressGuard(input.options) : undefined;
  const app = express();
  for (const [name, value] of Object.entries(set.settings ?? {})) app.set(name, value);
  const ran: DiffRan[] = [];
  if (guard !== undefined) app.use(guard.api(input.api));
  const mounted = express.Router({
    caseSensitive: set.settings?.['case sensitive routing'] === true,
    strict: set.settings?.['strict routing'] === true,
  });
  const syntax = version === 4 ? 'express4' : 'v8';
  for (const route of DIFF_ROUTES) {
    const target = isMounted(route) ? mounted : app;
    target.get(localPath(route, syntax), (req, res) => {
      record(ran, route, req.params);
      res.set('x-route', route).json({ route });
    });
    if (route === 'mntRest') app.use('/mnt', mounted);
  }
  const server = app.listen(0, '127.0.0.1');
  await listening(server);
  return { port: portOf(server), ran, close: async () => (await closing(server), await guard?.close()) };
}

// ------------------------------------------------------------------------------------------------- Koa

export async function startKoaDiff(version: 2 | 3, input: DiffInput): Promise<DiffApp> {
  const KoaApp = (version === 2 ? Koa2 : Koa) as unknown as typeof Koa;
  const guard = input.guarded ? createKoaGuard(input.options) : undefined;
  const app = new KoaApp();
  app.silent = true;
  const router = new Router();
  const mounted = new Router();
  const ran: DiffRan[] = [];
  if (guard !== undefined) app.use(guard.api(input.api));
  for (const route of DIFF_ROUTES) {
    const target = isMounted(route) ? mounted : router;
    target.get(localPath(route, 'koa'), (ctx: Context) => {
      record(ran, route, ctx.params as Record<string, unknown>);
      ctx.set('x-route', route);
      ctx.body = { route };
    });
    if (route === 'mntRest') router.use('/mnt', mounted.routes());
  }
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await listening(server);
  return { port: portOf(server), ran, close: async () => (await closing(server), await guard?.close()) };
}

// --------------------------------------------------------------------------------------------- Fastify

export type FastifyDiffSet = Record<string, unknown>;

export async function startFastifyDiff(set: FastifyDiffSet, input: DiffInput): Promise<DiffApp> {
  const app = Fastify(set);
  if (input.guarded) await app.register(genauthGuard, { ...input.options, api: input.api });
  const ran: DiffRan[] = [];
  const handler = (route: DiffRoute) => async (request: FastifyRequest, reply: FastifyReply) => {
    record(ran, route, request.params as Record<string, unknown>);
    reply.header('x-route', route);
    return { route };
  };
  for (const route of DIFF_ROUTES) {
    if (isMounted(route)) continue;
    app.get(localPath(route, 'fastify'), handler(route));
  }
  await app.register(
    async (scope: FastifyInstance) => {
      for (const route of MOUNTED) scope.get(localPath(route, 'fastify'), handler(route));
    },
    { prefix: '/mnt' },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: portOf(app.server), ran, close: () => app.close() };
}

// ------------------------------------------------------------------------------------------------ Nest

export interface NestDiffSet {
  platform: 'express' | 'fastify';
  express?: ExpressDiffSet['settings'];
  fastify?: FastifyDiffSet;
}

const NEST_RAN = 'DIFF_RAN';

type NativeRequest = { params: Record<string, unknown> };
type NativeReply = { header?: (name: string, value: string) => unknown; set?: (name: string, value: string) => unknown };

function named(reply: NativeReply, route: DiffRoute): { route: DiffRoute } {
  if (typeof reply.header === 'function') reply.header('x-route', route);
  else reply.set?.('x-route', route);
  return { route };
}

function nestControllers(platform: 'express' | 'fastify'): Array<new (ran: DiffRan[]) => object> {
  const star = platform === 'express' ? '{*rest}' : '*';
  // Methods in the route table's order: Nest registers them so, and Express takes the first match.
  @Controller()
  class Head {
    constructor(@Inject(NEST_RAN) private readonly ran: DiffRan[]) {}
    @Get() root(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'root', r.params); return named(s, 'root'); }
    @Get('health') health(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'health', r.params); return named(s, 'health'); }
    @Get('docs/:page') docs(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'docs', r.params); return named(s, 'docs'); }
    @Get('api/v1/keys') keys(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'keys', r.params); return named(s, 'keys'); }
    @Get('api/v1/admin/:x') admin(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'admin', r.params); return named(s, 'admin'); }
    @Get('Reports/Q1') reports(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'reports', r.params); return named(s, 'reports'); }
    @Get('api/v1/users') users(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'users', r.params); return named(s, 'users'); }
    @Get('api/v1/users/:id') user(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'user', r.params); return named(s, 'user'); }
    @Get('slash/') slash(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'slash', r.params); return named(s, 'slash'); }
    @Get(`files/${star}`) files(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'files', r.params); return named(s, 'files'); }
  }
  @Controller('mnt')
  class Mounted {
    constructor(@Inject(NEST_RAN) private readonly ran: DiffRan[]) {}
    @Get('Secret/:id') secret(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'mntSecret', r.params); return named(s, 'mntSecret'); }
    @Get('open') open(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'mntOpen', r.params); return named(s, 'mntOpen'); }
    @Get('pub') pub(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'mntPub', r.params); return named(s, 'mntPub'); }
    @Get(star) rest(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'mntRest', r.params); return named(s, 'mntRest'); }
  }
  @Controller()
  class Tail {
    constructor(@Inject(NEST_RAN) private readonly ran: DiffRan[]) {}
    @Get('api/v1/:name') name(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'name', r.params); return named(s, 'name'); }
    @Get(':section/:page') section(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'section', r.params); return named(s, 'section'); }
    @Get(star) rest(@Req() r: NativeRequest, @Res({ passthrough: true }) s: NativeReply) { record(this.ran, 'rest', r.params); return named(s, 'rest'); }
  }
  return [Head, Mounted, Tail];
}

export async function startNestDiff(set: NestDiffSet, input: DiffInput): Promise<DiffApp> {
  const ran: DiffRan[] = [];
  const controllers = nestControllers(set.platform);
  const imports: DynamicModule[] = input.guarded ? [GenAuthGuardModule.forRoot({ ...input.options, api: input.api })] : [];
  @Module({ imports, controllers, providers: [{ provide: NEST_RAN, useValue: ran }] })
  class DiffModule {}
  let app: INestApplication;
  if (set.platform === 'express') {
    const instance = express5();
    for (const [name, value] of Object.entries(set.express ?? {})) instance.set(name, value);
    app = await NestFactory.create(DiffModule, new ExpressAdapter(instance), { logger: false });
  } else {
    app = await NestFactory.create(DiffModule, new FastifyAdapter(set.fastify as never), { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  return { port: portOf(app.getHttpServer() as Server), ran, close: () => app.close() };
}
