import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule } from '../../examples/nest/app.module.js';
import { ENV } from '../../examples/nest/config.js';
import { genauthTestKit, useGenAuthEmulator } from '../../src/adapters/nest/index.js';
import { useEmulator } from '../fixtures.js';

// The example app (examples/nest) as a user would test it: its own AppModule in a TestingModule,
// pointed at the emulator with useGenAuthEmulator, grants changed with the test kit.
const emulator = useEmulator();

const PRODUCTION_LIKE_ENV = {
  GENAUTH_USER_POOL_ID: 'pool-from-env',
  GENAUTH_ACCESS_KEY_SECRET: 'secret-from-env',
  GENAUTH_JWKS_URI: 'https://example.invalid/oidc/.well-known/jwks.json',
  GENAUTH_ISSUER: 'https://example.invalid/oidc',
  GENAUTH_AUDIENCE: 'app',
};

describe.each(['express', 'fastify'] as const)('examples/nest on %s', (platform) => {
  let app: INestApplication;
  afterEach(async () => {
    await app?.close();
  });

  it('serves the documented answers', async () => {
    emulator().clearGrants();
    const builder = Test.createTestingModule({ imports: [AppModule] }).overrideProvider(ENV).useValue(PRODUCTION_LIKE_ENV);
    const moduleRef = await useGenAuthEmulator(builder, emulator()).compile();
    app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
    app.setGlobalPrefix('api');
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const kit = genauthTestKit(app, emulator());
    kit.setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
    kit.setGrants('bob', [{ resourceCode: 'servers', actions: ['ecs:List'] }]);
    const alice = await kit.bearer('alice');
    const bob = await kit.bearer('bob');

    const started = await request(url).post('/api/servers/1/start').set('authorization', alice);
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ started: '1', by: 'alice' });
    const anonymous = await request(url).post('/api/servers/1/start');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect((await request(url).post('/api/servers/1/start').set('authorization', bob)).status).toBe(403);
    expect((await request(url).get('/api/servers').set('authorization', bob)).body).toEqual({ servers: [], for: 'bob' });
    expect((await request(url).get('/api/servers/forgotten').set('authorization', bob)).status).toBe(403);
    expect((await request(url).get('/api/health')).status).toBe(200);

    // The kit drops the cached grants: a change shows on the next request.
    kit.setGrants('bob', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
    expect((await request(url).post('/api/servers/1/start').set('authorization', bob)).status).toBe(200);
  });
});
