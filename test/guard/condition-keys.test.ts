// Conditions under a key the guard does not read, over real HTTP: an Express app with the guard, GenAuth
// served by the emulator (raw entries, as GenAuth could send them). GenAuth documents `condition`; an
// entry that also (or instead) carries `conditions`, `Condition`, `policyCondition`, ... carries
// conditions the guard cannot evaluate, so it fails closed: such an ALLOW grants nothing, such a DENY
// applies. A second request, decided from the cached grants, must decide the same way.
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';

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
/** A condition that does not hold for alice. */
const notAlice = [{ param: 'UserId', operator: 'StringEquals', value: 'someone-else' }];

const strayKeys = ['conditions', 'Condition', 'CONDITION', 'policyCondition', 'conditionList', 'Conditions', 'x-condition'];

describe('conditions under a key other than `condition`', () => {
  it('control: the same entries without the stray key allow, and nothing is logged', async () => {
    emulator().setRawGrants('alice', [reports()]);
    expect(await statuses(app, '/reports')).toEqual([200, 200]);
    expect(await statuses(api, '/api/v1/reports')).toEqual([200, 200]);
    expect(lines).toEqual([]);
  });

  it.each(strayKeys)('an ALLOW carrying "%s" grants nothing (per route and in API mode), also from the cache', async (key) => {
    emulator().setRawGrants('alice', [reports({ [key]: notAlice })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(await statuses(api, '/api/v1/reports')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it.each([
    ['without `condition`', { condition: undefined }],
    ['beside a `condition` that holds', { condition: [{ param: 'UserId', operator: 'StringEquals', value: 'alice' }] }],
    ['holding what reads as no conditions ([])', { conditions: [] }],
    ['holding null', { conditions: null }],
  ])('an ALLOW with a stray key %s grants nothing', async (_name, extra) => {
    emulator().setRawGrants('alice', [reports({ conditions: notAlice, ...extra })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
  });

  it('a DENY carrying one applies, even beside a `condition` that does not hold', async () => {
    emulator().setRawGrants('alice', [reports(), reports({ effect: 'DENY', condition: notAlice, Conditions: [{ param: 'UserId', operator: 'StringEquals', value: 'alice' }] })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(await statuses(api, '/api/v1/reports')).toEqual([403, 403]);
    // control: the DENY without the stray key does not apply (its condition does not hold for alice)
    emulator().setRawGrants('bob', [reports(), reports({ effect: 'DENY', condition: [{ param: 'UserId', operator: 'StringEquals', value: 'alice' }] })]);
    expect(await statuses(app, '/reports', 'bob')).toEqual([200, 200]);
  });

  it('only keys: "condition" in a value or in another field changes nothing', async () => {
    emulator().setRawGrants('alice', [reports({ description: 'conditions apply', note: 'condition' })]);
    expect(await statuses(app, '/reports')).toEqual([200, 200]);
    expect(lines).toEqual([]);
  });

  it('the operator is told, once a minute, which key was not read and what the guard did', async () => {
    emulator().setRawGrants('alice', [reports({ policyCondition: notAlice })]);
    emulator().setRawGrants('bob', [reports({ policyCondition: notAlice }), reports({ resourceCode: 'other' })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(await statuses(app, '/reports', 'bob')).toEqual([403, 403]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^genauth-guard: /);
    expect(lines[0]).toContain('"policyCondition"');
  });

  it('a key that is not plain text is not echoed', async () => {
    emulator().setRawGrants('alice', [reports({ 'condition\nforged log line': notAlice })]);
    expect(await statuses(app, '/reports')).toEqual([403, 403]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('forged');
  });

  it('guard.explain flags the entry', async () => {
    emulator().setRawGrants('alice', [reports({ conditions: notAlice })]);
    const why = await guard.explain({ userId: 'alice', resource: 'reports', action: 'reports:Read' });
    expect(why.allowed).toBe(false);
    expect(why.grants).toHaveLength(1);
    expect(why.grants[0]?.conditionKeyUnknown).toBe(true);
  });
});
