/**
 * Defect 16: the path the guard judges must be the path the router dispatches, under every router
 * option each adapter supports. One path table is replayed over real HTTP (raw sockets, the target
 * byte for byte) against the same route table on Express 4/5, Koa 2/3 with @koa/router, Fastify 5 and
 * Nest on both platforms, each under its router option sets.
 *
 * The oracle is the route that ran: every handler records its route and decoded parameters, which give
 * the concrete path the router dispatched. That path, checked exactly (case-sensitive, strict), must be
 * allowed to the caller by the grants, or public when there is no token. So a DENY on a route's path is
 * honoured (its handler never runs), an ALLOW on `/api/v1/*` never lets a request out into a route
 * outside it, and a public path never opens another route, whatever the spelling.
 */
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { apiModeSpec, type ApiModeOptions } from '../../src/core/enforce/api.js';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { matchApi } from '../../src/policy/api-match.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { indexGrants, type GrantIndex } from '../../src/policy/grants.js';
import { startExpress, startFastify, startKoa, startNest, TEMPLATES, useAliceAndBob, type AppInput, type PathApp, type Ran, type Who } from './apps.js';
import { raw } from './raw.js';

const PUBLIC_PATHS = ['/health', '/docs/*'];

const GRANTS: Record<'alice' | 'bob', AuthorizedResource[]> = {
  alice: [
    { resourceCode: 'v1', resourceType: 'API', apiIdentifier: '/api/v1/*', actions: ['read'], effect: 'ALLOW' },
    { resourceCode: 'keys', resourceType: 'API', apiIdentifier: '/api/v1/keys', actions: ['*'], effect: 'DENY' },
    { resourceCode: 'admin', resourceType: 'API', apiIdentifier: '/api/v1/admin/*', actions: ['*'], effect: 'DENY' },
    { resourceCode: 'cafe', resourceType: 'API', apiIdentifier: '/api/v1/café', actions: ['*'], effect: 'DENY' },
  ],
  bob: [{ resourceCode: 'users', resourceType: 'API', apiIdentifier: '/api/v1/users', actions: ['read'], effect: 'ALLOW' }],
};
const WHO: Who[] = ['alice', 'bob', 'none'];

/** U+212A KELVIN SIGN, percent-encoded: `String#toLowerCase()` turns it into ASCII `k`. */
const K = '%E2%84%AA';

/** The path table: spellings of denied, allowed and public paths, and targets the guard refuses. */
const TARGETS = [
  // the denied `/api/v1/keys`: case, Unicode case, encoding, slashes, semicolons, dot segments
  '/api/v1/keys',
  '/api/v1/keys/',
  '/API/V1/KEYS',
  '/api/v1/Keys/',
  `/api/v1/${K}eys`,
  `/api/v1/${K}EYS/`,
  `/API/V1/${K.toLowerCase()}eys`,
  '/api/v1/%6Beys',
  '/api/v1/%4Beys/',
  '/api/v1/k%65ys',
  '/%61pi/v1/keys',
  '//api/v1/keys',
  '/api//v1/keys',
  '/api/v1//keys',
  '/api/v1/keys//',
  '/api/v1/keys;x=1',
  '/api/v1/keys;',
  '/api/v1;x/keys',
  '/api/v1/keys%3B',
  '/api/v1/./keys',
  '/api/v1/x/../keys',
  '/api/v1/%2e/keys',
  '/api/v1/keys/.',
  '/api/v1/keys%2F',
  '/api/v1%2Fkeys',
  '/api/v1/keys?x=1',
  '/api/v1/keys#x',
  '/api/v1/keys%23',
  'http://evil.example/api/v1/keys',
  'HTTP://evil.example/API/V1/KEYS/',
  // the denied `/api/v1/admin/*` and `/api/v1/café`
  '/api/v1/admin/x',
  '/API/V1/ADMIN/X/',
  '/api/v1/%61dmin/x',
  '/api/v1/Admin/x;y',
  '/api/v1/adm%C4%B0n/x',
  '/api/v1/caf%C3%A9',
  '/api/v1/CAF%C3%89',
  '/api/v1/caf%c3%a9/',
  '/API/V1/CAF%C3%A9',
  '/api/v1/cafe%CC%81',
  // allowed paths, under the wildcard or exactly (bob)
  '/api/v1/users',
  '/API/V1/USERS',
  '/api/v1/users/',
  '/api/v1/%75sers',
  '/api/v1/users/7',
  '/API/V1/USERS/7/',
  '/api/v1/a/b/c',
  '/API/V1/a/b/c',
  '/api/v1/x',
  // public paths
  '/health',
  '/HEALTH',
  '/health/',
  `/healt%68`,
  '/docs/intro',
  '/DOCS/intro',
  '/docs/intro/',
  '/Docs/%69ntro',
  // elsewhere
  '/internal/secret',
  '/INTERNAL',
  '/api/v2/x',
  '/',
];

/** A framework under one router option set. */
interface Case {
  label: string;
  start(input: AppInput): Promise<PathApp>;
  /** API-mode options the user must pass because the guard cannot read them (Express Router, @koa/router). */
  api?: ApiModeOptions;
  /** The router folds case: `/API/V1/USERS/7` reaches the `user` route. */
  folds: boolean;
  /**
   * ALLOW patterns and public paths fold too: the router folds and the api options opt in with
   * `caseSensitive: false` (by default they match case-sensitively, whatever the router folds).
   */
  allowFolds?: boolean;
  /** The router ignores a trailing slash: `/api/v1/users/` reaches the `users` route. */
  slashIgnored: boolean;
}

const ALL_FASTIFY = { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true };

const CASES: Case[] = [
  ...([4, 5] as const).flatMap((v): Case[] => [
    { label: `Express ${v} defaults`, start: (i) => startExpress(v, {}, i), folds: true, slashIgnored: true },
    { label: `Express ${v} case sensitive routing`, start: (i) => startExpress(v, { settings: { 'case sensitive routing': true } }, i), folds: false, slashIgnored: true },
    { label: `Express ${v} strict routing`, start: (i) => startExpress(v, { settings: { 'strict routing': true } }, i), folds: true, slashIgnored: false },
    {
      label: `Express ${v} case sensitive and strict routing`,
      start: (i) => startExpress(v, { settings: { 'case sensitive routing': true, 'strict routing': true } }, i),
      folds: false,
      slashIgnored: false,
    },
    {
      label: `Express ${v} Router({ caseSensitive, strict }) with the same api options`,
      start: (i) => startExpress(v, { router: { caseSensitive: true, strict: true } }, i),
      api: { caseSensitive: true, strict: true },
      folds: false,
      slashIgnored: false,
    },
  ]),
  ...([2, 3] as const).flatMap((v): Case[] => [
    { label: `Koa ${v} @koa/router defaults`, start: (i) => startKoa(v, {}, i), folds: true, slashIgnored: true },
    // A sensitive @koa/router needs nothing: ALLOW patterns and public paths are case-sensitive by default.
    { label: `Koa ${v} @koa/router sensitive`, start: (i) => startKoa(v, { router: { sensitive: true } }, i), folds: false, slashIgnored: true },
    { label: `Koa ${v} @koa/router strict`, start: (i) => startKoa(v, { router: { strict: true } }, i), api: { strict: true }, folds: true, slashIgnored: false },
    {
      label: `Koa ${v} @koa/router sensitive and strict`,
      start: (i) => startKoa(v, { router: { sensitive: true, strict: true } }, i),
      api: { strict: true },
      folds: false,
      slashIgnored: false,
    },
  ]),
  { label: 'Fastify defaults', start: (i) => startFastify({}, i), folds: false, slashIgnored: false },
  { label: 'Fastify caseSensitive: false', start: (i) => startFastify({ routerOptions: { caseSensitive: false } }, i), folds: true, slashIgnored: false },
  { label: 'Fastify ignoreTrailingSlash', start: (i) => startFastify({ routerOptions: { ignoreTrailingSlash: true } }, i), folds: false, slashIgnored: true },
  { label: 'Fastify ignoreDuplicateSlashes', start: (i) => startFastify({ routerOptions: { ignoreDuplicateSlashes: true } }, i), folds: false, slashIgnored: false },
  { label: 'Fastify useSemicolonDelimiter', start: (i) => startFastify({ routerOptions: { useSemicolonDelimiter: true } }, i), folds: false, slashIgnored: false },
  { label: 'Fastify all four under routerOptions', start: (i) => startFastify({ routerOptions: ALL_FASTIFY }, i), folds: true, slashIgnored: true },
  { label: 'Fastify all four top-level (deprecated spelling)', start: (i) => startFastify({ ...ALL_FASTIFY }, i), folds: true, slashIgnored: true },
  {
    // Fastify's initialConfig fills routerOptions.ignoreTrailingSlash with false here, while the router
    // takes the top-level true: the guard reads it as significant, which only makes it stricter.
    label: 'Fastify top-level ignoreTrailingSlash with routerOptions.caseSensitive: false',
    start: (i) => startFastify({ ignoreTrailingSlash: true, routerOptions: { caseSensitive: false } }, i),
    folds: true,
    slashIgnored: false,
  },
  { label: 'Nest (express) defaults', start: (i) => startNest({ platform: 'express' }, i), folds: true, slashIgnored: true },
  {
    label: 'Nest (express) case sensitive and strict routing',
    start: (i) => startNest({ platform: 'express', express: { 'case sensitive routing': true, 'strict routing': true } }, i),
    folds: false,
    slashIgnored: false,
  },
  { label: 'Nest (fastify) defaults', start: (i) => startNest({ platform: 'fastify' }, i), folds: false, slashIgnored: false },
  { label: 'Nest (fastify) all four under routerOptions', start: (i) => startNest({ platform: 'fastify', fastify: { routerOptions: ALL_FASTIFY } }, i), folds: true, slashIgnored: true },
];
// Every folding router again with the opt-in `caseSensitive: false`: ALLOW patterns and public paths
// then fold as that router does, never wider.
CASES.push(
  ...CASES.filter((c) => c.folds).map(
    (c): Case => ({ ...c, label: `${c.label}, api caseSensitive: false`, api: { ...c.api, caseSensitive: false }, allowFolds: true }),
  ),
);

/** The concrete path a handler was dispatched for: its template with the decoded parameters put back. */
function dispatchedPath(ran: Ran): string {
  const encode = (value: string | undefined) => (value ?? '').split('/').map(encodeURIComponent).join('/');
  return TEMPLATES[ran.route].replace(/:(\w+)|\*$/g, (_match, key: string | undefined) => encode(ran.params[key ?? '*']));
}

const INDEX: Record<'alice' | 'bob', GrantIndex> = { alice: indexGrants(GRANTS.alice), bob: indexGrants(GRANTS.bob) };
const EXACT_PUBLIC = apiModeSpec({ publicPaths: PUBLIC_PATHS, caseSensitive: true, strict: true });

/** Whether `who` may reach the dispatched path (public, or granted), judged exactly: no folding, no slash leniency. */
function mayReach(who: Who, path: string): boolean {
  const target = normalizeApiTarget(path);
  if (!target.ok) return false;
  if (EXACT_PUBLIC.isPublic(target)) return true;
  return who !== 'none' && matchApi(INDEX[who], 'GET', path, { caseSensitive: true, strict: true }).allowed;
}

/**
 * Statuses the table must show on every case (the rest is covered by the oracle). 404: Nest's guard
 * runs only on a routed request, and Nest on Fastify routes no `/health/` when the slash counts.
 */
const EXPECTED: Array<[Who, string, (c: Case) => number | number[]]> = [
  ['alice', `/api/v1/${K}eys`, () => 403],
  ['alice', `/api/v1/${K}EYS/`, () => 403],
  ['alice', '/api/v1/CAF%C3%89', () => 403],
  ['alice', '/api/v1/keys', () => 403],
  ['alice', '//api/v1/keys', () => 400],
  ['alice', '/api/v1//keys', () => 400],
  ['alice', '/api/v1/keys;x=1', () => 400],
  ['alice', '/api/v1/./keys', () => 400],
  ['alice', '/api/v1/users/7', () => 200],
  // On a strict router this reaches the `/api/v1/*` route, which alice's wildcard covers.
  ['alice', '/API/V1/USERS/7/', (c) => (c.allowFolds === true ? 200 : 403)],
  ['bob', '/api/v1/users', () => 200],
  ['bob', '/API/V1/USERS', (c) => (c.allowFolds === true ? 200 : 403)],
  ['bob', '/api/v1/users/', (c) => (c.slashIgnored ? 200 : [403, 404])],
  ['none', '/health', () => 200],
  ['none', '/HEALTH', (c) => (c.allowFolds === true ? 200 : 401)],
  ['none', '/health/', (c) => (c.slashIgnored ? 200 : [401, 404])],
  ['none', '/DOCS/intro', (c) => (c.allowFolds === true ? 200 : 401)],
];

const { emulator, tokens } = useAliceAndBob(GRANTS);

describe.each(CASES)('$label', (c) => {
  let app: PathApp;
  beforeEach(async () => {
    app = await c.start({ options: emulator().guardOptions(), api: { publicPaths: PUBLIC_PATHS, ...c.api } });
  });
  afterEach(async () => {
    await app.close();
  });

  it('replays the path table: no handler runs for a path the caller may not reach', async () => {
    const violations: string[] = [];
    const statuses = new Map<string, number>();
    for (const who of WHO) {
      for (const target of TARGETS) {
        app.ran.length = 0;
        const res = await raw(app.port, 'GET', target, tokens[who]);
        statuses.set(`${who} ${target}`, res.status);
        for (const ran of app.ran) {
          const path = dispatchedPath(ran);
          if (!mayReach(who, path)) violations.push(`${who} GET ${target} -> ${res.status}, ran '${ran.route}' for ${path}`);
        }
        if (app.ran.length === 0 && res.status === 200) violations.push(`${who} GET ${target} -> 200 without a handler`);
      }
    }
    expect(violations).toEqual([]);
    const wrong = EXPECTED.filter(([who, target, status]) => ![status(c)].flat().includes(statuses.get(`${who} ${target}`) ?? 0)).map(
      ([who, target, status]) => `${who} GET ${target}: ${statuses.get(`${who} ${target}`)}, expected ${String(status(c))}`,
    );
    expect(wrong).toEqual([]);
  });
});

describe('defect 16 as reported: Fastify with caseSensitive: false', () => {
  it('GET /api/v1/%E2%84%AAeys is routed to the keys handler: the DENY on /api/v1/keys holds (403, no handler)', async () => {
    const app = await startFastify({ caseSensitive: false }, { options: emulator().guardOptions(), api: {} });
    try {
      const res = await raw(app.port, 'GET', `/api/v1/${K}eys`, tokens.alice);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
      expect(app.ran).toEqual([]);
      // Without the DENY, the same request reaches the keys handler: the router does fold it.
      emulator().setGrants('carol', [GRANTS.alice[0] as AuthorizedResource]);
      const carol = await raw(app.port, 'GET', `/api/v1/${K}eys`, { authorization: `Bearer ${await emulator().mintToken('carol')}` });
      expect(carol.status).toBe(200);
      expect(app.ran.map((r) => r.route)).toEqual(['keys']);
    } finally {
      await app.close();
    }
  });

  it('fastify.genauth.api() on an encapsulated scope reads the instance router options too', async () => {
    const { default: Fastify } = await import('fastify');
    const { genauthGuard } = await import('../../src/adapters/fastify.js');
    const app = Fastify({ routerOptions: { caseSensitive: false } });
    await app.register(genauthGuard, emulator().guardOptions());
    const ran: string[] = [];
    await app.register(async (scope) => {
      scope.addHook('onRequest', scope.genauth.api({ publicPaths: ['/api/v1/health'], caseSensitive: false }));
      scope.get('/api/v1/keys', async () => (ran.push('keys'), { ok: true }));
      scope.get('/api/v1/health', async () => (ran.push('health'), { ok: true }));
    });
    await app.register(async (scope) => {
      scope.addHook('onRequest', scope.genauth.api({ publicPaths: ['/api/v2/health'] }));
      scope.get('/api/v2/health', async () => (ran.push('health v2'), { ok: true }));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      expect((await raw(port, 'GET', `/API/V1/${K}EYS`, tokens.alice)).status).toBe(403);
      // The router folds case, and so does the public path under caseSensitive: false: no token
      // needed for any spelling it routes.
      expect((await raw(port, 'GET', '/API/V1/HEALTH')).status).toBe(200);
      // By default a public path matches only its own case, whatever the router folds.
      expect((await raw(port, 'GET', '/API/V2/HEALTH')).status).toBe(401);
      expect((await raw(port, 'GET', '/api/v2/health')).status).toBe(200);
      expect(ran).toEqual(['health', 'health v2']);
    } finally {
      await app.close();
    }
  });
});
