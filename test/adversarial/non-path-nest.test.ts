/**
 * The targets of non-path-fastify.test.ts on Nest, over a wildcard route (`@Get('*')`, `@All('*')`,
 * and on Express `@Get('*path')`):
 * - Nest on Fastify: the FastifyAdapter answers its own 404 for a target that is not a path or an
 *   `http(s)://` URL (`ftp://[::1/`, `ftp://h/x`, `*`), reading the scheme in any case and `http://h` as
 *   `/`; but the find-my-way it bundles (9.7) strips only a lower-case `http(s)://` up to a `/`, so it
 *   walks `HTTP://h/x`, `http://h` and `http://h?x=1` from their second character and a wildcard route
 *   matches them, with a parameter cut from the scheme. The guard refuses those as the Fastify adapter
 *   does: 400 `invalid_request` before the token is read, the same answer byte for byte.
 * - Nest on Express: Express's router reads every target that reaches a route as a path (url.parse:
 *   `ftp://h/x` and `HTTP://h/x` are `/x`, `http://h` is `/`), so the guard judges them as the Express
 *   adapter does; `ftp://[::1/` and `*` are Express's 404.
 * Origin-form and lower-case absolute-form targets with a path are judged on both.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { All, Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express5 from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { Authenticated, GenAuthGuardModule, RequirePermission } from '../../src/adapters/nest/index.js';
import { bearerFor, resetToAliceReading, useEmulator } from '../fixtures.js';
import type { Platform } from '../nest/app.js';
import { rawSend } from './raw-http.js';

const emulator = useEmulator();
const TARGETS = ['ftp://[::1/', 'ftp://h/reports', '*', 'HTTP://h/reports', 'http://h', 'http://h?x=1', 'http://h/reports', '/reports'];
const closing: Array<() => Promise<unknown>> = [];
const ran: string[] = [];
let alice = '';

beforeEach(async () => {
  resetToAliceReading(emulator());
  alice = await bearerFor(emulator(), 'alice');
  ran.length = 0;
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

type Route = '@Get(*)' | '@All(*)' | '@Get(*path)';
type Policy = '@RequirePermission' | '@Authenticated';
/** What becomes of a target: the platform's 404 (no guard), the guard's 400, or judged as a path (200 / 401). */
type Fate = 'not found' | 'refused' | 'judged';

// find-my-way rejects `*path` (a wildcard is last): Express 5 only.
const ROUTES: Record<Platform, Route[]> = { fastify: ['@Get(*)', '@All(*)'], express: ['@Get(*)', '@All(*)', '@Get(*path)'] };

function fate(platform: Platform, route: Route, target: string): Fate {
  if (target === 'ftp://[::1/' || target === '*') return 'not found';
  if (platform === 'express') {
    // url.parse reads `http://h` as `/`, which `/*path` (one character at least) does not match.
    return route === '@Get(*path)' && target.startsWith('http://h') && !target.startsWith('http://h/') ? 'not found' : 'judged';
  }
  if (target === 'ftp://h/reports') return 'not found';
  return target === 'http://h/reports' || target === '/reports' ? 'judged' : 'refused';
}

async function startNest(platform: Platform, route: Route, policy: Policy, passErrors = false): Promise<number> {
  const path = route === '@Get(*path)' ? '*path' : '*';
  const method = route === '@All(*)' ? All(path) : Get(path);
  const guard = policy === '@RequirePermission' ? RequirePermission('reports', 'reports:Read') : Authenticated();
  @Controller()
  class WildcardController {
    @method
    @guard
    any(@Req() request: { url: string }): string {
      ran.push(request.url);
      return 'ran';
    }
  }
  @Module({ imports: [GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), passErrors })], controllers: [WildcardController] })
  class WildcardModule {}
  const app: INestApplication = await NestFactory.create(WildcardModule, platform === 'express' ? new ExpressAdapter(express5()) : new FastifyAdapter(), {
    logger: false,
  });
  closing.push(() => app.close());
  await app.listen(0, '127.0.0.1');
  return ((app.getHttpServer() as Server).address() as AddressInfo).port;
}

const send = (port: number, target: string, authorization: string | null) =>
  rawSend(port, { method: 'GET', target, headers: authorization === null ? [] : [['authorization', authorization]] });

describe.each<Platform>(['express', 'fastify'])('Nest on platform-%s, a wildcard route: targets the router may not read as a path', (platform) => {
  const cases = ROUTES[platform].flatMap((route) => (['@RequirePermission', '@Authenticated'] as const).map((policy) => [route, policy] as const));

  it.each(cases)('%s %s: refused 400 before the token where the router did not read a path; judged where it did', async (route, policy) => {
    const port = await startNest(platform, route, policy);
    const unjudged = TARGETS.filter((target) => fate(platform, route, target) !== 'judged');
    emulator().resetCalls();
    for (const target of unjudged) {
      for (const authorization of [alice, null, 'Bearer not-a-jwt']) {
        const answer = await send(port, target, authorization);
        if (fate(platform, route, target) === 'not found') {
          expect(answer.status, target).toBe(404);
          expect(answer.headers['www-authenticate'], target).toBeUndefined();
          continue;
        }
        expect(answer.status, target).toBe(400);
        expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(answer.headers['www-authenticate']).toMatch(/error="invalid_request"/);
        expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: 'ERR_INVALID_REQUEST' });
      }
    }
    expect(ran).toEqual([]);
    // Refused before the token: no key set fetched, no grants loaded.
    expect(emulator().callCount()).toBe(0);
    const judged = TARGETS.filter((target) => fate(platform, route, target) === 'judged');
    for (const target of judged) {
      expect((await send(port, target, alice)).status, target).toBe(200);
      expect((await send(port, target, null)).status, target).toBe(401);
    }
    expect(ran).toEqual(judged);
  });
});

it("Nest on Fastify refuses with the Fastify adapter's answer: status, headers that matter, body", async () => {
  const nestPort = await startNest('fastify', '@Get(*)', '@RequirePermission');
  const app: FastifyInstance = Fastify();
  closing.push(() => app.close());
  await app.register(genauthGuard, emulator().guardOptions());
  app.get('/*', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'ran');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const fastifyPort = (app.server.address() as AddressInfo).port;
  for (const target of ['HTTP://h/reports', 'http://h']) {
    const nest = await send(nestPort, target, alice);
    const fastify = await send(fastifyPort, target, alice);
    expect(fastify.status).toBe(400);
    expect(nest.status).toBe(fastify.status);
    expect(nest.headers['content-type']).toBe(fastify.headers['content-type']);
    expect(nest.headers['www-authenticate']).toBe(fastify.headers['www-authenticate']);
    expect(nest.headers['cache-control']).toBe(fastify.headers['cache-control']);
    expect(nest.body).toBe(fastify.body);
  }
  expect(ran).toEqual([]);
});

it('Nest on Fastify, passErrors: the GenAuthException goes to Nest’s exception layer, which answers its 400', async () => {
  const port = await startNest('fastify', '@Get(*)', '@RequirePermission', true);
  emulator().resetCalls();
  const answer = await send(port, 'HTTP://h/reports', alice);
  expect(answer.status).toBe(400);
  expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: 'ERR_INVALID_REQUEST' });
  expect(ran).toEqual([]);
  expect(emulator().callCount()).toBe(0);
});
