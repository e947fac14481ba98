/**
 * Absolute-form targets that find-my-way before 9.10 does not reduce to a path: its
 * `^https?:\/\/.*?\/` is case-sensitive and needs a `/` after the authority. `@nestjs/platform-fastify`
 * 11 pins find-my-way 9.7.0, and Fastify 5.12.7 and earlier (inside the peer range `fastify ^5.0.0`)
 * accept it. Such a router walks `HTTP://h/health` or `http://h` from its second character as a path,
 * which only a wildcard route matches. The guard judged them as `/health` and `/` (as Node's url.parse
 * reads them): a public `/health` or `/`, or an ALLOW on them, let the request run the catch-all `*`
 * handler. Found by the differential path test (test/paths/differential.test.ts).
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { raw } from '../paths/raw.js';

const ran: string[] = [];

@Controller()
class LegacyController {
  @Get() root() { ran.push('root'); return { route: 'root' }; }
  @Get('health') health() { ran.push('health'); return { route: 'health' }; }
  @Get('*') rest() { ran.push('rest'); return { route: 'rest' }; }
}

let emulator: GenAuthEmulator;
let app: INestApplication;
let port = 0;
let bob = '';

beforeAll(async () => {
  emulator = await startEmulator();
  // bob may read `/` and nothing else.
  emulator.setGrants('bob', [{ resourceCode: 'root', resourceType: 'API', apiIdentifier: '/', actions: ['read'], effect: 'ALLOW' }]);
  bob = `Bearer ${await emulator.mintToken('bob')}`;
  @Module({ imports: [GenAuthGuardModule.forRoot({ ...emulator.guardOptions(), api: { publicPaths: ['/health'] } })], controllers: [LegacyController] })
  class LegacyModule {}
  app = await NestFactory.create(LegacyModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  port = ((app.getHttpServer() as Server).address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

beforeEach(() => {
  ran.length = 0;
});

describe('Nest on Fastify (find-my-way 9.7.0): absolute-form the router does not strip', () => {
  it('control: the public path and the granted root, in origin-form and in lower-case absolute-form', async () => {
    expect((await raw(port, 'GET', '/health')).status).toBe(200);
    expect((await raw(port, 'GET', 'http://127.0.0.1/health')).status).toBe(200);
    expect((await raw(port, 'GET', '/', { authorization: bob })).status).toBe(200);
    expect((await raw(port, 'GET', 'http://127.0.0.1/', { authorization: bob })).status).toBe(200);
    expect(ran).toEqual(['health', 'health', 'root', 'root']);
    expect((await raw(port, 'GET', '/internal')).status).toBe(401);
    expect((await raw(port, 'GET', '/internal', { authorization: bob })).status).toBe(403);
    expect(ran).toHaveLength(4);
  });

  it.each(['HTTP://127.0.0.1/health', 'Http://127.0.0.1/health', 'HTTPS://h/health', 'hTTp://[::1]:80/health'])(
    'the public /health with the scheme %s does not open the catch-all without a token',
    async (target) => {
      const answer = await raw(port, 'GET', target);
      expect(ran).toEqual([]);
      expect(answer.status).toBe(400);
    },
  );

  it.each(['http://127.0.0.1', 'http://127.0.0.1?', 'http://127.0.0.1?x=1', 'https://h:8443?x', 'HTTP://127.0.0.1/'])(
    'an ALLOW on / does not let %s run the catch-all',
    async (target) => {
      const answer = await raw(port, 'GET', target, { authorization: bob });
      expect(ran).toEqual([]);
      expect(answer.status).toBe(400);
    },
  );

  it('the rule: absolute-form is judged only with a lower-case scheme and a path after the authority', () => {
    expect(normalizeApiTarget('http://h/a?x=/b')).toMatchObject({ ok: true, path: '/a' });
    expect(normalizeApiTarget('https://h:8443/')).toMatchObject({ ok: true, path: '/' });
    for (const target of ['HTTP://h/a', 'Https://h/a', 'http://h', 'http://h?x=1', 'https://h?']) {
      expect(normalizeApiTarget(target)).toEqual({ ok: false, problem: 'not_a_path' });
    }
  });
});
