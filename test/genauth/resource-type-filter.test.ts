// `genauth.resourceType` is sent to GenAuth as a filter on get-user-authorized-resources, and its answer
// was trusted to hold that type only. It was not checked: an entry of another type that GenAuth (or a
// proxy, or a misbehaving upstream) sent anyway was used. An ALLOW of another type granted on routes
// that ask for no type; a DENY of another type was skipped on routes (and in API mode) that ask for the
// configured type, so the DENY no longer denied. Now the answer is held to the type asked for, failing
// closed: an ALLOW of another type (or of none) grants nothing, a DENY of another type is kept as a
// DENY of unknown type (it counts wherever a grant of any type would), and the operator is warned
// once a minute. Over HTTP: Express apps, the emulator answering the raw lists.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { manualClock } from '../clock.js';
import { closeAfterEach, RESOURCES, resetEmulator, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => resetEmulator(emulator()));

// API mode asks for `read` on GET (its default methodActions); routes ask for `reports:Read`.
const ALLOW_API = { resourceCode: 'reports', resourceType: 'API', actions: ['reports:Read', 'read'], effect: 'ALLOW', apiIdentifier: '/api/reports' };
const ALLOW_DATA = { ...ALLOW_API, resourceType: 'DATA' };
const DENY_DATA = { ...ALLOW_API, resourceType: 'DATA', effect: 'DENY' };

/** Every grants request is answered with `list`, whatever its query. */
function serve(list: unknown[]): void {
  emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, message: '', data: { totalCount: list.length, list } }, path: RESOURCES });
}

/** A guard of the emulator with `genauth.resourceType` (none: undefined), its warnings kept in `lines`. */
function guardWith(resourceType: 'API' | 'DATA' | undefined, overrides: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const base = emulator().guardOptions();
  const guard = track(createExpressGuard({
    ...base,
    cache: { errorTtl: 0 },
    logger: { warn: (line: string) => lines.push(line) },
    ...overrides,
    genauth: { ...base.genauth, ...(resourceType === undefined ? {} : { resourceType }) },
  }));
  const app = express();
  app.get('/untyped', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/typed', guard.requirePermission('reports', 'reports:Read', { resourceType: 'API' }), (_req, res) => void res.send('ok'));
  const api = express();
  api.use(guard.api());
  api.get('/api/reports', (_req, res) => void res.send('ok'));
  return { app, api, guard, lines };
}

async function status(app: express.Express, path: string): Promise<number> {
  return (await request(app).get(path).set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status;
}

describe('genauth.resourceType: an answer holding entries of another type', () => {
  it('an ALLOW of another type grants nothing, and the operator is told', async () => {
    serve([ALLOW_DATA]);
    const { app, lines } = guardWith('API');
    // Before the fix: 200 (the DATA grant counted on a route asking for no type).
    expect(await status(app, '/untyped')).toBe(403);
    expect(await status(app, '/typed')).toBe(403);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/genauth\.resourceType "API"/);
    expect(lines[0]).toMatch(/1 ALLOW.*dropped/);
    // Our words only: no user id, no upstream value.
    expect(lines[0]).not.toMatch(/alice|DATA|reports/);
  });

  it('an ALLOW of no type, or of a type the guard does not know, grants nothing', async () => {
    serve([{ ...ALLOW_API, resourceType: undefined }, { ...ALLOW_API, resourceType: 'WIDGET' }, { ...ALLOW_API, resourceType: null }]);
    const { app, lines } = guardWith('API');
    expect(await status(app, '/untyped')).toBe(403);
    expect(lines[0]).toMatch(/3 ALLOW/);
  });

  it('a DENY of another type still denies: on a route of the configured type, and in API mode', async () => {
    serve([ALLOW_API, DENY_DATA]);
    const { app, api, lines } = guardWith('API');
    expect(await status(app, '/untyped')).toBe(403);
    // Before the fix: 200 on both (the DATA DENY was skipped where type API is asked for).
    expect(await status(app, '/typed')).toBe(403);
    expect(await status(api, '/api/reports')).toBe(403);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/1 DENY.*kept/);
  });

  it('entries of the type asked for are used as sent (its case as normalization reads it), with no warning', async () => {
    serve([ALLOW_API, { ...ALLOW_API, resourceCode: 'other', resourceType: 'api' }, { ...ALLOW_API, resourceCode: 'third', effect: 'DENY', apiIdentifier: '/api/third' }]);
    const { app, api, lines } = guardWith('API');
    expect(await status(app, '/untyped')).toBe(200);
    expect(await status(app, '/typed')).toBe(200);
    expect(await status(api, '/api/reports')).toBe(200);
    expect(lines).toEqual([]);
  });

  it('without genauth.resourceType every type is used as before (nothing was asked to be left out)', async () => {
    serve([ALLOW_DATA]);
    const { app, lines } = guardWith(undefined);
    expect(await status(app, '/untyped')).toBe(200);
    expect(await status(app, '/typed')).toBe(403);
    expect(lines).toEqual([]);
  });

  it('the warning repeats at most once a minute on the guard clock', async () => {
    serve([ALLOW_DATA]);
    const { clock, advance } = manualClock();
    const { app, guard, lines } = guardWith('API', { clock });
    expect(await status(app, '/untyped')).toBe(403);
    await guard.invalidateAll();
    advance(30_000);
    expect(await status(app, '/untyped')).toBe(403);
    expect(lines).toHaveLength(1);
    await guard.invalidateAll();
    advance(31_000);
    expect(await status(app, '/untyped')).toBe(403);
    expect(lines).toHaveLength(2);
  });

  it('the emulator asked for a type answers only that type (nothing odd, no warning)', async () => {
    emulator().setGrants('alice', [
      { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'] },
      { resourceCode: 'reports', resourceType: 'API', actions: ['reports:Read'], effect: 'DENY', apiIdentifier: '/api/reports' },
    ]);
    const { app, lines } = guardWith('DATA');
    expect(await status(app, '/untyped')).toBe(200);
    expect(emulator().calls.some((call) => call.path === RESOURCES && call.query.resourceType === 'DATA')).toBe(true);
    expect(lines).toEqual([]);
  });
});
