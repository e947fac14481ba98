// API mode compiles a user's API grants into path tries (src/policy/api-compile.ts) that live as long
// as the cached grants, about 400 bytes per grant on V8 (bench/memory.mjs measures it). The byte budget
// (`cache.maxBytes`) only holds if the size lru-cache charges for the user counts them: the cache
// measures the entry again when API mode compiles it. Route mode compiles nothing and is charged nothing.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { packText } from '../../src/cache/grant-sets.js';
import { compiledApiBytes } from '../../src/policy/api-compile.js';
import { createApiMatcher } from '../../src/policy/api-match.js';
import { stringBytes } from '../../src/policy/grant-bytes.js';
import { indexGrants } from '../../src/policy/grants.js';
import type { AuthorizedResource } from '../../src/wire.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, closeAfterEach, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => {
  resetEmulator(emulator());
});

const N = 100;
/**
 * The least a compiled API grant holds, whatever its path: the trie's record of it and its entry, its
 * slot in its node's list, and a node of its own. Measured at 325 to 2,300 bytes per grant (by the
 * path's shape) on Node 20; 250 is a floor.
 */
const COMPILED_GRANT_FLOOR = 250;

function serverGrants(resourceType: 'API' | 'DATA'): AuthorizedResource[] {
  return Array.from({ length: N }, (_, i) => ({
    resourceCode: `ecs:u-${i}`,
    resourceType,
    apiIdentifier: `/api/v1/servers/u-${i}`,
    actions: ['read'],
    effect: 'ALLOW',
    description: '',
    condition: [],
  }));
}

/** An app with one route-mode route (`/r/:id`) and API mode on everything else. */
function app(options: Pick<ExpressGuardOptions, 'cache' | 'clock'> = {}) {
  const guard = createExpressGuard({ ...emulator().guardOptions(), logger: false, ...options });
  track(guard);
  const server = express();
  server.get('/r/:id', guard.requirePermission((req) => `ecs:${req.params.id}`, 'read'), (_req, res) => void res.send('ok'));
  server.use(guard.api());
  server.get('/api/v1/servers/:id', (_req, res) => void res.send('ok'));
  return { server, guard };
}

const as = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;

describe('the cache charges what API mode compiles per user', () => {
  it('after an API-mode request, a user costs at least the compiled tries more than the same grants as DATA', async () => {
    const { server, guard } = app();
    // The same strings, so the same bytes but for the tries: DATA grants take no part in API mode.
    emulator().setGrants('data-user', serverGrants('DATA'));
    await request(server).get('/api/v1/servers/u-7').set('authorization', await as('data-user')).expect(403);
    const dataUser = guard.cacheStats().bytes;

    emulator().setGrants('api-user', serverGrants('API'));
    await request(server).get('/api/v1/servers/u-7').set('authorization', await as('api-user')).expect(200);
    const stats = guard.cacheStats();
    expect(stats.entries).toBe(2);
    const apiUser = stats.bytes - dataUser;
    expect(apiUser - dataUser).toBeGreaterThanOrEqual(N * COMPILED_GRANT_FLOOR);
  });

  it('route mode compiles nothing and is charged nothing for API grants', async () => {
    const { server, guard } = app();
    // Served as given, so each set's JSON text is that of the list here.
    emulator().setRawGrants('data-user', serverGrants('DATA'));
    emulator().setRawGrants('api-user', serverGrants('API'));
    await request(server).get('/r/u-7').set('authorization', await as('data-user')).expect(200);
    const dataUser = guard.cacheStats().bytes;
    await request(server).get('/r/u-7').set('authorization', await as('api-user')).expect(200);
    // The sets differ only in their JSON text, kept deflated ('API' against 'DATA'; the type itself is
    // a shared constant once normalized), and 'api-user' is one character shorter than 'data-user'.
    const packed = (list: AuthorizedResource[]) => stringBytes(packText(JSON.stringify(list)));
    expect(guard.cacheStats().bytes - dataUser).toBe(dataUser - 2 + packed(serverGrants('API')) - packed(serverGrants('DATA')));
  });

  it('a user whose grants fit maxEntryBytes but not with their tries leaves the cache once compiled', async () => {
    emulator().setGrants('api-user', serverGrants('API'));
    // What the user is charged as loaded (route mode), measured on a guard of its own.
    const probe = app();
    await request(probe.server).get('/r/u-7').set('authorization', await as('api-user')).expect(200);
    const loaded = probe.guard.cacheStats().bytes;
    const { server, guard } = app({ cache: { maxEntryBytes: loaded + 2_000 } });
    await request(server).get('/r/u-7').set('authorization', await as('api-user')).expect(200);
    expect(guard.cacheStats().entries).toBe(1);
    await request(server).get('/api/v1/servers/u-7').set('authorization', await as('api-user')).expect(200);
    expect(guard.cacheStats().entries).toBe(0);
  });

  it('measuring the entry again keeps its ttl', async () => {
    emulator().setGrants('api-user', serverGrants('API'));
    const time = manualClock();
    const { server } = app({ cache: { ttl: 1_000, staleWhileRevalidate: false }, clock: time.clock });
    const token = await as('api-user');
    await request(server).get('/r/u-7').set('authorization', token).expect(200); // loaded, not compiled
    time.advance(900);
    await request(server).get('/api/v1/servers/u-7').set('authorization', token).expect(200); // compiled: measured again
    expect(emulator().callCount(RESOURCES)).toBe(1);
    time.advance(101); // past the ttl of the load, not of the second measure
    await request(server).get('/api/v1/servers/u-7').set('authorization', token).expect(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('compiledApiBytes', () => {
  const api = (apiIdentifier: string, effect: 'ALLOW' | 'DENY' = 'ALLOW'): AuthorizedResource => ({
    resourceCode: `c${apiIdentifier}${effect}`,
    resourceType: 'API',
    apiIdentifier,
    actions: ['read'],
    effect,
    description: '',
    condition: [],
  });
  const matcher = createApiMatcher({});
  /** Bytes of the compiled form of these entries under the default (Express) router. */
  const compiled = (entries: AuthorizedResource[]) => {
    const index = indexGrants(entries);
    matcher.compile(index);
    return compiledApiBytes(index);
  };

  it('is 0 before anything is compiled, then at least the floor per API grant', () => {
    const index = indexGrants([api('/a'), api('/b', 'DENY')]);
    expect(compiledApiBytes(index)).toBe(0);
    matcher.compile(index);
    expect(compiledApiBytes(index)).toBeGreaterThanOrEqual(2 * COMPILED_GRANT_FLOOR);
  });

  it('counts every compiled form: another router case fold compiles, and is charged, again', () => {
    // Only under caseSensitive: false do ALLOW patterns follow the router's fold (else they never fold).
    const matcher = createApiMatcher({ caseSensitive: false });
    const index = indexGrants([api('/a/b'), api('/c/d')]);
    matcher.compile(index);
    const one = compiledApiBytes(index);
    matcher.compile(index); // the same form again: nothing new
    expect(compiledApiBytes(index)).toBe(one);
    matcher.compile(index, { caseFold: 'none', ignoreTrailingSlash: true });
    expect(compiledApiBytes(index)).toBeGreaterThanOrEqual(2 * one - 1_000);
  });

  it('charges a path prefix shared by two patterns once', () => {
    const one = compiled([api('/shared/prefix/a')]);
    const sharing = compiled([api('/shared/prefix/a'), api('/shared/prefix/b')]);
    const apart = compiled([api('/shared/prefix/a'), api('/sharex/prefix/b')]);
    expect(sharing).toBeGreaterThan(one);
    expect(sharing).toBeLessThan(apart);
  });

  it('grows with the path\'s depth and length', () => {
    expect(compiled([api(`/${'x'.repeat(1000)}`)])).toBeGreaterThanOrEqual(compiled([api('/x')]) + 999);
    const deep = `/${Array.from({ length: 1_000 }, (_, i) => `s${i}`).join('/')}`;
    expect(compiled([api(deep)])).toBeGreaterThan(1_000 * COMPILED_GRANT_FLOOR);
  });
});
