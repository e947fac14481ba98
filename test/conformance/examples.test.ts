// The Koa and Fastify example apps (examples/koa, examples/fastify) answer 200 / 401 / 403 as their
// demos promise, wired to the sources instead of the build.
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
// @ts-expect-error plain JS example without types
import { buildApp as buildKoaApp } from '../../examples/koa/app.mjs';
// @ts-expect-error plain JS example without types
import { buildApp as buildFastifyApp } from '../../examples/fastify/app.mjs';

let emulator: GenAuthEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
  emulator.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
});
afterAll(async () => {
  await emulator.close();
});

const starters: Array<[string, () => Promise<{ url: string; close: () => Promise<void> }>]> = [
  [
    'examples/koa',
    async () => {
      const guard = createKoaGuard(emulator.guardOptions());
      const server = buildKoaApp(guard).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
          server.close();
          await guard.close();
        },
      };
    },
  ],
  [
    'examples/fastify',
    async () => {
      const app = await buildFastifyApp(genauthGuard, emulator.guardOptions());
      return { url: await app.listen({ port: 0, host: '127.0.0.1' }), close: () => app.close() };
    },
  ],
];

describe.each(starters)('%s', (_name, start) => {
  it('answers 200 / 401 / 403 like the demo says', async () => {
    const { url, close } = await start();
    try {
      const alice = `Bearer ${await emulator.mintToken('alice')}`;
      const bob = `Bearer ${await emulator.mintToken('bob')}`;
      expect((await request(url).get('/health')).status).toBe(200);
      const ok = await request(url).post('/api/v1/servers/1/start').set('authorization', alice);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ started: '1', by: 'alice' });
      expect((await request(url).post('/api/v1/servers/1/start')).status).toBe(401);
      expect((await request(url).post('/api/v1/servers/1/start').set('authorization', bob)).status).toBe(403);
      expect((await request(url).get('/api/v1/reports').set('authorization', bob)).body).toEqual({ reports: [], for: 'bob' });
    } finally {
      await close();
    }
  });
});
