// The core's whole check of one request: answered at once (no promise) when the token and the user's
// grants are cached, a promise otherwise, and never an answer from grants the cache let go of.
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { apiModeSpec } from '../../src/core/enforce/api.js';
import { routeSpec } from '../../src/core/enforce/route.js';
import { createGuard } from '../../src/core/guard.js';
import type { GenAuthContext, Guard } from '../../src/core/types.js';
import { InvalidRequestError, MissingTokenError, PermissionDeniedError } from '../../src/errors.js';
import { manualClock } from '../clock.js';
import { RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((guard) => guard.close()));
});

function guard(): Guard {
  seedStandardTenant(emulator());
  const core = createGuard(emulator().guardOptions());
  closing.push(core);
  return core;
}

const requestOf = (authorization: string, url = '/api/v1/servers') => ({ method: 'GET', url, headers: { authorization }, rawHeaders: ['Authorization', authorization] });
const readReports = routeSpec('reports', 'reports:Read');
const api = apiModeSpec({ methodActions: { GET: 'ecs:Start' }, publicPaths: ['/health'] });

describe('core.enforce()', () => {
  it('answers at once from the caches, with a promise before them', async () => {
    const core = guard();
    const request = requestOf(`Bearer ${await emulator().mintToken('alice')}`);
    const first = core.enforce(request, readReports);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).decision?.allowed).toBe(true);
    const warm = core.enforce(request, readReports);
    expect(warm).not.toBeInstanceOf(Promise);
    expect((warm as GenAuthContext).decision).toMatchObject({ allowed: true, resource: 'reports' });
    // A refusal from the caches is thrown, not returned.
    expect(() => core.enforce(request, routeSpec('reports', 'reports:Admin'))).toThrow(PermissionDeniedError);
    expect(() => core.enforce(requestOf(''), readReports)).toThrow(MissingTokenError);
  });

  it('never decides from grants an invalidation dropped, however often the token came before', async () => {
    const core = guard();
    const request = requestOf(`Bearer ${await emulator().mintToken('alice')}`);
    await core.enforce(request, readReports);
    for (let i = 0; i < 40; i++) expect(core.enforce(request, readReports)).not.toBeInstanceOf(Promise);
    emulator().setGrants('alice', []);
    core.invalidateUser('alice');
    const after = core.enforce(request, readReports);
    expect(after).toBeInstanceOf(Promise);
    await expect(after).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(() => core.enforce(request, readReports)).toThrow(PermissionDeniedError);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it("a known token's link to its user's grants ends with their freshness", async () => {
    seedStandardTenant(emulator());
    // A clock moved by hand: on the wall clock, a loaded machine could let the 50 ms pass before the
    // reads below that expect the grants still fresh.
    const time = manualClock(Date.now());
    const core = createGuard({ ...emulator().guardOptions(), clock: time.clock, cache: { ttl: 50, staleWhileRevalidate: false } });
    closing.push(core);
    const request = requestOf(`Bearer ${await emulator().mintToken('alice')}`);
    await core.enforce(request, readReports);
    // The first answer from the caches links the token to the grants, the next ones go through the link.
    for (let i = 0; i < 3; i++) expect(core.enforce(request, readReports)).not.toBeInstanceOf(Promise);
    emulator().setGrants('alice', []);
    time.advance(80);
    // The token is still cached; the grants are not fresh: loaded again, and the change applies.
    const later = core.enforce(request, readReports);
    expect(later).toBeInstanceOf(Promise);
    await expect(later).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('without a spec authenticates only', async () => {
    const core = guard();
    const request = requestOf(`Bearer ${await emulator().mintToken('bob')}`);
    expect(await core.enforce(request)).toEqual({ identity: expect.objectContaining({ userId: 'bob' }) });
    expect(core.enforce(request)).toEqual({ identity: expect.objectContaining({ userId: 'bob' }) });
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });
});

describe('core.enforceApi()', () => {
  it('answers at once from the caches; a public path or a bad target before any token', async () => {
    const core = guard();
    const request = requestOf(`Bearer ${await emulator().mintToken('alice')}`);
    expect((await core.enforceApi(request, api))?.decision?.allowed).toBe(true);
    const warm = core.enforceApi(request, api);
    expect(warm).not.toBeInstanceOf(Promise);
    expect((warm as GenAuthContext).decision).toMatchObject({ allowed: true });
    expect(() => core.enforceApi({ ...request, url: '/api/v1/elsewhere' }, api)).toThrow(PermissionDeniedError);
    expect(core.enforceApi(requestOf('', '/health'), api)).toBeNull();
    expect(() => core.enforceApi(requestOf('', '/a/%ZZ'), api)).toThrow(InvalidRequestError);
  });
});

describe('adapter runtime', () => {
  it('the Express middleware hands a warm request on synchronously', async () => {
    seedStandardTenant(emulator());
    const express = createExpressGuard(emulator().guardOptions());
    closing.push(express);
    const middleware = express.requirePermission('reports', 'reports:Read');
    const authorization = `Bearer ${await emulator().mintToken('alice')}`;
    const req = { ...requestOf(authorization, '/reports'), originalUrl: '/reports' } as never as Parameters<typeof middleware>[0];
    const res = { headersSent: false } as never as Parameters<typeof middleware>[1];
    await new Promise<void>((resolve, reject) => middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
    let passed = 0;
    middleware(req, res, () => void passed++);
    expect(passed).toBe(1);
    expect(req.genauth?.decision?.allowed).toBe(true);
    expect(express.cacheStats().entries).toBe(1);
  });
});
