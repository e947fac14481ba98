// Adapter specifics of the webhook route, over real HTTP: Fastify's route under instance-wide API mode
// and without a content type, Fastify's handler on a route of one's own, the bodies a Koa or Express
// body parser leaves, and the Fastify option's checks.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import formbody from '@fastify/formbody';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { eventBody, formBody, jsonHeaders, post } from './http.js';

const SECRET = 'whsec-adapters-0123456789';
const emulator = useEmulator();
const closers: Array<() => Promise<unknown>> = [];
beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function fastifyApp(register: (app: FastifyInstance) => PromiseLike<unknown>): Promise<number> {
  const app = Fastify();
  await register(app);
  app.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return (app.server.address() as AddressInfo).port;
}

async function listen(server: Server): Promise<number> {
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/** GET /reports as alice, before and after a role event: 200, then 403 once her grants are gone. */
async function expectFlushed(port: number, path: string, deliver: () => Promise<{ status: number }>): Promise<void> {
  const alice = await bearerFor(emulator(), 'alice');
  expect((await post(port, path, { method: 'GET', headers: { authorization: alice } })).status).toBe(200);
  emulator().setGrants('alice', []);
  expect((await deliver()).status).toBe(204);
  expect((await post(port, path, { method: 'GET', headers: { authorization: alice } })).status).toBe(403);
}

describe('Fastify', () => {
  it('the plugin route is public under instance-wide API mode, and takes a body without a content type', async () => {
    const port = await fastifyApp((app) => app.register(genauthGuard, { ...emulator().guardOptions(), api: {}, webhook: { path: '/hooks/genauth', secret: SECRET } }));
    const noType = { 'x-authing-webhook-secret': SECRET };
    expect((await post(port, '/hooks/genauth', { headers: noType, body: eventBody('login') })).status).toBe(204);
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders('wrong-secret-0123456789'), body: eventBody('login') })).status).toBe(401);
    expect((await post(port, '/hooks/genauth', { headers: noType })).status).toBe(400);
  });

  it('fastify.genauth.webhook() on a route of one\'s own takes what the parsers left (JSON, @fastify/formbody)', async () => {
    const port = await fastifyApp(async (app) => {
      await app.register(formbody);
      await app.register(genauthGuard, emulator().guardOptions());
      app.post('/own/hook', { config: { genauth: { public: true } } }, app.genauth.webhook({ secret: SECRET }));
    });
    await expectFlushed(port, '/reports', () => post(port, '/own/hook', { headers: jsonHeaders(SECRET), body: eventBody('role:updated', {}) }));
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const form = jsonHeaders(SECRET, { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await post(port, '/own/hook', { headers: form, body: formBody('permission:add', { targetType: 'USER', targetIdentifiers: ['alice'] }) })).status).toBe(204);
    expect((await post(port, '/reports', { method: 'GET', headers: { authorization: await bearerFor(emulator(), 'alice') } })).status).toBe(200);
  });

  it.each([
    [{ secret: SECRET }, 'webhook.path'],
    [{ path: 'hooks', secret: SECRET }, 'webhook.path'],
    [{ path: '/hooks', secret: SECRET, limit: 1 }, 'webhook.limit'],
    [{ path: '/hooks', secret: 'short' }, 'webhook.secret'],
  ])('refuses the webhook option %j naming %s', async (webhook, path) => {
    const app = Fastify();
    closers.push(() => app.close());
    await expect(app.register(genauthGuard, { ...emulator().guardOptions(), webhook: webhook as never }).ready()).rejects.toThrow(`genauth-guard: option "${path}"`);
  });
});

describe('the bodies a parser leaves', () => {
  it('Koa: ctx.request.rawBody (as koa-bodyparser keeps it) is preferred over the parsed body', async () => {
    const guard = createKoaGuard(emulator().guardOptions());
    closers.push(() => guard.close());
    const app = new Koa();
    // A stand-in for koa-bodyparser: reads the body, keeps its text in rawBody, parses it into body.
    app.use(async (ctx, next) => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      Object.assign(ctx.request, { rawBody: text, body: { eventName: 'login' } });
      await next();
    });
    const router = new Router();
    router.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
    router.get('/reports', guard.requirePermission('reports', 'reports:Read'), (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    const port = await listen(app.listen(0, '127.0.0.1'));
    await expectFlushed(port, '/reports', () => post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: eventBody('role:updated', {}) }));
  });

  it('Express: the Buffer of express.raw() is read as the raw body', async () => {
    const guard = createExpressGuard(emulator().guardOptions());
    closers.push(() => guard.close());
    const app = express();
    app.post('/hooks/genauth', express.raw({ type: '*/*' }), guard.webhook({ secret: SECRET, maxBytes: 1024 }));
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.json({ ok: true }));
    const port = await listen(app.listen(0, '127.0.0.1'));
    await expectFlushed(port, '/reports', () => post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: eventBody('role:updated', {}) }));
    const big = JSON.stringify({ eventName: 'role:updated', data: { pad: 'a'.repeat(2048) } });
    // Chunked (no content-length): express.raw() reads it all, the receiver refuses it by its size.
    expect((await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: Readable.from([Buffer.from(big)]) })).status).toBe(413);
  });
});
