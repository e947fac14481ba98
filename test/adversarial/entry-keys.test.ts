/**
 * Entries and conditions carrying keys GenAuth does not document beside the ones it does: a second
 * spelling of a field in another case (`Effect` beside `effect`, `ResourceCode`, `Actions`), or a
 * condition with more than `param`, `operator` and `value` (`negate`, `ifExists`, `Value`). Such text has
 * no one meaning (a case-insensitive reader keeps the last spelling; an extra key may qualify the
 * condition), so nothing in it grants: an ALLOW of it grants nothing, a DENY reading of it denies, and a
 * condition the guard cannot read in full is not evaluated. Served by the emulator to every adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import { seedStandardTenant } from '../fixtures.js';
import { bearer, capture, optionsFor, ROWS, send, startProbe, useAdversarialEnv, type Probe } from './harness.js';

const emulator = useAdversarialEnv();
beforeAll(() => seedStandardTenant(emulator()));

type Route = 'reports' | 'disk9';
const ROUTES: Record<Route, { method: string; target: string }> = {
  reports: { method: 'GET', target: '/api/v1/reports' }, // reports, anyOf reports:Read / reports:Admin
  disk9: { method: 'DELETE', target: '/api/v1/disks/9' }, // disk:9, disk:Delete
};
const reports = (change: Record<string, unknown> = {}) => ({ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW', ...change });
const diskAll = { resourceCode: 'disk:*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' };
const deny9 = (change: Record<string, unknown>) => ({ resourceCode: 'disk:9', resourceType: 'DATA', actions: ['disk:Delete'], effect: 'DENY', ...change });
/** A condition that holds for every user. */
const anyUser = { param: 'UserId', operator: 'StringLike', value: '*' };

/** [label, raw entries, route, status]. */
const CASES: Array<[string, Record<string, unknown>[], Route, 200 | 403]> = [
  // controls
  ['a plain ALLOW', [reports()], 'reports', 200],
  ['an ALLOW with a description (documented)', [reports({ description: 'Reports' })], 'reports', 200],
  ['an ALLOW with a key GenAuth does not document and that names no field (ignored)', [reports({ createdAt: '2026-01-01', namespace: 'default' })], 'reports', 200],
  ['an ALLOW whose condition holds', [reports({ condition: [anyUser] })], 'reports', 200],
  // a documented field spelt twice, in two cases
  ['an ALLOW with "EFFECT": "DENY" beside it', [reports({ EFFECT: 'DENY' })], 'reports', 403],
  ['an ALLOW with "Effect": "ALLOW" beside it (still no one meaning)', [reports({ Effect: 'ALLOW' })], 'reports', 403],
  ['an ALLOW with "Actions": [] beside it', [reports({ Actions: [] })], 'reports', 403],
  ['an ALLOW with "ResourceCode": "other" beside it', [reports({ ResourceCode: 'other' })], 'reports', 403],
  ['an ALLOW with "resourcecode" beside it', [reports({ resourcecode: 'other' })], 'reports', 403],
  ['an entry "effect": "ALLOW", "Effect": "DENY" beside an ALLOW of disk:*', [diskAll, deny9({ effect: 'ALLOW', Effect: 'DENY' })], 'disk9', 403],
  ['a DENY whose "ResourceCode" names disk:9, "resourceCode" disk:8', [diskAll, deny9({ resourceCode: 'disk:8', ResourceCode: 'disk:9' })], 'disk9', 403],
  ['a DENY whose "Actions" name disk:Delete, "actions" disk:Stop', [diskAll, deny9({ actions: ['disk:Stop'], Actions: ['disk:Delete'] })], 'disk9', 403],
  // a second spelling by a Unicode case fold (Go's encoding/json and Java's equalsIgnoreCase match
  // U+017F LONG S to s and U+0131 DOTLESS I to i)
  ['a DENY whose "reſourceCode" (long s) names disk:9, "resourceCode" disk:8', [diskAll, deny9({ resourceCode: 'disk:8', 'reſourceCode': 'disk:9' })], 'disk9', 403],
  ['a DENY whose "actionſ" (long s) name disk:Delete, "actions" disk:Stop', [diskAll, deny9({ actions: ['disk:Stop'], 'actionſ': ['disk:Delete'] })], 'disk9', 403],
  ['an ALLOW with "actıons" (dotless i): [] beside it', [reports({ 'actıons': [] })], 'reports', 403],
  ['a DENY of disk:8 with "EFFECT" ALLOW (control: disk:9 is not named)', [diskAll, deny9({ resourceCode: 'disk:8', EFFECT: 'ALLOW' })], 'disk9', 200],
  // a condition with keys beyond param, operator and value
  ['an ALLOW whose condition carries "negate": true', [reports({ condition: [{ ...anyUser, negate: true }] })], 'reports', 403],
  ['an ALLOW whose condition carries "ifExists"', [reports({ condition: [{ ...anyUser, ifExists: false }] })], 'reports', 403],
  ['an ALLOW whose condition carries "Value" beside "value"', [reports({ condition: [{ ...anyUser, Value: 'nobody' }] })], 'reports', 403],
  ['an ALLOW whose one condition object carries "not"', [reports({ condition: { ...anyUser, not: true } })], 'reports', 403],
  ['a DENY whose condition does not hold but carries "negate" applies', [diskAll, deny9({ condition: [{ param: 'UserId', operator: 'StringEquals', value: 'nobody', negate: true }] })], 'disk9', 403],
  ['a DENY whose condition does not hold (control)', [diskAll, deny9({ condition: [{ param: 'UserId', operator: 'StringEquals', value: 'nobody' }] })], 'disk9', 200],
];

describe.each(ROWS)('$name', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()) });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(CASES.map((c, i) => [...c, i] as const))('%s', async (_label, entries, route, status, index) => {
    const user = `entry-keys-${index}`;
    emulator().setRawGrants(user, entries as never);
    const answer = await send(probe.port, { ...ROUTES[route], headers: bearer(await emulator().mintToken(user)) });
    expect(answer.status).toBe(status);
    expect(capture.handled).toBe(status === 200 ? 1 : 0);
  });
});

/** API mode reads the same entries: an effect or identifier spelt twice grants nothing, a DENY reading denies. */
const API: ApiModeOptions = {};
const servers = (change: Record<string, unknown> = {}) => ({ resourceCode: 'servers', resourceType: 'API', apiIdentifier: '/api/v1/servers', actions: ['read'], effect: 'ALLOW', ...change });
const API_CASES: Array<[string, Record<string, unknown>[], 200 | 403]> = [
  ['a plain API ALLOW (control)', [servers()], 200],
  ['an ALLOW with "Effect": "DENY" beside it', [servers({ Effect: 'DENY' })], 403],
  ['an ALLOW with "ApiIdentifier" beside it', [servers({ ApiIdentifier: '/other' })], 403],
  ['an ALLOW with "ResourceType": "DATA" beside it', [servers({ ResourceType: 'DATA' })], 403],
  ['a DENY reading of another entry denies', [servers(), servers({ resourceCode: 'x', apiIdentifier: '/other', ApiIdentifier: '/api/v1/servers', effect: 'DENY' })], 403],
];

describe.each(ROWS)('$name API mode', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()), api: API });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(API_CASES.map((c, i) => [...c, i] as const))('%s', async (_label, entries, status, index) => {
    const user = `entry-keys-api-${index}`;
    emulator().setRawGrants(user, entries as never);
    const answer = await send(probe.port, { target: '/api/v1/servers', headers: bearer(await emulator().mintToken(user)) });
    expect(answer.status).toBe(status);
    expect(capture.handled).toBe(status === 200 ? 1 : 0);
  });
});
