/**
 * The adapter conformance suite: the same cases, over real HTTP, against every adapter.
 *
 * Adding an adapter = adding one row to ROWS (type `AdapterRow` in ./row.ts), with its app factories
 * in ./apps/<name>.ts:
 *
 *   - `name`: shown in test names.
 *   - `start(fixture)`: starts the standard app on 127.0.0.1:0 with the guard built from
 *     `fixture.options`, and these routes (the handler calls `fixture.handled()` and answers
 *     `{ ok: true, user: identity.userId, reason: decision?.reason }` as JSON):
 *       POST   /api/v1/servers/:id/start  requirePermission(req => `ecs:${id}`, 'ecs:Start')
 *       GET    /api/v1/reports            requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] })
 *       DELETE /api/v1/disks/:id          requirePermission(async req => `disk:${id}`, 'disk:Delete')
 *       GET    /api/v1/me                 authenticate()
 *     Resolves `{ port, close }`; `close()` stops the server and closes the guard.
 *   - `startApi(fixture)` (optional until the adapter has API mode): the adapter's `api(fixture.api)` in
 *     front of a catch-all handler (every method, every path) that calls `fixture.handled()` and answers
 *     `{ ok: true, user }` (`user` = identity.userId, or null on a public path).
 *
 * Every rejection is compared with the Express 5 reference app answering the same request: status,
 * the COMPARED_HEADERS and the body must be byte-identical. API-mode answers (allowed ones too) are
 * compared with the core oracle (apps/oracle.ts). Tests start fresh apps per case, so no cached grant
 * leaks from one case into the next.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import { startEmulator, type GenAuthEmulator, type GrantInput } from '../../src/testing/index.js';
import { express4Row, express5Row } from './apps/express.js';
import { fastifyRow } from './apps/fastify.js';
import { koa2Row, koaRow } from './apps/koa.js';
import { nestExpressRow } from './apps/nest-express.js';
import { nestFastifyRow } from './apps/nest-fastify.js';
import { startOracle } from './apps/oracle.js';
import { comparable, send, type Answer, type Send } from './http.js';
import type { AdapterRow, RunningApp } from './row.js';
import { bearerFor, RESOURCES, seedStandardTenant } from '../fixtures.js';
import type { MintOptions } from '../../src/testing/index.js';

const ROWS: AdapterRow[] = [express4Row, express5Row, koaRow, koa2Row, fastifyRow, nestExpressRow, nestFastifyRow];
const REFERENCE = express5Row;

let emulator: GenAuthEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});

const seed = (): void => seedStandardTenant(emulator);
const bearer = (user: string, options?: MintOptions) => bearerFor(emulator, user, options);

/** Strings no answer may ever contain. */
function secrets(extra: string[] = []): string[] {
  const { genauth } = emulator.guardOptions();
  return [genauth.accessKeySecret, ...extra].filter((s): s is string => typeof s === 'string' && s.length >= 8);
}

function expectNoLeak(answer: Answer, forbidden: string[]): void {
  const text = answer.body + JSON.stringify(answer.headers);
  for (const secret of forbidden) expect(text).not.toContain(secret);
}

describe.each(ROWS)('$name', (row) => {
  let app: RunningApp;
  let ref: RunningApp;
  let handled: number;
  let refHandled: number;

  beforeEach(async () => {
    seed();
    handled = 0;
    refHandled = 0;
    app = await row.start({ options: emulator.guardOptions(), handled: () => void handled++ });
    ref = await REFERENCE.start({ options: emulator.guardOptions(), handled: () => void refHandled++ });
  });
  afterEach(async () => {
    await Promise.all([app.close(), ref.close()]);
  });

  /** Sends to the row's app and to the reference; the comparable parts must be byte-identical. */
  async function same(request: Send): Promise<Answer> {
    const mine = await send(app.port, request);
    const theirs = await send(ref.port, request);
    expect(comparable(mine)).toEqual(comparable(theirs));
    return mine;
  }

  /** A rejection: identical to the reference, problem+json, no handler ran, nothing leaked. */
  async function rejected(request: Send, status: number, code: string, leaks: string[] = []): Promise<Answer> {
    const answer = await same(request);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['cache-control']).toBe('no-store');
    if (request.method !== 'HEAD') expect(JSON.parse(answer.body)).toMatchObject({ status, code });
    expect(handled).toBe(0);
    expect(refHandled).toBe(0);
    const token = request.headers?.authorization?.replace(/^Bearer /, '');
    expectNoLeak(answer, secrets([...(token ? [token, token.split('.').at(-1) ?? ''] : []), ...leaks]));
    return answer;
  }

  describe('decisions', () => {
    it('allows a granted action and exposes identity and decision', async () => {
      const res = await same({ method: 'POST', target: '/api/v1/servers/1/start', headers: { authorization: await bearer('alice') } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
      expect(handled).toBe(1);
    });

    it('denies with 403 insufficient_scope', async () => {
      const res = await rejected(
        { method: 'POST', target: '/api/v1/servers/2/start', headers: { authorization: await bearer('alice') } },
        403,
        'ERR_PERMISSION_DENIED',
      );
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"');
    });

    it('DENY overrides a wildcard ALLOW; the wildcard allows the rest', async () => {
      const authorization = await bearer('alice');
      await rejected({ method: 'DELETE', target: '/api/v1/disks/9', headers: { authorization } }, 403, 'ERR_PERMISSION_DENIED');
      const allowed = await same({ method: 'DELETE', target: '/api/v1/disks/8', headers: { authorization } });
      expect(allowed.status).toBe(200);
      expect(handled).toBe(1);
    });

    it('anyOf: another listed action is enough', async () => {
      const res = await same({ method: 'GET', target: '/api/v1/reports', headers: { authorization: await bearer('bob') } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ user: 'bob' });
    });

    it('a user GenAuth does not know is denied, not an outage', async () => {
      await rejected({ target: '/api/v1/reports', headers: { authorization: await bearer('nobody') } }, 403, 'ERR_PERMISSION_DENIED');
    });

    it('authenticate() only verifies the token', async () => {
      const res = await same({ target: '/api/v1/me', headers: { authorization: await bearer('bob') } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ ok: true, user: 'bob' });
    });
  });

  describe('tokens', () => {
    it('no token: 401 with a bare challenge', async () => {
      const res = await rejected({ target: '/api/v1/reports' }, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('no token on authenticate(): 401', async () => {
      const res = await rejected({ target: '/api/v1/me' }, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('another scheme counts as no token', async () => {
      const res = await rejected({ target: '/api/v1/reports', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } }, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('a bad token: 401 invalid_token', async () => {
      const res = await rejected({ target: '/api/v1/reports', headers: { authorization: 'Bearer not.a.jwt' } }, 401, 'ERR_INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="The token is malformed"');
    });

    it('an expired token: 401 invalid_token', async () => {
      const authorization = await bearer('alice', { expiresIn: -120 });
      const res = await rejected({ method: 'POST', target: '/api/v1/servers/1/start', headers: { authorization } }, 401, 'ERR_INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="The token has expired"');
    });

    it('a token signed for another audience: 401 invalid_token', async () => {
      const authorization = await bearer('alice', { audience: 'other-app' });
      await rejected({ target: '/api/v1/reports', headers: { authorization } }, 401, 'ERR_INVALID_TOKEN');
    });

    it('a malformed Bearer header: 400 invalid_request', async () => {
      const res = await rejected({ target: '/api/v1/reports', headers: { authorization: 'Bearer a b' } }, 400, 'ERR_INVALID_REQUEST');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    });

    it('HEAD on a protected GET route: the same 401 headers, no body', async () => {
      const res = await rejected({ method: 'HEAD', target: '/api/v1/reports' }, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(res.body).toBe('');
    });
  });

  describe('upstream outage', () => {
    it.each([
      ['HTTP 500', { kind: 'status', status: 500 }],
      ['HTTP 429 with Retry-After', { kind: 'status', status: 429, retryAfter: 7 }],
      ['200 with an error body', { kind: 'body-error', statusCode: 500, message: 'internal upstream detail' }],
      ['dropped connection', { kind: 'drop' }],
    ] as const)('%s -> 503 with Retry-After, never 401/403', async (_label, fault) => {
      emulator.fault({ ...fault, path: RESOURCES } as never);
      const res = await rejected(
        { target: '/api/v1/reports', headers: { authorization: await bearer('alice') } },
        503,
        'ERR_PERMISSIONS_UNAVAILABLE',
        ['internal upstream detail'],
      );
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('JWKS unreachable -> 503, not 401', async () => {
      emulator.setJwksAvailable(false);
      const res = await rejected({ target: '/api/v1/reports', headers: { authorization: await bearer('alice') } }, 503, 'ERR_KEYS_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });
});

/**
 * API mode: the adapter's `api()` in front of a catch-all handler, compared with the core oracle
 * (apps/oracle.ts: node:http handing the raw target to `enforceApi`), since frameworks route the same
 * target differently (case, trailing slash, encoding) and the guard's answer must not follow them.
 * Every app's router folds case and ignores a trailing slash, as the oracle assumes: ALLOW patterns and
 * public paths never match wider than the router, and by default match case-sensitively whatever it
 * folds (test/paths/router-options.test.ts and allow-case.test.ts cover the rest).
 */
const API_GRANTS = [
  { resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers' },
  { resourceCode: 'server', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers/:id' },
  { resourceCode: 'server-start', resourceType: 'API', actions: ['create'], apiIdentifier: '/api/v1/servers/:id/start' },
  { resourceCode: 'server-9', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/v1/servers/9/start', effect: 'DENY' },
] satisfies GrantInput[];

/** [label, method, target, who, expected status (undefined: only "same as the oracle")]. */
type ApiCase = [string, string, string, 'alice' | 'none' | 'bad', number | undefined];

const API_SUITES: Array<{ label: string; api: ApiModeOptions; cases: ApiCase[] }> = [
  {
    label: 'defaults (ALLOW case-sensitive, trailing slash ignored)',
    api: { publicPaths: ['/health'] },
    cases: [
      ['GET allowed', 'GET', '/api/v1/servers', 'alice', 200],
      ['HEAD follows GET', 'HEAD', '/api/v1/servers', 'alice', 200],
      ['HEAD without a token', 'HEAD', '/api/v1/servers', 'none', 401],
      ['no token', 'GET', '/api/v1/servers', 'none', 401],
      ['bad token', 'GET', '/api/v1/servers', 'bad', 401],
      ['method without a grant', 'POST', '/api/v1/servers', 'alice', 403],
      ['path parameter', 'POST', '/api/v1/servers/1/start', 'alice', 200],
      ['DENY overrides', 'POST', '/api/v1/servers/9/start', 'alice', 403],
      ['DENY ignores case', 'POST', '/API/V1/SERVERS/9/START', 'alice', 403],
      ['DENY ignores a trailing slash', 'POST', '/api/v1/servers/9/start/', 'alice', 403],
      ['upper case', 'GET', '/API/V1/Servers', 'alice', 403],
      ['trailing slash', 'GET', '/api/v1/servers/', 'alice', 200],
      ['query string', 'GET', '/api/v1/servers?page=2&x=%2F', 'alice', 200],
      ['unmatched path', 'GET', '/nope', 'alice', 403],
      ['unmapped method', 'OPTIONS', '/api/v1/servers', 'alice', 403],
      ['public path', 'GET', '/health', 'none', 200],
      ['public path with a slash', 'GET', '/health/', 'none', 200],
      ['public path, other case and slash', 'GET', '/HEALTH/', 'none', 401],
      ['percent-encoded letter', 'GET', '/api/v1/%73ervers', 'alice', undefined],
      ['encoded slash', 'POST', '/api/v1/servers/9%2Fstart', 'alice', undefined],
      ['encoded DENY path', 'POST', '/api/v1/servers/%39/start', 'alice', 403],
      ['dot segments', 'POST', '/api/v1/servers/1/../9/start', 'alice', undefined],
      ['double slash', 'GET', '//api/v1/servers', 'alice', undefined],
      ['bad percent-encoding', 'GET', '/api/v1/servers/%ZZ', 'alice', undefined],
      ['encoded NUL', 'GET', '/api/v1/servers/%00', 'alice', undefined],
    ],
  },
  {
    label: 'caseSensitive: true',
    api: { caseSensitive: true },
    cases: [
      ['exact case', 'GET', '/api/v1/servers', 'alice', 200],
      ['other case', 'GET', '/API/V1/SERVERS', 'alice', 403],
      ['DENY still ignores case', 'POST', '/API/V1/SERVERS/9/START', 'alice', 403],
    ],
  },
  {
    label: 'caseSensitive: false (fold as the router does)',
    api: { caseSensitive: false, publicPaths: ['/health'] },
    cases: [
      ['exact case', 'GET', '/api/v1/servers', 'alice', 200],
      ['upper case', 'GET', '/API/V1/Servers', 'alice', 200],
      ['parameter value in other case', 'POST', '/API/V1/SERVERS/1/START', 'alice', 200],
      ['public path, other case and slash', 'GET', '/HEALTH/', 'none', 200],
      ['DENY still ignores case', 'POST', '/API/V1/SERVERS/9/START', 'alice', 403],
    ],
  },
  {
    label: 'strict',
    api: { strict: true, publicPaths: ['/health'] },
    cases: [
      ['no trailing slash', 'GET', '/api/v1/servers', 'alice', 200],
      ['trailing slash', 'GET', '/api/v1/servers/', 'alice', 403],
      ['public path with a slash is not public', 'GET', '/health/', 'none', 401],
    ],
  },
];

describe.each(ROWS)('$name API mode', (row) => {
  if (!row.startApi) {
    it.todo('API mode (the adapter has no startApi yet)');
    return;
  }
  const startApi = row.startApi;

  describe.each(API_SUITES)('$label', ({ api, cases }) => {
    let app: RunningApp;
    let oracle: RunningApp;
    let handled: number;
    let oracleHandled: number;

    beforeEach(async () => {
      seed();
      emulator.setGrants('alice', API_GRANTS);
      handled = 0;
      oracleHandled = 0;
      app = await startApi({ options: emulator.guardOptions(), api, handled: () => void handled++ });
      oracle = await startOracle({ options: emulator.guardOptions(), api, handled: () => void oracleHandled++ });
    });
    afterEach(async () => {
      await Promise.all([app.close(), oracle.close()]);
    });

    it.each(cases)('%s: %s %s', async (_label, method, target, who, status) => {
      const headers: Record<string, string> =
        who === 'alice' ? { authorization: await bearer('alice') } : who === 'bad' ? { authorization: 'Bearer not.a.jwt' } : {};
      const mine = await send(app.port, { method, target, headers });
      const theirs = await send(oracle.port, { method, target, headers });
      expect(comparable(mine)).toEqual(comparable(theirs));
      if (status !== undefined) expect(mine.status).toBe(status);
      // The handler ran exactly when the guard let the request through.
      expect(handled).toBe(theirs.status === 200 ? 1 : 0);
      expect(handled).toBe(oracleHandled);
      if (mine.status >= 400) {
        expect(mine.headers['content-type']).toBe('application/problem+json');
        expectNoLeak(mine, secrets(headers.authorization ? [headers.authorization.slice(7)] : []));
      }
    });
  });
});
