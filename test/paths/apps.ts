/**
 * One route table, built on every framework under each router option set: the apps the path replay
 * (router-options.test.ts) sends its targets to. Every handler records which route ran and with which
 * (decoded) parameters, so the test can tell the path the router dispatched.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Module, Req, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import Router from '@koa/router';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyRequest } from 'fastify';
import Koa, { type Context } from 'koa';
import Koa2 from 'koa2';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import type { GuardOptions } from '../../src/options.js';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { afterAll, beforeAll } from 'vitest';
import { koaRest } from '../koa-router.js';

/** The route names, in registration order (first match wins on Express and Koa). */
export const ROUTE_NAMES = ['health', 'docs', 'keys', 'admin', 'cafe', 'users', 'user', 'name', 'v1rest', 'section', 'rest'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

/**
 * Each route as a concrete path template in the guard's own syntax: `:x` is one decoded parameter,
 * a trailing `*` the decoded rest of the path. `/api/v1/café` is registered literally on Fastify
 * (which decodes before routing) and percent-encoded on the routers that match the raw target.
 */
export const TEMPLATES: Record<RouteName, string> = {
  health: '/health',
  docs: '/docs/:page',
  keys: '/api/v1/keys',
  admin: '/api/v1/admin/:x',
  cafe: '/api/v1/caf%C3%A9',
  users: '/api/v1/users',
  user: '/api/v1/users/:id',
  name: '/api/v1/:name',
  v1rest: '/api/v1/*',
  section: '/:section/:page',
  rest: '/*',
};

/** Which handler ran, with the parameters its router decoded (`*`: the rest of the path). */
export interface Ran {
  route: RouteName;
  params: Record<string, string>;
}

export interface PathApp {
  port: number;
  /** Handlers run since the last reset. */
  ran: Ran[];
  close(): Promise<void>;
}

/** What every app gets: the emulator's guard options and API-mode options (public paths included). */
export interface AppInput {
  options: GuardOptions;
  api: ApiModeOptions;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export function listening(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
}

export function closing(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function record(ran: Ran[], route: RouteName, params: Record<string, unknown>): void {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    // Express 5 gives a wildcard as its segments; Express 4 names it `0`; Fastify `*`.
    const text = Array.isArray(value) ? value.join('/') : String(value);
    // A wildcard is the rest of the path: Express 4 keeps its leading slash on a root `*`.
    if (key === '0' || key === 'rest' || key === '*') flat['*'] = text.replace(/^\//, '');
    else flat[key] = text;
  }
  ran.push({ route, params: flat });
}

// ---------------------------------------------------------------------------------------------- Express

type ExpressModule = typeof express5;

/** Express router options: app settings, or those of an `express.Router()` the routes live in. */
export interface ExpressSet {
  settings?: { 'case sensitive routing'?: boolean; 'strict routing'?: boolean };
  router?: { caseSensitive?: boolean; strict?: boolean };
  /** A middleware in front of the guard that rewrites `req.url` with this function (a legacy alias). */
  rewrite?: (url: string) => string;
}

/** The middleware of `ExpressSet.rewrite`: rewrites `req.url`, as URL-rewriting middleware does. */
function rewriting(rewrite: (url: string) => string) {
  return (req: { url: string }, _res: unknown, next: () => void): void => {
    req.url = rewrite(req.url);
    next();
  };
}

const EXPRESS_PATHS: Record<4 | 5, Partial<Record<RouteName, string>>> = {
  4: { v1rest: '/api/v1/*', rest: '*' },
  5: { v1rest: '/api/v1/{*rest}', rest: '{*rest}' },
};

export async function startExpress(version: 4 | 5, set: ExpressSet, input: AppInput): Promise<PathApp> {
  const express = (version === 4 ? express4 : express5) as unknown as ExpressModule;
  const guard = createExpressGuard(input.options);
  const app = express();
  for (const [name, value] of Object.entries(set.settings ?? {})) app.set(name, value);
  const ran: Ran[] = [];
  if (set.rewrite !== undefined) app.use(rewriting(set.rewrite));
  app.use(guard.api(input.api));
  const routes = set.router === undefined ? app : express.Router(set.router);
  for (const route of ROUTE_NAMES) {
    routes.get(EXPRESS_PATHS[version][route] ?? TEMPLATES[route], (req, res) => {
      record(ran, route, req.params);
      res.json({ route });
    });
  }
  if (routes !== app) app.use(routes);
  const server = app.listen(0, '127.0.0.1');
  await listening(server);
  return { port: portOf(server), ran, close: async () => (await closing(server), await guard.close()) };
}

// ------------------------------------------------------------------------------------------------- Koa

/** @koa/router's options (the API-mode options must then say the same: the guard cannot read them). */
export interface KoaSet {
  router?: { sensitive?: boolean; strict?: boolean };
}

export async function startKoa(version: 2 | 3, set: KoaSet, input: AppInput): Promise<PathApp> {
  const KoaApp = (version === 2 ? Koa2 : Koa) as unknown as typeof Koa;
  const guard = createKoaGuard(input.options);
  const app = new KoaApp();
  const router = new Router(set.router);
  const ran: Ran[] = [];
  app.use(guard.api(input.api));
  const paths: Partial<Record<RouteName, string>> = { v1rest: koaRest('/api/v1/'), rest: koaRest('/') };
  for (const route of ROUTE_NAMES) {
    router.get(paths[route] ?? TEMPLATES[route], (ctx: Context) => {
      record(ran, route, ctx.params as Record<string, unknown>);
      ctx.body = { route };
    });
  }
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await listening(server);
  return { port: portOf(server), ran, close: async () => (await closing(server), await guard.close()) };
}

// --------------------------------------------------------------------------------------------- Fastify

/** Fastify server options that shape routing (top-level, deprecated, or under `routerOptions`). */
export type FastifySet = Record<string, unknown>;

const FASTIFY_PATHS: Partial<Record<RouteName, string>> = { cafe: '/api/v1/café' };

export async function startFastify(set: FastifySet, input: AppInput): Promise<PathApp> {
  const app = Fastify(set);
  await app.register(genauthGuard, { ...input.options, api: input.api });
  const ran: Ran[] = [];
  for (const route of ROUTE_NAMES) {
    app.get(FASTIFY_PATHS[route] ?? TEMPLATES[route], async (request: FastifyRequest) => {
      record(ran, route, request.params as Record<string, unknown>);
      return { route };
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: portOf(app.server), ran, close: () => app.close() };
}

// ------------------------------------------------------------------------------------------------ Nest

/** Nest on either platform, with the platform's router options. */
export interface NestSet {
  platform: 'express' | 'fastify';
  /** Express app settings, or Fastify server options. */
  express?: ExpressSet['settings'];
  /** On Express: a middleware on the instance, ahead of Nest's routes, that rewrites `req.url`. */
  rewrite?: ExpressSet['rewrite'];
  fastify?: FastifySet;
}

const NEST_RAN = 'PATHS_RAN';

function nestController(platform: 'express' | 'fastify'): new (ran: Ran[]) => object {
  const wildcard = platform === 'express' ? '{*rest}' : '*';
  const cafe = platform === 'express' ? 'api/v1/caf%C3%A9' : 'api/v1/café';
  type NativeRequest = { params: Record<string, unknown> };
  // Methods in the route table's order: Nest registers them so, and Express takes the first match.
  @Controller()
  class PathsController {
    constructor(@Inject(NEST_RAN) private readonly ran: Ran[]) {}
    @Get('health') health(@Req() r: NativeRequest) { record(this.ran, 'health', r.params); return { route: 'health' }; }
    @Get('docs/:page') docs(@Req() r: NativeRequest) { record(this.ran, 'docs', r.params); return { route: 'docs' }; }
    @Get('api/v1/keys') keys(@Req() r: NativeRequest) { record(this.ran, 'keys', r.params); return { route: 'keys' }; }
    @Get('api/v1/admin/:x') admin(@Req() r: NativeRequest) { record(this.ran, 'admin', r.params); return { route: 'admin' }; }
    @Get(cafe) cafe(@Req() r: NativeRequest) { record(this.ran, 'cafe', r.params); return { route: 'cafe' }; }
    @Get('api/v1/users') users(@Req() r: NativeRequest) { record(this.ran, 'users', r.params); return { route: 'users' }; }
    @Get('api/v1/users/:id') user(@Req() r: NativeRequest) { record(this.ran, 'user', r.params); return { route: 'user' }; }
    @Get('api/v1/:name') name(@Req() r: NativeRequest) { record(this.ran, 'name', r.params); return { route: 'name' }; }
    @Get(`api/v1/${wildcard}`) v1rest(@Req() r: NativeRequest) { record(this.ran, 'v1rest', r.params); return { route: 'v1rest' }; }
    @Get(':section/:page') section(@Req() r: NativeRequest) { record(this.ran, 'section', r.params); return { route: 'section' }; }
    @Get(wildcard) rest(@Req() r: NativeRequest) { record(this.ran, 'rest', r.params); return { route: 'rest' }; }
  }
  return PathsController;
}

export async function startNest(set: NestSet, input: AppInput): Promise<PathApp> {
  const ran: Ran[] = [];
  const controller = nestController(set.platform);
  const genauth: DynamicModule = GenAuthGuardModule.forRoot({ ...input.options, api: input.api });
  @Module({ imports: [genauth], controllers: [controller], providers: [{ provide: NEST_RAN, useValue: ran }] })
  class PathsModule {}
  let app: INestApplication;
  if (set.platform === 'express') {
    const instance = express5();
    for (const [name, value] of Object.entries(set.express ?? {})) instance.set(name, value);
    if (set.rewrite !== undefined) instance.use(rewriting(set.rewrite));
    app = await NestFactory.create(PathsModule, new ExpressAdapter(instance), { logger: false });
  } else {
    app = await NestFactory.create(PathsModule, new FastifyAdapter(set.fastify as never), { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  return { port: portOf(app.getHttpServer() as Server), ran, close: () => app.close() };
}

/** Who sends a request in the path suites: alice, bob, or no one (no token). */
export type Who = 'alice' | 'bob' | 'none';

/**
 * The emulator of a path suite, started once with alice's and bob's grants, and each caller's headers
 * (`none`: no Authorization header), filled in before the suite's tests run.
 */
export function useAliceAndBob(grants: Record<'alice' | 'bob', AuthorizedResource[]>): { emulator: () => GenAuthEmulator; tokens: Record<Who, Record<string, string>> } {
  let emulator: GenAuthEmulator | undefined;
  const tokens: Record<Who, Record<string, string>> = { alice: {}, bob: {}, none: {} };
  beforeAll(async () => {
    emulator = await startEmulator();
    emulator.setGrants('alice', grants.alice);
    emulator.setGrants('bob', grants.bob);
    tokens.alice = { authorization: `Bearer ${await emulator.mintToken('alice')}` };
    tokens.bob = { authorization: `Bearer ${await emulator.mintToken('bob')}` };
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return { emulator: () => emulator as GenAuthEmulator, tokens };
}
