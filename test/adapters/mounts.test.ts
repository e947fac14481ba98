/**
 * An app mounted inside another: the guard judges the URL of the outermost server, never the path a
 * mount shortened. Express (4 and 5) hosts a Fastify instance (its `routing` handler), a Nest app on
 * Fastify, a Nest app on Express and an Express sub-app, each under `/api`; grants are written for the
 * URLs the client sends. (Koa mounted in Express: test/adapters/koa.test.ts.)
 *
 * Also an Express app (and Nest on Express) mounted by a host that is not an Express router (Connect,
 * simulated below as Connect does it): Express sees `baseUrl` empty at its root and routes the
 * shortened `req.url`, while the host kept the URL the client sent in `req.originalUrl`.
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { All, Controller, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard, type FastifyGuardOptions } from '../../src/adapters/fastify.js';
import { GenAuth, GenAuthGuardModule, type GenAuthContext } from '../../src/adapters/nest/index.js';
import type { GrantInput } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';
import { raw } from '../paths/raw.js';

const emulator = useEmulator();

/** Everything readable, but nothing under /api/admin: escaped if the guard judged /admin/keys. */
const READ_ALL_BUT_ADMIN = [
  { resourceCode: 'all', resourceType: 'API', actions: ['read'], apiIdentifier: '/*' },
  { resourceCode: 'admin', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/admin/*', effect: 'DENY' },
] satisfies GrantInput[];
/** One path, as the client sends it: grants nothing if the guard judged /servers. */
const SERVERS_ONLY = [{ resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/servers' }] satisfies GrantInput[];
/** The mount path alone (Express routes `/api` to the mount as `/`, `/api?x` as `/?x`). */
const MOUNT_ONLY = [{ resourceCode: 'root', resourceType: 'API', actions: ['read'], apiIdentifier: '/api' }] satisfies GrantInput[];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listen(app: { listen(port: number, host: string): Server }): Server {
  const server = app.listen(0, '127.0.0.1');
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

/**
 * What Connect's `app.use(mount, handle)` does (Connect is not installed): `req.originalUrl` set to the
 * URL received unless already set, the mount path matched case-insensitively where the next character
 * is `/`, `.` or the end, stripped from `req.url`, and a `/` put in front of what is left when it lacks
 * one (`/api` -> `/`, `/api?x` -> `/?x`). The handle is called with no Express router around it.
 */
function connectHost(mount: string, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer((req, res) => {
    const message = req as IncomingMessage & { originalUrl?: string };
    message.originalUrl = message.originalUrl || req.url;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    // An absolute-form target keeps its origin in front (Connect's getProtohost).
    const scheme = url.slice(0, query === -1 ? url.length : query).indexOf('://');
    const protohost = scheme === -1 ? '' : url.slice(0, url.indexOf('/', scheme + 3));
    const path = (query === -1 ? url : url.slice(0, query)).slice(protohost.length);
    const next = path[mount.length];
    if (path.toLowerCase().startsWith(mount.toLowerCase()) && (next === undefined || next === '/' || next === '.')) {
      req.url = protohost + url.slice(protohost.length + mount.length);
      if (protohost === '' && req.url[0] !== '/') req.url = `/${req.url}`;
      handle(req, res);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

/** The port of a server told to listen, once it does. */
async function portOf(server: Server): Promise<number> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

const bearer = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;

type ExpressModule = typeof express5;

/** What every mounted app answers: the path it routed and the user the guard saw. */
function answer(path: string, user: string | undefined): { path: string; user: string | null } {
  return { path, user: user ?? null };
}

/** A Fastify instance that answers every route, ready to be mounted. */
async function fastifyApp(guardOptions: Partial<FastifyGuardOptions>, server: FastifyServerOptions = {}, setup?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify(server);
  cleanups.push(() => app.close());
  await app.register(genauthGuard, { ...emulator().guardOptions(), ...guardOptions });
  if (setup) setup(app);
  else app.all('/*', async (req) => answer(req.url, req.genauth?.identity.userId));
  await app.ready();
  return app;
}

/** An Express app with the guard's api() in front of a handler that answers every path (to be mounted). */
function expressApiApp(express: ExpressModule): ReturnType<ExpressModule> {
  const guard: ExpressGuard = createExpressGuard(emulator().guardOptions());
  cleanups.push(() => guard.close());
  const app = express();
  app.use(guard.api());
  app.use((req, res) => {
    res.json(answer(req.url, req.genauth?.identity.userId));
  });
  return app;
}

/** `host.use('/api', ...)`: Express strips `/api` from `req.url` and keeps it in `req.baseUrl`. */
function mountFastify(express: ExpressModule, app: Pick<FastifyInstance, 'routing'>): Server {
  const host = express();
  host.use('/api', (req, res) => app.routing(req, res));
  return listen(host);
}

@Controller()
class NestCatchAll {
  @All('{*path}')
  any(@GenAuth() auth: GenAuthContext | undefined) {
    return answer('nest', auth?.identity.userId);
  }
}

@Controller()
class NestFastifyCatchAll {
  @All('*')
  any(@GenAuth() auth: GenAuthContext | undefined) {
    return answer('nest', auth?.identity.userId);
  }
}

async function nestApp(platform: 'express' | 'fastify'): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), api: {} })],
    controllers: [platform === 'express' ? NestCatchAll : NestFastifyCatchAll],
  }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
  cleanups.push(() => app.close());
  await app.init();
  return app;
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as ExpressModule],
])('mounted in %s under /api', (_host, express) => {
  describe('Fastify (fastify.routing as the mount handler)', () => {
    it('instance API mode judges the URL the client sent: a DENY on /api/admin/* holds, an ALLOW of /api/servers grants', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      emulator().setGrants('bob', SERVERS_ONLY);
      const server = mountFastify(express, await fastifyApp({ api: {} }));
      const alice = await bearer('alice');
      const allowed = await request(server).get('/api/servers').set('authorization', alice);
      expect(allowed.status).toBe(200);
      // Fastify routed the shortened path; the guard judged the whole one.
      expect(allowed.body).toEqual(answer('/servers', 'alice'));
      const denied = await request(server).get('/api/admin/keys?x=1').set('authorization', alice);
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
      expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
    });

    it('the api() hook on chosen routes judges the URL the client sent', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      const app = await fastifyApp({}, {}, (fastify) => {
        fastify.get('/admin/keys', { onRequest: fastify.genauth.api() }, async () => 'secret');
      });
      const server = mountFastify(express, app);
      expect((await request(server).get('/api/admin/keys').set('authorization', await bearer('alice'))).status).toBe(403);
    });

    it('the mount path alone: /api and /api?x are judged as sent, not with the slash Express adds', async () => {
      emulator().setGrants('bob', MOUNT_ONLY);
      // Fastify's defaults: `/api/` is not `/api` to an ALLOW.
      const server = mountFastify(express, await fastifyApp({ api: {} }));
      const bob = await bearer('bob');
      expect((await request(server).get('/api').set('authorization', bob)).status).toBe(200);
      expect((await request(server).get('/api?x=1').set('authorization', bob)).status).toBe(200);
    });

    it('with a rewriteUrl: the path Fastify routes, under the mount path (never the alias, never without /api)', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      const app = await fastifyApp({ api: {} }, { rewriteUrl: (req) => (req.url ?? '/').replace(/^\/legacy\//, '/admin/') });
      const server = mountFastify(express, app);
      const alice = await bearer('alice');
      // /api/legacy/keys runs /admin/keys of the mounted app: /api/admin/keys to the client.
      const aliased = await request(server).get('/api/legacy/keys').set('authorization', alice);
      expect(aliased.status).toBe(403);
      expect((await request(server).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
      expect((await request(server).get('/api/servers').set('authorization', alice)).status).toBe(200);
    });

    it('an absolute-form target to the mount is refused (400), never judged without its mount path', async () => {
      // docs/fastify.md: Express keeps the origin in front of what its mount leaves (http://h/admin/keys).
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      const port = await portOf(mountFastify(express, await fastifyApp({ api: {} })));
      const alice = await bearer('alice');
      expect((await raw(port, 'GET', 'http://127.0.0.1/api/admin/keys', { authorization: alice })).status).toBe(400);
      expect((await raw(port, 'GET', 'http://127.0.0.1/api/servers', { authorization: alice })).status).toBe(400);
    });

    it('route config: a conditions.context function reads the URL the client sent', async () => {
      // A DENY that holds on /api/admin/* paths, by a context key the app derives from the request.
      emulator().setGrants('alice', [
        { resourceCode: 'reports', actions: ['reports:Read'] },
        { resourceCode: 'reports', actions: ['reports:Read'], effect: 'DENY', condition: [{ param: 'Path', operator: 'StringLike', value: '/api/admin/*' }] },
      ]);
      const seen: Array<string | undefined> = [];
      const app = await fastifyApp(
        { conditions: { context: ({ request: req }) => (seen.push(req?.url), { Path: req?.url }) } },
        {},
        (fastify) => {
          const config = { genauth: { resource: 'reports', requirement: 'reports:Read' } } as const;
          fastify.get('/admin/reports', { config }, async () => 'admin');
          fastify.get('/reports', { config }, async () => 'reports');
        },
      );
      const server = mountFastify(express, app);
      const alice = await bearer('alice');
      expect((await request(server).get('/api/reports').set('authorization', alice)).status).toBe(200);
      expect((await request(server).get('/api/admin/reports').set('authorization', alice)).status).toBe(403);
      expect(seen).toEqual(['/api/reports', '/api/admin/reports']);
    });
  });

  it('Nest on Fastify (its instance mounted): API mode judges the URL the client sent', async () => {
    emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
    emulator().setGrants('bob', SERVERS_ONLY);
    const nest = (await nestApp('fastify')) as NestFastifyApplication;
    const fastify = nest.getHttpAdapter().getInstance();
    await fastify.ready();
    const server = mountFastify(express, fastify);
    const alice = await bearer('alice');
    expect((await request(server).get('/api/servers').set('authorization', alice)).body).toEqual(answer('nest', 'alice'));
    expect((await request(server).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
    expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
  });

  it('Nest on Express (its app mounted as a sub-app): API mode judges the URL the client sent', async () => {
    emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
    emulator().setGrants('bob', SERVERS_ONLY);
    const nest = await nestApp('express');
    const host = express();
    host.use('/api', nest.getHttpAdapter().getInstance());
    const server = listen(host);
    const alice = await bearer('alice');
    expect((await request(server).get('/api/servers').set('authorization', alice)).body).toEqual(answer('nest', 'alice'));
    expect((await request(server).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
    expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
  });

  describe('mounted by a host that is not an Express router (Connect) under /api', () => {
    async function expressInConnect(): Promise<Server> {
      const app = expressApiApp(express);
      return connectHost('/api', app as unknown as (req: IncomingMessage, res: ServerResponse) => void);
    }

    it('Express judges the URL the client sent: a DENY on /api/admin/* holds, an ALLOW of /api/servers grants', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      emulator().setGrants('bob', SERVERS_ONLY);
      const server = await expressInConnect();
      const alice = await bearer('alice');
      // Express routed the shortened path; the guard judged the whole one.
      expect((await request(server).get('/api/servers').set('authorization', alice)).body).toEqual(answer('/servers', 'alice'));
      const denied = await request(server).get('/api/admin/keys?x=1').set('authorization', alice);
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
      expect((await request(server).get('/API/Admin/keys').set('authorization', alice)).status).toBe(403);
      expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
    });

    it('Express: the mount path alone (/api routed as /, /api?x as /?x) is judged as sent', async () => {
      emulator().setGrants('bob', MOUNT_ONLY);
      const server = await expressInConnect();
      const bob = await bearer('bob');
      expect((await request(server).get('/api').set('authorization', bob)).body).toEqual(answer('/', 'bob'));
      expect((await request(server).get('/api?x=1').set('authorization', bob)).body).toEqual(answer('/?x=1', 'bob'));
    });

    it('Express: an absolute-form target is judged as sent', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      const port = await portOf(await expressInConnect());
      const alice = await bearer('alice');
      expect((await raw(port, 'GET', 'http://127.0.0.1/api/admin/keys', { authorization: alice })).status).toBe(403);
      expect(JSON.parse((await raw(port, 'GET', 'http://127.0.0.1/api/servers', { authorization: alice })).body)).toEqual(answer('http://127.0.0.1/servers', 'alice'));
    });

    it('Nest on Express judges the URL the client sent', async () => {
      emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
      emulator().setGrants('bob', SERVERS_ONLY);
      const nest = await nestApp('express');
      const server = connectHost('/api', nest.getHttpAdapter().getInstance());
      const alice = await bearer('alice');
      expect((await request(server).get('/api/servers').set('authorization', alice)).body).toEqual(answer('nest', 'alice'));
      expect((await request(server).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
      expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
    });
  });

  it('an Express sub-app judges an absolute-form target with its mount path', async () => {
    emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
    const sub = expressApiApp(express);
    const host = express();
    host.use('/api', sub);
    const port = await portOf(listen(host));
    const alice = await bearer('alice');
    expect((await raw(port, 'GET', 'http://127.0.0.1/api/admin/keys', { authorization: alice })).status).toBe(403);
    expect(JSON.parse((await raw(port, 'GET', 'http://127.0.0.1/api/servers', { authorization: alice })).body)).toEqual(answer('http://127.0.0.1/servers', 'alice'));
  });

  it('an Express sub-app behind a host rewrite that lengthens the URL judges the path it runs, mount path included', async () => {
    emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
    emulator().setGrants('bob', [{ resourceCode: 'keys', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/admin/keys' }]);
    const sub = expressApiApp(express);
    const host = express();
    // GET /k runs /admin/keys of the sub-app: /api/admin/keys in the host's terms.
    host.use((req, _res, next) => {
      if (req.url === '/k') req.url = '/api/admin/keys';
      next();
    });
    host.use('/api', sub);
    const server = listen(host);
    expect((await request(server).get('/k').set('authorization', await bearer('alice'))).status).toBe(403);
    expect((await request(server).get('/k').set('authorization', await bearer('bob'))).body).toEqual(answer('/admin/keys', 'bob'));
  });

  it('an Express sub-app with api() inside it judges req.originalUrl, mount path included', async () => {
    emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
    emulator().setGrants('bob', SERVERS_ONLY);
    const sub = expressApiApp(express);
    const host = express();
    host.use('/api', sub);
    const server = listen(host);
    const alice = await bearer('alice');
    expect((await request(server).get('/api/servers').set('authorization', alice)).body).toEqual(answer('/servers', 'alice'));
    expect((await request(server).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
    expect((await request(server).get('/api/servers').set('authorization', await bearer('bob'))).status).toBe(200);
  });
});

it('a Fastify instance that is not mounted still judges raw.url (a path with /api in it is not taken for a mount)', async () => {
  emulator().setGrants('alice', READ_ALL_BUT_ADMIN);
  const app = await fastifyApp({ api: {} });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const alice = await bearer('alice');
  expect((await request(url).get('/api/admin/keys').set('authorization', alice)).status).toBe(403);
  expect((await request(url).get('/admin/keys').set('authorization', alice)).status).toBe(200);
});
