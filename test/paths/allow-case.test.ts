/**
 * A router folds case only on its routes' literal segments: a parameter or a wildcard reaches the
 * handler as sent. So an ALLOW `/files/public/*` (or a public path `/files/public/*`) matched with the
 * router's folding lets `GET /FILES/PUBLIC/A` run a route `/files/*` with `PUBLIC/A`, a value the
 * grant never named: on a case-sensitive store, another resource. ALLOW patterns and public paths
 * therefore match case-sensitively by default, on every folding router (Express, Koa with
 * @koa/router, Fastify with `caseSensitive: false`, Nest on both); `caseSensitive: false` is the
 * opt-in to the router's folding. A DENY folds whatever the options say.
 *
 * Real apps over HTTP (differential-apps.ts: the route `/files/*` among others), the emulator as
 * GenAuth. The oracle is the handler that ran, with the value its router gave the wildcard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { startExpressDiff, startFastifyDiff, startKoaDiff, startNestDiff, type DiffApp, type DiffInput } from './differential-apps.js';
import { raw } from './raw.js';

const api = (code: string, apiIdentifier: string, effect: 'ALLOW' | 'DENY'): AuthorizedResource => ({
  resourceCode: code,
  resourceType: 'API',
  apiIdentifier,
  actions: effect === 'DENY' ? ['*'] : ['read'],
  effect,
});

/** bob: an ALLOW on the public part of `/files/*` only; carol: everything but a DENY on the private part. */
const GRANTS = {
  bob: [api('files', '/files/public/*', 'ALLOW')],
  carol: [api('all', '/*', 'ALLOW'), api('private', '/files/private/*', 'DENY')],
};

const FASTIFY_FOLDING = { routerOptions: { caseSensitive: false } };

/** Routers that fold the case of their route literals (each its own way). */
const APPS: Array<{ label: string; start(input: DiffInput): Promise<DiffApp> }> = [
  { label: 'Express 4', start: (i) => startExpressDiff(4, {}, i) },
  { label: 'Express 5', start: (i) => startExpressDiff(5, {}, i) },
  { label: 'Koa 2 with @koa/router', start: (i) => startKoaDiff(2, i) },
  { label: 'Koa 3 with @koa/router', start: (i) => startKoaDiff(3, i) },
  { label: 'Fastify, caseSensitive: false', start: (i) => startFastifyDiff(FASTIFY_FOLDING, i) },
  { label: 'Nest on Express', start: (i) => startNestDiff({ platform: 'express' }, i) },
  { label: 'Nest on Fastify, caseSensitive: false', start: (i) => startNestDiff({ platform: 'fastify', fastify: FASTIFY_FOLDING }, i) },
];

let emulator: GenAuthEmulator;
const auth: Record<'bob' | 'carol', Record<string, string>> = { bob: {}, carol: {} };

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('bob', GRANTS.bob);
  emulator.setGrants('carol', GRANTS.carol);
  auth.bob = { authorization: `Bearer ${await emulator.mintToken('bob')}` };
  auth.carol = { authorization: `Bearer ${await emulator.mintToken('carol')}` };
});
afterAll(async () => {
  await emulator?.close();
});

describe.each(APPS)('$label', ({ start }) => {
  let byDefault: DiffApp;
  let folding: DiffApp;
  const publicPaths = ['/files/public/*'];
  beforeAll(async () => {
    const defaults: ApiModeOptions = { publicPaths };
    byDefault = await start({ options: emulator.guardOptions(), api: defaults, guarded: true });
    folding = await start({ options: emulator.guardOptions(), api: { publicPaths, caseSensitive: false }, guarded: true });
  });
  afterAll(async () => {
    await byDefault?.close();
    await folding?.close();
  });

  /** Sends GET `target`; the status and the handlers that ran (route and wildcard value). */
  async function get(app: DiffApp, target: string, headers: Record<string, string> = {}) {
    app.ran.length = 0;
    const res = await raw(app.port, 'GET', target, headers);
    return { status: res.status, code: /"code":"([^"]+)"/.exec(res.body)?.[1], ran: app.ran.map((r) => `${r.route} ${r.params['*'] ?? ''}`) };
  }

  it('an ALLOW on /files/public/* does not run /files/* for /FILES/PUBLIC/A (403), but does for its own spelling', async () => {
    expect(await get(byDefault, '/FILES/PUBLIC/A', auth.bob)).toEqual({ status: 403, code: 'ERR_PERMISSION_DENIED', ran: [] });
    expect(await get(byDefault, '/files/PUBLIC/a', auth.bob)).toEqual({ status: 403, code: 'ERR_PERMISSION_DENIED', ran: [] });
    expect(await get(byDefault, '/files/public/a', auth.bob)).toMatchObject({ status: 200, ran: ['files public/a'] });
  });

  it('a public /files/public/* does not open /FILES/PUBLIC/A without a token (401), but does its own spelling', async () => {
    expect(await get(byDefault, '/FILES/PUBLIC/A')).toEqual({ status: 401, code: 'ERR_MISSING_TOKEN', ran: [] });
    expect(await get(byDefault, '/files/Public/a')).toEqual({ status: 401, code: 'ERR_MISSING_TOKEN', ran: [] });
    expect(await get(byDefault, '/files/public/a')).toMatchObject({ status: 200, ran: ['files public/a'] });
  });

  it('caseSensitive: false opts in to the router folding: /FILES/PUBLIC/A runs /files/* with PUBLIC/A', async () => {
    expect(await get(folding, '/FILES/PUBLIC/A', auth.bob)).toMatchObject({ status: 200, ran: ['files PUBLIC/A'] });
    expect(await get(folding, '/FILES/PUBLIC/A')).toMatchObject({ status: 200, ran: ['files PUBLIC/A'] });
  });

  it('a DENY still folds case under the default, and under caseSensitive: false', async () => {
    for (const app of [byDefault, folding]) {
      expect(await get(app, '/FILES/PRIVATE/K', auth.carol)).toEqual({ status: 403, code: 'ERR_PERMISSION_DENIED', ran: [] });
      expect(await get(app, '/files/Private/k', auth.carol)).toEqual({ status: 403, code: 'ERR_PERMISSION_DENIED', ran: [] });
      expect(await get(app, '/files/other/k', auth.carol)).toMatchObject({ status: 200, ran: ['files other/k'] });
    }
  });
});
