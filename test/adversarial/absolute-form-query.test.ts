/**
 * Absolute-form targets whose authority is followed by `?` and then a `/`: `GET http://host?/admin/keys`.
 * Node's url.parse (Express, Koa) and find-my-way 9.10+ read the path as `/`, but find-my-way before 9.10
 * (`^https?:\/\/.*?\/` stripped up to the first slash, query included) routes `/admin/keys`; Fastify
 * 5.12.7 and earlier, inside the peer range `fastify ^5.0.0`, accept such a find-my-way. The guard must
 * not judge `/` for a target some supported router dispatches elsewhere: it refuses it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import FindMyWay from 'find-my-way';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModeSpec, createGuard, isGuardError, problemResponse } from '../../src/index.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { NodeRequestView } from '../../src/request.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { rawSend } from './raw-http.js';

let emulator: GenAuthEmulator;
let server: Server;
let port = 0;
let token = '';
const handled: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('mallory', [
    { resourceCode: 'site', resourceType: 'API', apiIdentifier: '/*', actions: ['read'], effect: 'ALLOW' },
    { resourceCode: 'admin', resourceType: 'API', apiIdentifier: '/admin/*', actions: ['*'], effect: 'DENY' },
  ]);
  token = await emulator.mintToken('mallory');
  // find-my-way 9.7.0 (the version @nestjs/platform-fastify pins), as Fastify <= 5.12.7 may route with it.
  const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false });
  for (const path of ['/', '/admin/keys']) {
    router.on('GET', path, (_req, res) => {
      handled.push(path);
      res.end(path);
    });
  }
  const guard = createGuard(emulator.guardOptions());
  const spec = apiModeSpec({ publicPaths: ['/'] });
  server = createServer(async (req, res) => {
    try {
      await guard.enforceApi(new NodeRequestView(req, undefined, { caseFold: 'none', ignoreTrailingSlash: false }), spec);
    } catch (error) {
      const problem = isGuardError(error) ? problemResponse(error) : { status: 500, headers: {}, body: '' };
      res.writeHead(problem.status, problem.headers).end(problem.body);
      return;
    }
    router.lookup(req, res);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await emulator?.close();
});

describe('absolute-form with a query before the path, routed by find-my-way < 9.10', () => {
  it('control: /admin/keys is 401 without a token and 403 under the DENY', async () => {
    handled.length = 0;
    expect((await rawSend(port, { method: 'GET', target: '/admin/keys' })).status).toBe(401);
    expect((await rawSend(port, { method: 'GET', target: '/admin/keys', headers: [['authorization', `Bearer ${token}`]] })).status).toBe(403);
    expect((await rawSend(port, { method: 'GET', target: 'http://127.0.0.1/admin/keys', headers: [['authorization', `Bearer ${token}`]] })).status).toBe(403);
    expect(handled).toEqual([]);
  });

  it('the public path / does not open /admin/keys without a token', async () => {
    handled.length = 0;
    const answer = await rawSend(port, { method: 'GET', target: 'http://127.0.0.1?x/admin/keys' });
    expect(handled).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('an ALLOW on /* does not escape the DENY on /admin/*', async () => {
    handled.length = 0;
    const answer = await rawSend(port, { method: 'GET', target: 'http://127.0.0.1?/admin/keys', headers: [['authorization', `Bearer ${token}`]] });
    expect(handled).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('an authority followed by a query without a slash is refused too: find-my-way < 9.10 strips nothing there', () => {
    expect(normalizeApiTarget('http://h?x=1')).toEqual({ ok: false, problem: 'not_a_path' });
    expect(normalizeApiTarget('http://h/a?x=/b')).toMatchObject({ ok: true, path: '/a' });
  });
});
