// A genauth.tenantId that is wrong for every user: GenAuth answers apiCode 2120008 ("user disabled or
// not a member of this tenant") for each, so every request is a 503. One user so refused is normal (a
// disabled user, one outside the tenant) and is no set-up problem; several distinct users in a row with
// no user's grants loaded between them, or a warm.users user (the readiness probe), are: one operator
// line naming genauth.tenantId and genauth.tenantHeader, and a ready() reason. Over real HTTP: an
// Express app and the emulator's tenants (docs/testing.md#tenants).
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { GuardNotReadyError } from '../../src/index.js';
import { closeAfterEach, RESOURCES, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
const MEMBERS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
const OUTSIDERS = ['o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7'];
const TENANT_LINE = /set-up problem: .*genauth\.tenantId.*genauth\.tenantHeader/;

beforeEach(() => {
  emulator().clearGrants();
  emulator().clearFaults();
  emulator().resetCalls();
  // Members of t1 read the doc there; outsiders are users of the pool only.
  for (const member of MEMBERS) emulator().setGrants(member, [{ resourceCode: 'doc', actions: ['doc:Read'] }], { tenant: 't1' });
  for (const outsider of OUTSIDERS) emulator().setGrants(outsider, [{ resourceCode: 'doc', actions: ['doc:Read'] }]);
});

function appWith(genauth: Partial<ExpressGuardOptions['genauth']>, more: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const base = emulator().guardOptions();
  // errorTtl 0: each request asks GenAuth again, as a user's next request after the error entry expired.
  const guard = track(createExpressGuard({ ...base, cache: { errorTtl: 0 }, logger: { warn: (line: string) => lines.push(line) }, genauth: { ...base.genauth, ...genauth }, ...more }));
  const app = express();
  app.get('/doc', guard.requirePermission('doc', 'doc:Read'), (_req, res) => void res.send('doc'));
  const get = async (user: string) => (await request(app).get('/doc').set('authorization', `Bearer ${await emulator().mintToken(user)}`)).status;
  return { guard, lines, get };
}

describe('genauth.tenantId wrong for every user', () => {
  it('many distinct users refused in a row: one line naming genauth.tenantId and tenantHeader; no user id, token or upstream text', async () => {
    const { lines, get } = appWith({ tenantId: 'no-such-tenant' });
    const tokens: string[] = [];
    for (const user of [...MEMBERS, ...OUTSIDERS]) {
      tokens.push(await emulator().mintToken(user));
      expect(await get(user)).toBe(503);
    }
    const tenantLines = lines.filter((line) => TENANT_LINE.test(line));
    expect(tenantLines).toHaveLength(1);
    const text = lines.join('\n');
    for (const user of [...MEMBERS, ...OUTSIDERS]) expect(text).not.toMatch(new RegExp(`\\b${user}\\b`));
    for (const token of tokens) expect(text).not.toContain(token);
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain('租户');
    expect(text).not.toMatch(/credential|accessKeySecret/i);
  });
});

describe('one user outside the tenant is not a set-up problem', () => {
  it('the same outsider many times, between members: nothing logged', async () => {
    const { lines, get } = appWith({ tenantId: 't1' });
    for (let i = 0; i < 12; i += 1) expect(await get('o0')).toBe(503);
    expect(await get('m0')).toBe(200);
    expect(lines).toEqual([]);
  });

  it('distinct outsiders, each after a member whose grants loaded: nothing logged', async () => {
    const { lines, get } = appWith({ tenantId: 't1' });
    for (const [i, outsider] of OUTSIDERS.entries()) {
      expect(await get(outsider)).toBe(503);
      expect(await get(MEMBERS[i] as string)).toBe(200);
    }
    expect(lines).toEqual([]);
  });

  it('without genauth.tenantId, apiCode 2120008 is about the user (disabled): never a tenant line', async () => {
    // GenAuth's "user disabled" for every user: no tenant was named, so no tenant option to blame.
    emulator().fault({ kind: 'body-error', statusCode: 403, apiCode: 2120008, path: RESOURCES });
    const { lines, get } = appWith({});
    for (const outsider of OUTSIDERS) expect(await get(outsider)).toBe(503);
    expect(lines.filter((line) => /tenant/i.test(line))).toEqual([]);
  });
});

describe('the readiness probe: warm.users', () => {
  it('a warm.users user refused with apiCode 2120008: ready() rejects naming genauth.tenantId and tenantHeader, logged once', async () => {
    const { guard, lines } = appWith({ tenantId: 'no-such-tenant' }, { warm: { users: ['m0'] } });
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GuardNotReadyError);
    const reasons = (error as GuardNotReadyError).reasons;
    expect(reasons).toEqual([expect.objectContaining({ kind: 'tenant', option: 'genauth.tenantId' })]);
    expect(reasons[0]?.cause).toMatch(/genauth\.tenantHeader/);
    expect(reasons[0]?.cause).not.toContain('m0');
    expect((error as Error).message).toMatch(/genauth\.tenantId/);
    expect(lines.filter((line) => TENANT_LINE.test(line))).toHaveLength(1);
  });

  it.each([403, 503])('without genauth.tenantId, a warm.users user answered apiCode 2120008 under statusCode %i (a disabled user): ready() names the user in warm.users, not genauth.host nor the tenant options', async (statusCode) => {
    emulator().fault({ kind: 'body-error', statusCode, apiCode: 2120008, message: 'upstream-detail-5e1', path: RESOURCES });
    const { guard, lines } = appWith({}, { warm: { users: ['m0'] } });
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GuardNotReadyError);
    const reasons = (error as GuardNotReadyError).reasons;
    expect(reasons).toEqual([expect.objectContaining({ kind: 'user_refused', option: 'warm.users' })]);
    const cause = reasons[0]?.cause ?? '';
    expect(cause).toMatch(/apiCode 2120008 \(user disabled or not a member of this tenant\) for a warm\.users user/);
    expect(cause).toMatch(/enabled/);
    for (const word of ['genauth.host', 'genauth.tenantId', 'genauth.tenantHeader', 'm0', 'upstream-detail-5e1']) expect(cause).not.toContain(word);
    expect(lines.join('\n')).not.toMatch(/genauth\.host|genauth\.tenant/);
  });

  it('a warm.users member of the tenant: ready', async () => {
    const { guard, lines } = appWith({ tenantId: 't1' }, { warm: { users: ['m0', 'm1'] } });
    await expect(guard.ready()).resolves.toBeUndefined();
    expect(lines).toEqual([]);
  });
});
