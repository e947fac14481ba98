/**
 * Odd grant shapes GenAuth may send, through a real Express app and the emulator (raw entries, served
 * as given): an odd value must never weaken a DENY (it may widen it) and never widen an ALLOW (it may
 * be ignored). API mode (`guard.api()`), and route mode where a shape is about codes and actions.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const guards: ExpressGuard[] = [];
afterAll(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
});

function newGuard(): ExpressGuard {
  const guard = createExpressGuard({ ...emulator().guardOptions(), logger: false });
  guards.push(guard);
  return guard;
}

/** API mode on everything; any request it lets through gets 200. */
function apiApp(options: ApiModeOptions = {}): express.Express {
  const app = express();
  app.use(newGuard().api(options));
  app.use((_req, res) => void res.send('ok'));
  return app;
}

/** Route mode: `GET /reports` needs `reports:Read` on `reports`, `GET /reports/read` needs a bare `read`. */
function routeApp(): express.Express {
  const guard = newGuard();
  const app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/reports/read', guard.requirePermission('reports', 'read'), (_req, res) => void res.send('ok'));
  return app;
}

let users = 0;
/** The status `method path` gets from `app` for a new user holding exactly `entries`. */
async function statusFor(app: express.Express, entries: unknown[], method: string, path: string): Promise<number> {
  const user = `shape-${++users}`;
  emulator().setRawGrants(user, entries);
  const token = await emulator().mintToken(user);
  const res = await request(app)[method.toLowerCase() as 'get'](path).set('authorization', `Bearer ${token}`);
  return res.status;
}

const api = (change: Record<string, unknown>): Record<string, unknown> => ({
  resourceCode: 'api',
  resourceType: 'API',
  apiIdentifier: '/*',
  actions: ['*'],
  effect: 'ALLOW',
  ...change,
});
/** An ALLOW of every action on every path. */
const allowAll = api({ resourceCode: 'everything' });
const deny = (change: Record<string, unknown>): Record<string, unknown> => api({ resourceCode: 'admin', apiIdentifier: '/admin/*', effect: 'DENY', ...change });

/** [label, entries, method, path, status]. */
type Case = [string, unknown[], string, string, 200 | 403];

function runCases(app: () => express.Express, cases: Case[]): void {
  let server: express.Express;
  beforeAll(() => {
    server = app();
  });
  it.each(cases.map(([label, ...rest]) => [`${label}: ${rest[1]} ${rest[2]}`, ...rest] as Case))('%s', async (_label, entries, method, path, expected) => {
    expect(await statusFor(server, entries, method, path)).toBe(expected);
  });
}

describe('an absolute apiIdentifier', () => {
  describe('without apiOrigin: a DENY applies by its path, an ALLOW is ignored', () => {
    runCases(() => apiApp(), [
      ['DENY https://api.example.com/admin/*', [allowAll, deny({ apiIdentifier: 'https://api.example.com/admin/*' })], 'GET', '/admin/keys', 403],
      ['DENY https://api.example.com/admin/* (another path)', [allowAll, deny({ apiIdentifier: 'https://api.example.com/admin/*' })], 'GET', '/reports', 200],
      ['DENY http://localhost:8080/admin/keys', [allowAll, deny({ apiIdentifier: 'http://localhost:8080/admin/keys' })], 'DELETE', '/ADMIN/keys/', 403],
      ['DENY https://api.example.com (the root)', [allowAll, deny({ apiIdentifier: 'https://api.example.com' })], 'GET', '/', 403],
      ['ALLOW https://api.example.com/admin/*', [api({ apiIdentifier: 'https://api.example.com/admin/*' })], 'GET', '/admin/keys', 403],
    ]);
  });
  describe('with apiOrigin: only identifiers of that origin apply', () => {
    runCases(() => apiApp({ apiOrigin: 'https://api.example.com' }), [
      ['DENY of this origin', [allowAll, deny({ apiIdentifier: 'https://api.example.com/admin/*' })], 'GET', '/admin/keys', 403],
      ['DENY of another origin', [allowAll, deny({ apiIdentifier: 'https://other.example.com/admin/*' })], 'GET', '/admin/keys', 200],
      ['ALLOW of this origin', [api({ apiIdentifier: 'https://api.example.com/admin/*' })], 'GET', '/admin/keys', 200],
      ['ALLOW of another origin', [api({ apiIdentifier: 'https://other.example.com/admin/*' })], 'GET', '/admin/keys', 403],
    ]);
  });
});

describe('an apiIdentifier that is not a string', () => {
  runCases(() => apiApp(), [
    ['DENY apiIdentifier 42', [allowAll, deny({ apiIdentifier: 42 })], 'GET', '/admin/keys', 403],
    ['DENY apiIdentifier 42 (widened to every path)', [allowAll, deny({ apiIdentifier: 42 })], 'GET', '/reports', 403],
    ['DENY apiIdentifier ["/admin/*"]', [allowAll, deny({ apiIdentifier: ['/admin/*'] })], 'GET', '/admin/keys', 403],
    ['DENY apiIdentifier {}', [allowAll, deny({ apiIdentifier: {} })], 'POST', '/admin/keys', 403],
    ['DENY apiIdentifier true', [allowAll, deny({ apiIdentifier: true })], 'DELETE', '/x', 403],
    ['DENY apiIdentifier 42 keeps its actions', [allowAll, deny({ apiIdentifier: 42, actions: ['delete'] })], 'GET', '/admin/keys', 200],
    // No identifier at all: an API grant without one takes no part (documented).
    ['DENY apiIdentifier null', [allowAll, deny({ apiIdentifier: null })], 'GET', '/admin/keys', 200],
    ['DENY apiIdentifier missing', [allowAll, deny({ apiIdentifier: undefined })], 'GET', '/admin/keys', 200],
    ['ALLOW apiIdentifier ["/admin/*"]', [api({ apiIdentifier: ['/admin/*'] })], 'GET', '/admin/keys', 403],
    ['ALLOW apiIdentifier 42', [api({ apiIdentifier: 42 })], 'GET', '/admin/keys', 403],
  ]);
});

describe('an apiIdentifier with whitespace around a segment is unreadable: a DENY is widened, an ALLOW ignored', () => {
  runCases(() => apiApp(), [
    ['DENY "/admin/keys "', [allowAll, deny({ apiIdentifier: '/admin/keys ' })], 'GET', '/admin/keys', 403],
    ['DENY "/admin/keys " (widened to /admin/*)', [allowAll, deny({ apiIdentifier: '/admin/keys ' })], 'GET', '/admin/other', 403],
    ['DENY "/admin/keys " (not beyond /admin/*)', [allowAll, deny({ apiIdentifier: '/admin/keys ' })], 'GET', '/reports', 200],
    ['DENY "/admin/keys\\u00a0"', [allowAll, deny({ apiIdentifier: '/admin/keys\u00a0' })], 'GET', '/admin/keys', 403],
    ['DENY "/admin/keys\\u3000"', [allowAll, deny({ apiIdentifier: '/admin/keys\u3000' })], 'GET', '/admin/keys', 403],
    ['DENY "/admin /keys"', [allowAll, deny({ apiIdentifier: '/admin /keys' })], 'GET', '/admin/keys', 403],
    ['DENY "/admin/keys/ "', [allowAll, deny({ apiIdentifier: '/admin/keys/ ' })], 'GET', '/admin/keys', 403],
    ['DENY " /admin/keys"', [allowAll, deny({ apiIdentifier: ' /admin/keys' })], 'GET', '/admin/keys', 403],
    ['DENY " /admin/keys" (widened to every path)', [allowAll, deny({ apiIdentifier: ' /admin/keys' })], 'GET', '/reports', 403],
    ['ALLOW "/admin/keys "', [api({ apiIdentifier: '/admin/keys ' })], 'GET', '/admin/keys', 403],
    ['ALLOW "/admin/keys " (not its encoded spelling either)', [api({ apiIdentifier: '/admin/keys ' })], 'GET', '/admin/keys%20', 403],
    ['ALLOW " /admin/keys"', [api({ apiIdentifier: ' /admin/keys' })], 'GET', '/admin/keys', 403],
    // A space inside a segment is a character of the path, written %20 by clients.
    ['ALLOW "/my docs"', [api({ apiIdentifier: '/my docs' })], 'GET', '/my%20docs', 200],
    ['DENY "/my docs"', [allowAll, deny({ apiIdentifier: '/my docs' })], 'GET', '/my%20docs', 403],
    ['DENY "/my docs" (only that path)', [allowAll, deny({ apiIdentifier: '/my docs' })], 'GET', '/my', 200],
  ]);
});

describe('a public path with whitespace around a segment is a mistake', () => {
  it.each(['/health ', '/docs /*', '/health/\u00a0'])('%j throws at construction', (path) => {
    expect(() => newGuard().api({ publicPaths: [path] })).toThrow(/api\.publicPaths\[0\]/);
  });
});

describe('a DENY covers bare and qualified action names alike (GenAuth notes §7.6); an ALLOW stays exact', () => {
  describe('API mode (methods map to bare names: GET is read)', () => {
    runCases(() => apiApp(), [
      ['DENY admin:read', [allowAll, deny({ actions: ['admin:read'] })], 'GET', '/admin/keys', 403],
      ['DENY admin:read (HEAD follows GET)', [allowAll, deny({ actions: ['admin:read'] })], 'HEAD', '/admin/keys', 403],
      ['DENY admin:read (not create)', [allowAll, deny({ actions: ['admin:read'] })], 'POST', '/admin/keys', 200],
      ['DENY Admin:READ', [allowAll, deny({ actions: ['Admin:READ'] })], 'GET', '/admin/keys', 403],
      ['DENY book:*:read', [allowAll, deny({ actions: ['book:*:read'] })], 'GET', '/admin/keys', 403],
      ['DENY admin:*', [allowAll, deny({ actions: ['admin:*'] })], 'DELETE', '/admin/keys', 403],
      ['DENY admin:* (not beyond its path)', [allowAll, deny({ actions: ['admin:*'] })], 'DELETE', '/reports', 200],
      // What the same ALLOW does: it names no bare action, so it grants nothing here (not widened).
      ['ALLOW admin:read', [api({ apiIdentifier: '/admin/*', actions: ['admin:read'] })], 'GET', '/admin/keys', 403],
      ['ALLOW admin:*', [api({ apiIdentifier: '/admin/*', actions: ['admin:*'] })], 'GET', '/admin/keys', 403],
    ]);
  });
  describe('API mode with methods mapped to qualified names', () => {
    runCases(() => apiApp({ methodActions: { GET: 'admin:read' } }), [
      ['ALLOW admin:read', [api({ apiIdentifier: '/admin/*', actions: ['admin:read'] })], 'GET', '/admin/keys', 200],
      ['DENY read', [allowAll, deny({ actions: ['read'] })], 'GET', '/admin/keys', 403],
      ['DENY keys:read (another qualifier)', [allowAll, deny({ actions: ['keys:read'] })], 'GET', '/admin/keys', 200],
    ]);
  });
  describe('route mode', () => {
    const reports = (change: Record<string, unknown>) => ({ resourceCode: 'reports', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW', ...change });
    runCases(routeApp, [
      ['DENY reports:read, route needs read', [reports({}), reports({ actions: ['reports:read'], effect: 'DENY' })], 'GET', '/reports/read', 403],
      ['DENY read, route needs reports:Read', [reports({}), reports({ actions: ['read'], effect: 'DENY' })], 'GET', '/reports', 403],
      ['DENY ecs:Read, route needs reports:Read (another qualifier)', [reports({}), reports({ actions: ['ecs:Read'], effect: 'DENY' })], 'GET', '/reports', 200],
      ['ALLOW reports:read, route needs read (not widened)', [reports({ actions: ['reports:read'] })], 'GET', '/reports/read', 403],
      ['ALLOW Read, route needs reports:Read (not widened)', [reports({ actions: ['Read'] })], 'GET', '/reports', 403],
    ]);
  });
});

describe('`*:*` (GenAuth notes §3.9: all): a DENY covers everything, an ALLOW is not read as all', () => {
  const reports = (change: Record<string, unknown>) => ({ resourceCode: 'reports', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW', ...change });
  describe('route mode (GET /reports needs reports:Read on reports)', () => {
    runCases(routeApp, [
      ['DENY action *:*', [reports({}), reports({ actions: ['*:*'], effect: 'DENY' })], 'GET', '/reports', 403],
      ['DENY action *:*:*', [reports({}), reports({ actions: ['*:*:*'], effect: 'DENY' })], 'GET', '/reports', 403],
      ['DENY code *:*', [reports({}), reports({ resourceCode: '*:*', effect: 'DENY' })], 'GET', '/reports', 403],
      ['DENY code *:*:*', [reports({}), reports({ resourceCode: '*:*:*', actions: ['reports:Read'], effect: 'DENY' })], 'GET', '/reports', 403],
      ['DENY code *:* and action *:*', [reports({}), reports({ resourceCode: '*:*', actions: ['*:*'], effect: 'DENY' })], 'GET', '/reports/read', 403],
      ['ALLOW code *:*', [reports({ resourceCode: '*:*' })], 'GET', '/reports', 403],
      ['ALLOW code *:*:*', [reports({ resourceCode: '*:*:*' })], 'GET', '/reports', 403],
      ['ALLOW action *:*', [reports({ actions: ['*:*'] })], 'GET', '/reports', 403],
      ['ALLOW action *:*, route needs read', [reports({ actions: ['*:*'] })], 'GET', '/reports/read', 403],
    ]);
  });
  describe('API mode with methods mapped to qualified names', () => {
    runCases(() => apiApp({ methodActions: { GET: 'admin:read' } }), [
      ['DENY action *:*', [allowAll, deny({ actions: ['*:*'] })], 'GET', '/admin/keys', 403],
      ['ALLOW action *:*', [api({ actions: ['*:*'] })], 'GET', '/admin/keys', 403],
    ]);
  });
  describe('API mode', () => {
    runCases(() => apiApp(), [
      ['DENY action *:*', [allowAll, deny({ actions: ['*:*'] })], 'DELETE', '/admin/keys', 403],
      ['ALLOW action *:*', [api({ actions: ['*:*'] })], 'GET', '/admin/keys', 403],
    ]);
  });
});
