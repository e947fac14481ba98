/**
 * A DENY GenAuth sends as text the guard could read more than one way: an action or a code with a `*`
 * or `?` inside a segment, an empty segment (`disk:9:`), whitespace around the text or a segment, or
 * several names joined by commas. GenAuth documents none
 * of these (its wildcard is a whole `*` segment, its actions an array of names), so a DENY is read as
 * widely as it could be meant: each reading denies, and an ALLOW beside it (`disk:*`, every action)
 * never decides what a reading names. An ALLOW of such text stays literal (it grants nothing odd).
 * Served byte for byte by the emulator (`setRawGrants`) to every adapter over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import { seedStandardTenant } from '../fixtures.js';
import { bearer, capture, expectAllowed, optionsFor, ROWS, send, startProbe, useAdversarialEnv, type Probe } from './harness.js';

const emulator = useAdversarialEnv();
beforeAll(() => seedStandardTenant(emulator()));

/** `DELETE /api/v1/disks/9` asks for `disk:Delete` on `disk:9`. */
const DISK_9 = { method: 'DELETE', target: '/api/v1/disks/9' };
const diskAll = { resourceCode: 'disk:*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' };
const deny9 = (change: Record<string, unknown>) => ({ resourceCode: 'disk:9', resourceType: 'DATA', actions: ['disk:Delete'], effect: 'DENY', ...change });

const names = (count: number, of: (i: number) => string) => Array.from({ length: count }, (_, i) => of(i)).join(',');
const MANY_ACTIONS = names(5_000, (i) => `disk:Other${i}`);
const MANY_CODES = names(5_000, (i) => `disk:${1000 + i}`);
const FEW_ACTIONS = names(200, (i) => `disk:Other${i}`);
/** 10,000 segments with spaces around them, no comma: past 8,192 characters, no name read from it. */
const LONG_SEGMENTS = Array.from({ length: 10_000 }, (_, i) => ` s${i} `).join(':');
const LONG_PLAIN = `disk:${'x'.repeat(10_000)}`;

/** [label, raw entries beside the ALLOW of every action on disk:*, status of DELETE /api/v1/disks/9]. */
const CASES: Array<[string, Record<string, unknown>[], 200 | 403]> = [
  // controls: the plain DENY applies, a DENY of another action or code does not
  ['a plain DENY', [deny9({})], 403],
  ['a DENY of disk:Stop (control)', [deny9({ actions: ['disk:Stop'] })], 200],
  ['a DENY of disk:8 (control)', [deny9({ resourceCode: 'disk:8' })], 200],
  // a `*` inside an action's segment, as a DENY's code already reads it: a whole `*` segment
  ['action disk:Del*', [deny9({ actions: ['disk:Del*'] })], 403],
  ['action d*:Delete', [deny9({ actions: ['d*:Delete'] })], 403],
  ['action disk:**', [deny9({ actions: ['disk:**'] })], 403],
  ['action **', [deny9({ actions: ['**'] })], 403],
  ['action disk:St* (its segment read as a whole `*`: every disk action)', [deny9({ actions: ['disk:St*'] })], 403],
  ['action ecs:St* leaves disk:Delete (control)', [deny9({ actions: ['ecs:St*'] })], 200],
  // surrounding whitespace on an action
  ['action "disk:Delete " (trailing space)', [deny9({ actions: ['disk:Delete '] })], 403],
  ['action " disk:Delete" (leading space)', [deny9({ actions: [' disk:Delete'] })], 403],
  ['action "disk:Delete\\t"', [deny9({ actions: ['disk:Delete\t'] })], 403],
  ['action "disk:Delete\\u00a0" (no-break space: JavaScript trims it, Java does not)', [deny9({ actions: ['disk:Delete\u00a0'] })], 403],
  ['actions that are only whitespace name no action: every action', [deny9({ actions: [' ', '\t'] })], 403],
  ['action " disk:Stop" (control)', [deny9({ actions: [' disk:Stop'] })], 200],
  // several actions joined by commas in one name
  ['action "disk:Stop,disk:Delete"', [deny9({ actions: ['disk:Stop,disk:Delete'] })], 403],
  ['action "disk:Stop, disk:Delete"', [deny9({ actions: ['disk:Stop, disk:Delete'] })], 403],
  ['action "disk:Stop,disk:Start" (control)', [deny9({ actions: ['disk:Stop,disk:Start'] })], 200],
  // surrounding whitespace and commas on a DENY's code
  ['code "disk:9 " (trailing space)', [deny9({ resourceCode: 'disk:9 ' })], 403],
  ['code " disk:9" (leading space)', [deny9({ resourceCode: ' disk:9' })], 403],
  ['code "disk:8,disk:9"', [deny9({ resourceCode: 'disk:8,disk:9' })], 403],
  ['code "disk:8, disk:9"', [deny9({ resourceCode: 'disk:8, disk:9' })], 403],
  ['code " disk:*" (a wildcard, with a space)', [deny9({ resourceCode: ' disk:*' })], 403],
  ['code "disk:8, disk:10" (control)', [deny9({ resourceCode: 'disk:8, disk:10' })], 200],
  // Past 256 readings (thousands of names joined by commas: a garbled or hostile answer), a DENY is
  // read as `*`, every action or code: fail closed, and indexing stays bounded (it was quadratic).
  ['an action of 5,000 comma-joined names, none disk:Delete: every action', [deny9({ actions: [MANY_ACTIONS] })], 403],
  ['a code of 5,000 comma-joined codes, none disk:9: every code', [deny9({ resourceCode: MANY_CODES })], 403],
  ['an action of 200 comma-joined names, none disk:Delete (control: under the bound)', [deny9({ actions: [FEW_ACTIONS] })], 200],
  // Past 8,192 characters a text that could be read another way is read as `*` (its readings would
  // cost time in its length at every step: a tenth of a second for a few hundred KB).
  ['an action of 10,000 padded segments, none disk:Delete: every action', [deny9({ actions: [LONG_SEGMENTS] })], 403],
  ['a code of 10,000 padded segments, none disk:9: every code', [deny9({ resourceCode: LONG_SEGMENTS })], 403],
  ['an action of 10,000 plain characters (control: read as written)', [deny9({ actions: [LONG_PLAIN] })], 200],
  // a `?` (a one-character glob to some readers) inside a segment: read as a whole `*` segment, as a `*` is
  ['action disk:De?ete', [deny9({ actions: ['disk:De?ete'] })], 403],
  ['action d?sk:Delete', [deny9({ actions: ['d?sk:Delete'] })], 403],
  ['action ecs:De?ete leaves disk:Delete (control)', [deny9({ actions: ['ecs:De?ete'] })], 200],
  ['code disk:?', [deny9({ resourceCode: 'disk:?' })], 403],
  ['code d?sk:9', [deny9({ resourceCode: 'd?sk:9' })], 403],
  ['code ecs:? leaves disk:9 (control)', [deny9({ resourceCode: 'ecs:?' })], 200],
  // an empty segment (a colon at an end, or two together): read as nothing there, and as a `*` segment
  ['action "disk:Delete:" (trailing colon)', [deny9({ actions: ['disk:Delete:'] })], 403],
  ['action "disk:" (every disk action, or the action disk)', [deny9({ actions: ['disk:'] })], 403],
  ['action "disk::Delete"', [deny9({ actions: ['disk::Delete'] })], 403],
  ['action "disk:Stop:" (control)', [deny9({ actions: ['disk:Stop:'] })], 200],
  ['code "disk:9:" (trailing colon)', [deny9({ resourceCode: 'disk:9:' })], 403],
  ['code "disk:" (every disk)', [deny9({ resourceCode: 'disk:' })], 403],
  ['code ":disk:9" (leading colon)', [deny9({ resourceCode: ':disk:9' })], 403],
  ['code "disk:8:" (control)', [deny9({ resourceCode: 'disk:8:' })], 200],
  // whitespace around a segment, inside the text
  ['action "disk: Delete"', [deny9({ actions: ['disk: Delete'] })], 403],
  ['action "disk :Delete"', [deny9({ actions: ['disk :Delete'] })], 403],
  ['action "disk:\tDelete"', [deny9({ actions: ['disk:\tDelete'] })], 403],
  ['action "disk: Stop" (control)', [deny9({ actions: ['disk: Stop'] })], 200],
  ['code "disk: 9"', [deny9({ resourceCode: 'disk: 9' })], 403],
  ['code "disk : 9"', [deny9({ resourceCode: 'disk : 9' })], 403],
  ['code "disk: 8" (control)', [deny9({ resourceCode: 'disk: 8' })], 200],
];

/** The same texts on an ALLOW are literal: they grant nothing they do not name exactly. */
const ALLOW_CASES: Array<[string, Record<string, unknown>, 200 | 403]> = [
  ['an ALLOW of disk:9 (control)', { ...diskAll, resourceCode: 'disk:9' }, 200],
  ['an ALLOW of action disk:Del*', { ...diskAll, actions: ['disk:Del*'] }, 403],
  ['an ALLOW of action " disk:Delete"', { ...diskAll, actions: [' disk:Delete'] }, 403],
  ['an ALLOW of action "disk:Stop,disk:Delete"', { ...diskAll, actions: ['disk:Stop,disk:Delete'] }, 403],
  ['an ALLOW of code "disk:9 "', { ...diskAll, resourceCode: 'disk:9 ' }, 403],
  ['an ALLOW of code "disk:8,disk:9"', { ...diskAll, resourceCode: 'disk:8,disk:9' }, 403],
  ['an ALLOW of action disk:De?ete', { ...diskAll, resourceCode: 'disk:9', actions: ['disk:De?ete'] }, 403],
  ['an ALLOW of action "disk: Delete"', { ...diskAll, resourceCode: 'disk:9', actions: ['disk: Delete'] }, 403],
  ['an ALLOW of action "disk:"', { ...diskAll, resourceCode: 'disk:9', actions: ['disk:'] }, 403],
  ['an ALLOW of code "disk:?"', { ...diskAll, resourceCode: 'disk:?' }, 403],
  ['an ALLOW of code "disk:9:"', { ...diskAll, resourceCode: 'disk:9:' }, 403],
  ['an ALLOW of code "disk: 9"', { ...diskAll, resourceCode: 'disk: 9' }, 403],
];

describe.each(ROWS)('$name', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()) });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(CASES.map((c, i) => [...c, i] as const))('a DENY beside an ALLOW of disk:*: %s', async (_label, entries, status, index) => {
    const user = `deny-readings-${index}`;
    emulator().setRawGrants(user, [diskAll, ...entries] as never);
    const answer = await send(probe.port, { ...DISK_9, headers: bearer(await emulator().mintToken(user)) });
    if (status === 200) return expectAllowed(emulator(), answer, 1);
    expect(answer.status).toBe(403);
    expect(capture.handled).toBe(0);
  });

  it.each(ALLOW_CASES.map((c, i) => [...c, i] as const))('%s', async (_label, entry, status, index) => {
    const user = `allow-readings-${index}`;
    emulator().setRawGrants(user, [entry] as never);
    const answer = await send(probe.port, { ...DISK_9, headers: bearer(await emulator().mintToken(user)) });
    expect(answer.status).toBe(status);
    expect(capture.handled).toBe(status === 200 ? 1 : 0);
  });
});

/** API mode: a DENY's method actions (`read` for GET) are read the same ways. */
const API: ApiModeOptions = {};
const servers = (change: Record<string, unknown> = {}) => ({ resourceCode: 'servers', resourceType: 'API', apiIdentifier: '/api/v1/servers', actions: ['read'], effect: 'ALLOW', ...change });
const API_CASES: Array<[string, Record<string, unknown>, 200 | 403]> = [
  ['a DENY of action "write" (control)', servers({ resourceCode: 'deny', actions: ['write'], effect: 'DENY' }), 200],
  ['a DENY of action " read"', servers({ resourceCode: 'deny', actions: [' read'], effect: 'DENY' }), 403],
  ['a DENY of action "write,read"', servers({ resourceCode: 'deny', actions: ['write,read'], effect: 'DENY' }), 403],
  ['a DENY of action "re*"', servers({ resourceCode: 'deny', actions: ['re*'], effect: 'DENY' }), 403],
  ['a DENY of action "re?d"', servers({ resourceCode: 'deny', actions: ['re?d'], effect: 'DENY' }), 403],
  ['a DENY of action "read:"', servers({ resourceCode: 'deny', actions: ['read:'], effect: 'DENY' }), 403],
  ['a DENY of action "wr?te" (control: one segment, read as every action)', servers({ resourceCode: 'deny', actions: ['wr?te'], effect: 'DENY' }), 403],
];

describe.each(ROWS.filter((row) => row.startApi !== undefined))('$name API mode', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()), api: API });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(API_CASES.map((c, i) => [...c, i] as const))('%s beside an ALLOW of read', async (_label, entry, status, index) => {
    const user = `deny-readings-api-${index}`;
    emulator().setRawGrants(user, [servers(), entry] as never);
    const answer = await send(probe.port, { target: '/api/v1/servers', headers: bearer(await emulator().mintToken(user)) });
    expect(answer.status).toBe(status);
    expect(capture.handled).toBe(status === 200 ? 1 : 0);
  });
});
