// An entry that spells a documented field twice, in two ASCII cases (`Actions` beside `actions`,
// `Effect` beside `effect`), has no one meaning: only its DENY readings count (policy/entry-readings.ts),
// so an ALLOW of it grants nothing. That is reported as the other entries read fail-closed are (a stray
// condition key: condition-keys.test.ts): the operator is told, at most once a minute, naming the field
// in our words (no value GenAuth sent), and guard.explain shows the entry as a grant that grants
// nothing, flagged `fieldSpeltTwice`. Over real HTTP: an Express app with the guard, GenAuth served by
// the emulator (raw entries, as GenAuth could send them).
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { RESOURCES, bearerFor, resetEmulator, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guard: ExpressGuard;
let app: express.Express;
let api: express.Express;
let lines: string[];

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
  lines = [];
  guard = createExpressGuard({ ...e.guardOptions(), cache: { errorTtl: 0 }, logger: { warn: (line: string) => lines.push(line) } });
  const ok = (_req: express.Request, res: express.Response) => void res.json({ ok: true });
  app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
  api = express();
  api.use(guard.api());
  api.get('/api/v1/reports', ok);
});
afterEach(async () => {
  await guard.close();
});

/** Status of `times` identical requests by `user` (the later ones decide from the cached grants). */
async function statuses(target: express.Express, path: string, user = 'alice', times = 2): Promise<number[]> {
  const auth = await bearerFor(emulator(), user);
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push((await request(target).get(path).set('authorization', auth)).status);
  return out;
}

/** A value GenAuth sent that must never reach the log. */
const UPSTREAM = 'upstream-value-7f3a';
const reports = (extra: Record<string, unknown> = {}) => ({
  resourceCode: 'reports',
  description: '',
  resourceType: 'API',
  apiIdentifier: '/api/v1/reports',
  actions: ['reports:Read', 'read'],
  effect: 'ALLOW',
  condition: [],
  ...extra,
});

/** [label, the entry's extra keys, the documented field the line names]. */
const DROPPED: Array<[string, Record<string, unknown>, string]> = [
  ['"Actions" beside "actions"', { Actions: [UPSTREAM] }, 'actions'],
  ['"EFFECT": "DENY" beside "effect": "ALLOW"', { EFFECT: 'DENY' }, 'effect'],
  ['"ResourceCode" beside "resourceCode"', { ResourceCode: UPSTREAM }, 'resourceCode'],
  ['"APIIDENTIFIER" beside "apiIdentifier"', { APIIDENTIFIER: `/${UPSTREAM}` }, 'apiIdentifier'],
];

describe('an ALLOW dropped for a documented field spelt twice', () => {
  it('control: the entry without the second spelling allows, and nothing is logged', async () => {
    emulator().setRawGrants('alice', [reports()]);
    expect(await statuses(app, '/reports')).toEqual([200, 200]);
    expect(await statuses(api, '/api/v1/reports')).toEqual([200, 200]);
    expect(lines).toEqual([]);
  });

  it.each(DROPPED)('%s: grants nothing, and the operator is told which field, once a minute', async (_label, extra, field) => {
    emulator().setRawGrants('alice', [reports(extra)]);
    emulator().setRawGrants('bob', [reports(extra), reports({ resourceCode: 'other' })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(await statuses(api, '/api/v1/reports')).toEqual([403, 403]);
    expect(await statuses(app, '/reports', 'bob')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(2); // indexed once per user: later requests decide from the cache
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^genauth-guard: /);
    expect(lines[0]).toContain(`"${field}"`);
    expect(lines[0]).not.toContain(UPSTREAM);
    expect(lines[0]).not.toContain('alice');
  });

  it('the DENY readings of such an entry still deny, and its dropped ALLOW reading is told', async () => {
    emulator().setRawGrants('alice', [reports(), reports({ effect: 'ALLOW', Effect: 'DENY' })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"effect"');
  });

  it('a DENY spelt twice drops no ALLOW: nothing is told', async () => {
    emulator().setRawGrants('alice', [reports({ resourceCode: 'other', effect: 'DENY', Actions: ['reports:Read'] }), reports()]);
    expect(await statuses(app, '/reports')).toEqual([200, 200]);
    expect(lines).toEqual([]);
  });

  it('guard.explain flags the entry as a grant that grants nothing', async () => {
    emulator().setRawGrants('alice', [reports({ Actions: ['reports:Read'] })]);
    const why = await guard.explain({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
    expect(why.allowed).toBe(false);
    expect(why.grants).toHaveLength(1);
    expect(why.grants[0]).toMatchObject({ fieldSpeltTwice: true, outcome: 'action_mismatch' });
    expect(why.grants[0]?.grant).toMatchObject({ effect: 'ALLOW', code: 'reports', actions: [] });
  });
});
