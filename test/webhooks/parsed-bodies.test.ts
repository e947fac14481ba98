// The webhook route behind a body parser, over real HTTP on every framework with a parser-in-front
// story: Express 5 and 4 (express.json(), express.urlencoded({ extended: true })), Koa (a parser that
// leaves only ctx.request.body, as koa-body does), Fastify (its own JSON parser and @fastify/formbody
// before fastify.genauth.webhook() on a route of one's own) and Nest on both platforms (their default
// parsers). A parsed body is held to what the raw path reads: a plain JSON-shaped object, a form's
// `data` a JSON text, a content type and encoding the raw path takes. Anything else is refused (400 or
// 415, as the raw path would) and nothing is revoked; a well-formed delivery still acts.
import { gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Router from '@koa/router';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { parse as parseForm } from 'qs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import { startNestApp } from '../nest/app.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { eventBody, formBody, jsonHeaders, post, type Posted } from './http.js';

const SECRET = 'whsec-parsed-0123456789';
const FORM = 'application/x-www-form-urlencoded';
const READERS = ['reports:Read', 'reports:Admin'];
const emulator = useEmulator();
const closers: Array<() => Promise<unknown>> = [];
beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface App {
  port: number;
  hook: string;
  reports: string;
}

async function listen(server: Server): Promise<number> {
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

async function listenFastify(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return (app.server.address() as AddressInfo).port;
}

/** Express 5 or 4 with its parsers in front of the route (and its JSON parser also taking `extraJson`). */
async function expressApp(express: typeof express5, extraJson: string[] = [], reviver?: (key: string, value: unknown) => unknown): Promise<App> {
  const guard = createExpressGuard(emulator().guardOptions());
  closers.push(() => guard.close());
  const app = express();
  app.use(express.json({ type: ['application/json', ...extraJson], ...(reviver === undefined ? {} : { reviver }) }));
  app.use(express.urlencoded({ extended: true }));
  app.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
  app.get('/reports', guard.requirePermission('reports', { anyOf: READERS }), (_req, res) => void res.json({ ok: true }));
  return { port: await listen(app.listen(0, '127.0.0.1')), hook: '/hooks/genauth', reports: '/reports' };
}

/**
 * Koa with a body parser that leaves only `ctx.request.body` (no rawBody), as koa-body does: JSON by
 * `JSON.parse`, or, with `byAssignment`, copied key by key into a fresh object as a hand-rolled parser
 * might (a `__proto__` key then sets the prototype); forms by qs.
 */
async function koaApp(byAssignment = false): Promise<App> {
  const guard = createKoaGuard(emulator().guardOptions());
  closers.push(() => guard.close());
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = parseForm(text);
      if (ctx.is('json')) {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        body = parsed;
        if (byAssignment) {
          const copy: Record<string, unknown> = {};
          for (const key of Object.keys(parsed)) copy[key] = parsed[key];
          body = copy;
        }
      }
      Object.assign(ctx.request, { body });
    }
    await next();
  });
  const router = new Router();
  router.post('/hooks/genauth', guard.webhook({ secret: SECRET }));
  router.get('/reports', guard.requirePermission('reports', { anyOf: READERS }), (ctx) => {
    ctx.body = { ok: true };
  });
  app.use(router.routes());
  return { port: await listen(app.listen(0, '127.0.0.1')), hook: '/hooks/genauth', reports: '/reports' };
}

/** Fastify with its JSON parser, @fastify/formbody, and `adjust` (parsers of the app's own), before fastify.genauth.webhook(). */
async function fastifyApp(adjust: (app: FastifyInstance) => void = () => {}): Promise<App> {
  const app = Fastify();
  await app.register(formbody);
  adjust(app);
  await app.register(genauthGuard, emulator().guardOptions());
  app.post('/own/hook', { config: { genauth: { public: true } } }, app.genauth.webhook({ secret: SECRET }));
  app.get('/reports', { config: { genauth: { resource: 'reports', requirement: { anyOf: READERS } } } }, async () => ({ ok: true }));
  return { port: await listenFastify(app), hook: '/own/hook', reports: '/reports' };
}

async function nestApp(platform: 'express' | 'fastify'): Promise<App> {
  const started = await startNestApp({ platform, genauth: GenAuthGuardModule.forRoot(emulator().guardOptions()), webhook: { secret: SECRET }, handled: () => {} });
  closers.push(() => started.close());
  return { port: started.port, hook: '/api/v1/hooks/genauth', reports: '/api/v1/reports' };
}

const deliver = (app: App, body: string | Buffer, headers: Record<string, string> = {}): Promise<Posted> =>
  post(app.port, app.hook, { headers: jsonHeaders(SECRET, headers), body });
/** `user`'s request with `token` (or one minted now). */
const reports = async (app: App, user = 'alice', token?: string) =>
  (await post(app.port, app.reports, { method: 'GET', headers: { authorization: token ?? (await bearerFor(emulator(), user)) } })).status;

/** Sends a delivery that would revoke `user` if read; expects `status` and that the user's token still passes. */
async function expectRefused(app: App, status: number, body: string | Buffer, headers: Record<string, string> = {}, user = 'alice'): Promise<void> {
  expect(await reports(app, user)).toBe(200);
  const answer = await deliver(app, body, headers);
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(await reports(app, user)).toBe(200);
}

/** A JSON and a form delivery that revoke alice, then bob: each 204, each token then refused. */
async function expectActs(app: App): Promise<void> {
  // Tokens minted before each delivery: one minted after it, in a later second, is rightly not revoked.
  const alice = await bearerFor(emulator(), 'alice');
  const bob = await bearerFor(emulator(), 'bob');
  expect(await reports(app, 'alice', alice)).toBe(200);
  expect((await deliver(app, eventBody('user:blocked', { user: { userId: 'alice' } }))).status).toBe(204);
  expect(await reports(app, 'alice', alice)).toBe(401);
  expect(await reports(app, 'bob', bob)).toBe(200);
  expect((await deliver(app, formBody('user:blocked', { user: { userId: 'bob' } }), { 'content-type': FORM })).status).toBe(204);
  expect(await reports(app, 'bob', bob)).toBe(401);
}

/** A form whose `data` is not the JSON text GenAuth sends but qs's bracket syntax: the raw path reads no `data` there. */
const BRACKET_FORM = 'eventName=user%3Ablocked&data[user][userId]=alice';
const gzipped = () => gzipSync(eventBody('user:blocked', { user: { userId: 'alice' } }));

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
])('%s, express.json() and express.urlencoded({ extended: true }) in front', (_name, express) => {
  it('still acts on a JSON and a form delivery', async () => {
    await expectActs(await expressApp(express));
  });

  it('a form whose data is qs brackets (an object, not a JSON text): 400, nothing revoked', async () => {
    await expectRefused(await expressApp(express), 400, BRACKET_FORM, { 'content-type': FORM });
  });

  it('a gzip body the parser inflated: 415 as on the raw path, nothing revoked', async () => {
    await expectRefused(await expressApp(express), 415, gzipped(), { 'content-encoding': 'gzip' });
  });

  it('a JSON body of a content type the raw path does not read (text/plain, parsed by the app\'s JSON parser): 415', async () => {
    await expectRefused(await expressApp(express, ['text/plain']), 415, eventBody('user:blocked', { user: { userId: 'alice' } }), { 'content-type': 'text/plain' });
  });

  it('a body whose parser revived values into objects that are not JSON (a Date): 400, nothing revoked', async () => {
    const reviver = (key: string, value: unknown) => (key === 'createdAt' && typeof value === 'string' ? new Date(value) : value);
    await expectRefused(await expressApp(express, [], reviver), 400, eventBody('user:blocked', { user: { userId: 'alice', createdAt: '2024-01-01T00:00:00Z' } }));
  });

  it('an empty body the parser read as {}: 400 as on the raw path', async () => {
    const app = await expressApp(express);
    const answer = await deliver(app, '');
    expect(answer.status).toBe(400);
  });
});

describe('Koa, a parser that leaves only ctx.request.body', () => {
  it('still acts on a JSON and a form delivery', async () => {
    await expectActs(await koaApp());
  });

  it('a form whose data is qs brackets: 400, nothing revoked', async () => {
    await expectRefused(await koaApp(), 400, BRACKET_FORM, { 'content-type': FORM });
  });

  it('a body whose __proto__ key became its prototype (copied by assignment): 400, nothing revoked', async () => {
    // Read from the prototype, `data` would name bob; the raw path reads an own `__proto__` key and no `data`.
    const body = '{"eventName":"user:blocked","__proto__":{"data":{"user":{"userId":"bob"}}}}';
    await expectRefused(await koaApp(true), 400, body, {}, 'bob');
  });
});

describe('Fastify, fastify.genauth.webhook() behind the app\'s parsers', () => {
  it('still acts on a JSON and a form delivery', async () => {
    await expectActs(await fastifyApp());
  });

  it('a parser that hands over the request stream (not a body): 400, not a silent 204', async () => {
    const app = await fastifyApp((fastify) => {
      fastify.removeContentTypeParser('application/json');
      fastify.addContentTypeParser('application/json', (_request, payload, done) => done(null, payload));
    });
    await expectRefused(app, 400, eventBody('user:blocked', { user: { userId: 'alice' } }));
  });

  it('a parser that gives a Map (not a plain object): 400, not a silent 204', async () => {
    const app = await fastifyApp((fastify) => {
      fastify.removeContentTypeParser('application/json');
      fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => done(null, new Map(Object.entries(JSON.parse(text as string)))));
    });
    await expectRefused(app, 400, eventBody('user:blocked', { user: { userId: 'alice' } }));
  });

  it('a JSON body of a content type the raw path does not read (text/plain, parsed by the app): 415', async () => {
    const app = await fastifyApp((fastify) => {
      fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, text, done) => done(null, JSON.parse(text as string)));
    });
    await expectRefused(app, 415, eventBody('user:blocked', { user: { userId: 'alice' } }), { 'content-type': 'text/plain' });
  });
});

describe.each(['express', 'fastify'] as const)('Nest on platform-%s, its default body parsers', (platform) => {
  it('still acts on a JSON and a form delivery (a form parsed into a null-prototype object too)', async () => {
    await expectActs(await nestApp(platform));
  });

  it('a form whose data is qs brackets: 400, nothing revoked', async () => {
    await expectRefused(await nestApp(platform), 400, BRACKET_FORM, { 'content-type': FORM });
  });
});

describe('Nest on platform-express: a gzip body its parser inflated', () => {
  it('415 as on the raw path, nothing revoked', async () => {
    await expectRefused(await nestApp('express'), 415, gzipped(), { 'content-encoding': 'gzip' });
  });
});
