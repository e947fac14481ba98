/**
 * Hostile policy input: grant lists GenAuth could send (or an attacker in its path could shape) served
 * byte for byte by the emulator (`setRawGrants`, `respond` faults). Effects, actions, codes, types and
 * conditions of every odd type and shape, lists that are not lists, envelopes that lie, and
 * prototype-pollution keys in grants and in the envelope. Nothing odd ever grants: the answer is the
 * plain grant's 200, or 403, or 503, the handler runs only on 200, and Object.prototype stays as it was.
 *
 * Each case has its own user, so the apps (one per row) are shared: no cached grant serves another case.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import { seedStandardTenant } from '../fixtures.js';
import {
  bearer,
  capture,
  expectAllowed,
  expectRefused,
  forbiddenStrings,
  optionsFor,
  prototypeKeys,
  RESOURCES,
  ROWS,
  send,
  startProbe,
  useAdversarialEnv,
  type Probe,
} from './harness.js';

const emulator = useAdversarialEnv();
let prototypeBefore: string[] = [];

beforeAll(() => {
  seedStandardTenant(emulator());
  prototypeBefore = prototypeKeys();
});
afterEach(() => {
  // No hostile key ever reaches Object.prototype.
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  expect(prototypeKeys()).toEqual(prototypeBefore);
});

type Route = 'reports' | 'disk9' | 'server-constructor';
const ROUTES: Record<Route, { method: string; target: string }> = {
  reports: { method: 'GET', target: '/api/v1/reports' }, // reports, anyOf reports:Read / reports:Admin
  disk9: { method: 'DELETE', target: '/api/v1/disks/9' }, // disk:9, disk:Delete
  'server-constructor': { method: 'POST', target: '/api/v1/servers/constructor/start' }, // ecs:constructor, ecs:Start
};

/** An ALLOW of `reports:Read` on `reports`, changed by `change` (`undefined` deletes a field). */
function reports(change: Record<string, unknown> = {}): Record<string, unknown> {
  const entry: Record<string, unknown> = { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW', apiIdentifier: null, condition: [] };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete entry[key];
    else entry[key] = value;
  }
  return entry;
}
const diskAll = { resourceCode: 'disk:*', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' };
const deny9 = (change: Record<string, unknown>) => ({ resourceCode: 'disk:9', resourceType: 'DATA', actions: ['disk:Delete'], effect: 'DENY', ...change });
const userIs = (value: unknown) => ({ param: 'UserId', operator: 'StringEquals', value });
/** A condition that holds for every user (raw bodies are served as written, with no `$USER` in them). */
const anyUser = { param: 'UserId', operator: 'StringLike', value: '*' };

/** How GenAuth answers: the raw entries of the user's list, or a whole raw answer body (a `respond` fault). */
type Upstream = { entries: unknown[] } | { body: string | Record<string, unknown> };
const list = (entries: unknown[], totalCount = entries.length) => ({ body: { statusCode: 200, message: '', data: { totalCount, list: entries } } });

/** [label, upstream answer, route, outcome]. */
type Case = [string, Upstream, Route, 200 | 403 | 503];

const CASES: Case[] = [
  // controls
  ['a plain ALLOW', { entries: [reports()] }, 'reports', 200],
  ['actions as a JSON-encoded string (accepted form)', { entries: [reports({ actions: '["reports:Read"]' })] }, 'reports', 200],
  ['actions reports:*', { entries: [reports({ actions: ['reports:*'] })] }, 'reports', 200],
  ['the code wildcard *', { entries: [reports({ resourceCode: '*' })] }, 'reports', 200],
  ['a condition that holds (UserId)', { entries: [reports({ condition: [userIs('$USER')] })] }, 'reports', 200],
  ['junk entries around a plain ALLOW', { entries: ['junk', 7, null, [], true, reports()] }, 'reports', 200],
  ['a grant on ecs:constructor', { entries: [{ resourceCode: 'ecs:constructor', resourceType: 'DATA', actions: ['ecs:Start'], effect: 'ALLOW' }] }, 'server-constructor', 200],
  // effect
  ['effect missing', { entries: [reports({ effect: undefined })] }, 'reports', 403],
  ['effect null', { entries: [reports({ effect: null })] }, 'reports', 403],
  ['effect "ALLOW " with a space', { entries: [reports({ effect: 'ALLOW ' })] }, 'reports', 403],
  ['effect ALLOWED', { entries: [reports({ effect: 'ALLOWED' })] }, 'reports', 403],
  ['effect true', { entries: [reports({ effect: true })] }, 'reports', 403],
  ['effect 1', { entries: [reports({ effect: 1 })] }, 'reports', 403],
  ['effect an object', { entries: [reports({ effect: {} })] }, 'reports', 403],
  ['effect ["ALLOW"]', { entries: [reports({ effect: ['ALLOW'] })] }, 'reports', 403],
  // actions
  ['actions a plain string', { entries: [reports({ actions: 'reports:Read' })] }, 'reports', 403],
  ['actions a JSON-encoded string of a string', { entries: [reports({ actions: '"reports:Read"' })] }, 'reports', 403],
  ['actions a string that is not JSON', { entries: [reports({ actions: '[reports:Read]' })] }, 'reports', 403],
  ['actions nested in an array', { entries: [reports({ actions: [['reports:Read']] })] }, 'reports', 403],
  ['actions a number', { entries: [reports({ actions: [1] })] }, 'reports', 403],
  ['actions null', { entries: [reports({ actions: null })] }, 'reports', 403],
  ['actions an array-like object', { entries: [reports({ actions: { 0: 'reports:Read', length: 1 } })] }, 'reports', 403],
  ['actions in another case', { entries: [reports({ actions: ['REPORTS:READ'] })] }, 'reports', 403],
  ['actions a prefix without the colon wildcard', { entries: [reports({ actions: ['reports*', 'reports:Re*', 'reports:Rea', 'reports:Read ', '', '*:*'] })] }, 'reports', 403],
  ['actions prototype names', { entries: [reports({ actions: ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] })] }, 'reports', 403],
  // resource code
  ['code in another case', { entries: [reports({ resourceCode: 'Reports' })] }, 'reports', 403],
  ['code with a trailing space', { entries: [reports({ resourceCode: 'reports ' })] }, 'reports', 403],
  ['code a wildcard without the colon', { entries: [reports({ resourceCode: 'report*' })] }, 'reports', 403],
  ['code "reports:*" (covers reports:..., not reports)', { entries: [reports({ resourceCode: 'reports:*' })] }, 'reports', 403],
  ['code in an array', { entries: [reports({ resourceCode: ['reports'] })] }, 'reports', 403],
  ['code a number', { entries: [reports({ resourceCode: 42 })] }, 'reports', 403],
  ['code null', { entries: [reports({ resourceCode: null })] }, 'reports', 403],
  ['code empty', { entries: [reports({ resourceCode: '' })] }, 'reports', 403],
  ['codes that are prototype names', { entries: ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'ecs:__proto__', 'ecs:prototype'].map((code) => ({ resourceCode: code, resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' })) }, 'server-constructor', 403],
  // conditions
  ['a condition that fails (UserId)', { entries: [reports({ condition: [userIs('someone-else')] })] }, 'reports', 403],
  ['a condition as one object that fails', { entries: [reports({ condition: userIs('someone-else') })] }, 'reports', 403],
  ['a condition as one object that holds', { entries: [reports({ condition: userIs('$USER') })] }, 'reports', 200],
  ['a condition as a string', { entries: [reports({ condition: 'UserId == someone-else' })] }, 'reports', 403],
  ['a condition as a number', { entries: [reports({ condition: 42 })] }, 'reports', 403],
  ['a condition as true', { entries: [reports({ condition: true })] }, 'reports', 403],
  ['a condition with an unknown operator', { entries: [reports({ condition: [{ param: 'UserId', operator: 'Matches', value: '.*' }] })] }, 'reports', 403],
  ['a condition on a key the request lacks', { entries: [reports({ condition: [{ param: 'Device', operator: 'StringNotEquals', value: 'x' }] })] }, 'reports', 403],
  ['a condition list holding null', { entries: [reports({ condition: [null] })] }, 'reports', 403],
  ['a condition whose operator is a number', { entries: [reports({ condition: [{ param: 'UserId', operator: 5, value: 'x' }] })] }, 'reports', 403],
  ['a condition whose value is an object', { entries: [reports({ condition: [userIs({ toString: '$USER' })] })] }, 'reports', 403],
  ['a condition on __proto__', { entries: [reports({ condition: [{ param: '__proto__', operator: 'StringEquals', value: '[object Object]' }] })] }, 'reports', 403],
  ['a condition on constructor', { entries: [reports({ condition: [{ param: 'constructor', operator: 'StringLike', value: '*' }] })] }, 'reports', 403],
  ['a condition on toString', { entries: [reports({ condition: [{ param: 'toString', operator: 'Bool', value: 'true' }] })] }, 'reports', 403],
  // DENY
  ['DENY with actions [] denies every action on its code', { entries: [diskAll, deny9({ actions: [] })] }, 'disk9', 403],
  ['DENY actions in another case', { entries: [diskAll, deny9({ actions: ['DISK:DELETE'] })] }, 'disk9', 403],
  ['DENY effect in lower case', { entries: [diskAll, deny9({ effect: 'deny' })] }, 'disk9', 403],
  ['DENY with unreadable actions', { entries: [diskAll, deny9({ actions: 'disk:Delete' })] }, 'disk9', 403],
  ['DENY before the ALLOW', { entries: [deny9({}), diskAll] }, 'disk9', 403],
  // GenAuth's `book:*:read` form (protocol notes §3.9): a `*` segment stands for any qualifier or none
  ['DENY disk:*:Delete (any disk, Delete)', { entries: [diskAll, deny9({ actions: ['disk:*:Delete'] })] }, 'disk9', 403],
  ['DENY *:Delete (Delete on anything)', { entries: [diskAll, deny9({ actions: ['*:Delete'] })] }, 'disk9', 403],
  ['DENY disk:*:* (everything on disks)', { entries: [diskAll, deny9({ actions: ['disk:*:*'] })] }, 'disk9', 403],
  ['DENY *:delete in another case', { entries: [diskAll, deny9({ actions: ['*:delete'] })] }, 'disk9', 403],
  ['DENY ecs:*:Delete leaves disk:Delete', { entries: [diskAll, deny9({ actions: ['ecs:*:Delete', 'disk:*:Stop'] })] }, 'disk9', 200],
  // A DENY's code is read as widely as it could be meant: a `*` segment stands for any segments or none
  ['DENY code *:9 (anything numbered 9)', { entries: [diskAll, deny9({ resourceCode: '*:9' })] }, 'disk9', 403],
  ['DENY code disk:*:9 (its * standing for none)', { entries: [diskAll, deny9({ resourceCode: 'disk:*:9' })] }, 'disk9', 403],
  ['DENY code disk:9:* (disk 9 and below)', { entries: [diskAll, deny9({ resourceCode: 'disk:9:*' })] }, 'disk9', 403],
  ['DENY code disk:*:* (every disk)', { entries: [diskAll, deny9({ resourceCode: 'disk:*:*' })] }, 'disk9', 403],
  ['DENY code d*:9 (a * inside a segment counts as a whole * segment)', { entries: [diskAll, deny9({ resourceCode: 'd*:9' })] }, 'disk9', 403],
  ['DENY code reports:* covers reports itself', { entries: [reports(), reports({ resourceCode: 'reports:*', effect: 'DENY' })] }, 'reports', 403],
  ['DENY codes *:8 and ecs:*:9 leave disk:9', { entries: [diskAll, deny9({ resourceCode: '*:8' }), deny9({ resourceCode: 'ecs:*:9' })] }, 'disk9', 200],
  ['ALLOW code *:9 is literal (grants no disk:9)', { entries: [{ ...diskAll, resourceCode: '*:9' }] }, 'disk9', 403],
  ['ALLOW code disk:*:9 is literal (grants no disk:9)', { entries: [{ ...diskAll, resourceCode: 'disk:*:9' }] }, 'disk9', 403],
  ['DENY whose condition cannot be evaluated', { entries: [diskAll, deny9({ condition: [{ param: 'Device', operator: 'StringEquals', value: 'x' }] })] }, 'disk9', 403],
  ['DENY with a condition as one object that holds', { entries: [diskAll, deny9({ condition: userIs('$USER') })] }, 'disk9', 403],
  // A DENY whose resourceCode cannot be read names no code the guard can trust: it covers every code (fail closed)
  ['DENY with no resourceCode', { entries: [diskAll, deny9({ resourceCode: undefined })] }, 'disk9', 403],
  ['DENY with resourceCode null', { entries: [diskAll, deny9({ resourceCode: null })] }, 'disk9', 403],
  ['DENY with resourceCode empty', { entries: [diskAll, deny9({ resourceCode: '' })] }, 'disk9', 403],
  ['DENY with resourceCode a number', { entries: [diskAll, deny9({ resourceCode: 9 })] }, 'disk9', 403],
  ['DENY with resourceCode in an array', { entries: [diskAll, deny9({ resourceCode: ['disk:9'] })] }, 'disk9', 403],
  ['an entry with no resourceCode and no effect', { entries: [diskAll, { resourceType: 'DATA', actions: ['disk:Delete'] }] }, 'disk9', 403],
  ['DENY with no resourceCode leaves actions it does not name (control)', { entries: [diskAll, deny9({ resourceCode: undefined, actions: ['disk:Stop'] })] }, 'disk9', 200],
  // the list and the envelope
  ['junk entries only', { entries: ['junk', 7, null, [], true, { resourceCode: 'reports' }] }, 'reports', 403],
  ['an empty list', list([]), 'reports', 403],
  ['the list as one ALLOW object', { body: { statusCode: 200, data: { totalCount: 1, list: reports() } } }, 'reports', 200],
  ['the list as one DENY object', { body: { statusCode: 200, data: { totalCount: 1, list: deny9({}) } } }, 'disk9', 403],
  ['totalCount beyond the list (a truncated page)', list([diskAll], 5), 'disk9', 503],
  ['totalCount equal to the list', list([reports()], 1), 'reports', 200],
  ['the list null', { body: { statusCode: 200, data: { totalCount: 0, list: null } } }, 'reports', 503],
  ['the list a string', { body: { statusCode: 200, data: { totalCount: 1, list: 'reports' } } }, 'reports', 503],
  ['the list missing', { body: { statusCode: 200, data: { totalCount: 0 } } }, 'reports', 503],
  ['data null', { body: { statusCode: 200, data: null } }, 'reports', 503],
  ['data missing', { body: { statusCode: 200 } }, 'reports', 503],
  ['statusCode a string', { body: { statusCode: '200', data: { totalCount: 1, list: [reports()] } } }, 'reports', 503],
  ['statusCode missing', { body: { data: { totalCount: 1, list: [reports()] } } }, 'reports', 503],
  ['the body a JSON array', { body: JSON.stringify([{ statusCode: 200, data: { list: [reports()] } }]) }, 'reports', 503],
  // valid JSON that is no envelope, and an HTTP 200 whose body statusCode is not 200
  ...['200', 'null', '"ok"', 'true', '{}'].map((body): Case => [`the body ${body}`, { body }, 'reports', 503]),
  ['data an array holding the list', { body: { statusCode: 200, data: [{ totalCount: 1, list: [reports()] }] } }, 'reports', 503],
  ...[0, 201, 299, 200.5, -200].map((statusCode): Case => [`statusCode ${statusCode} under HTTP 200, with a list`, { body: { statusCode, data: { totalCount: 1, list: [reports()] } } }, 'reports', 503]),
  ['statusCode 2e2 is the number 200 (control)', { body: `{"statusCode":2e2,"data":{"totalCount":1,"list":[${JSON.stringify(reports())}]}}` }, 'reports', 200],
  ['user not found (statusCode 404, apiCode 2004) is a denial, not an outage', { body: { statusCode: 404, apiCode: 2004, message: '用户不存在' } }, 'reports', 403],
  // a key named twice in one object: JSON.parse keeps the last, a stricter reader the first; no one meaning, so 503
  ['effect named twice, DENY then ALLOW', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"resourceCode":"reports","resourceType":"DATA","actions":["reports:Read"],"effect":"DENY","effect":"ALLOW"}]}}` }, 'reports', 503],
  ['condition named twice, then null', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"resourceCode":"reports","resourceType":"DATA","actions":["reports:Read"],"effect":"ALLOW","condition":[${JSON.stringify(userIs('someone-else'))}],"condition":null}]}}` }, 'reports', 503],
  ['a condition\'s value named twice', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"resourceCode":"reports","resourceType":"DATA","actions":["reports:Read"],"effect":"ALLOW","condition":[{"param":"UserId","operator":"StringLike","value":"nobody","value":"*"}]}]}}` }, 'reports', 503],
  ['effect named twice, once escaped (\\u0065ffect)', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"resourceCode":"reports","resourceType":"DATA","actions":["reports:Read"],"effect":"DENY","\\u0065ffect":"ALLOW"}]}}` }, 'reports', 503],
  ['effect named twice in a long answer (over 64 Ki characters: scanned in a turn of its own)', { body: `{"statusCode":200,"data":{"totalCount":501,"list":[${Array.from({ length: 500 }, (_, i) => JSON.stringify(reports({ resourceCode: `filler:${i}`, description: 'x'.repeat(100) }))).join(',')},{"resourceCode":"reports","resourceType":"DATA","actions":["reports:Read"],"effect":"DENY","effect":"ALLOW"}]}}` }, 'reports', 503],
  ['a long answer with no key named twice (control)', { body: `{"statusCode":200,"data":{"totalCount":501,"list":[${Array.from({ length: 500 }, (_, i) => JSON.stringify(reports({ resourceCode: `filler:${i}`, description: 'x'.repeat(100) }))).join(',')},${JSON.stringify(reports())}]}}` }, 'reports', 200],
  ['totalCount named twice', { body: `{"statusCode":200,"data":{"totalCount":5,"list":[${JSON.stringify(reports())}],"totalCount":1}}` }, 'reports', 503],
  ['statusCode named twice', { body: `{"statusCode":500,"statusCode":200,"data":{"totalCount":1,"list":[${JSON.stringify(reports())}]}}` }, 'reports', 503],
  ['the same keys in sibling and nested objects (control)', { body: `{"statusCode":200,"data":{"totalCount":2,"list":[${JSON.stringify(reports({ condition: [anyUser] }))},${JSON.stringify(reports({ condition: [anyUser] }))}]}}` }, 'reports', 200],
  // prototype pollution in the envelope and the entries (raw JSON, so __proto__ is an own key)
  ['an entry made only of __proto__', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"__proto__":${JSON.stringify(reports())}}]}}` }, 'reports', 403],
  ['an entry with __proto__ and constructor.prototype', { body: `{"statusCode":200,"data":{"totalCount":1,"list":[{"resourceCode":"x","actions":["x"],"__proto__":{"polluted":1,"effect":"ALLOW"},"constructor":{"prototype":{"polluted":1}}}]}}` }, 'reports', 403],
  ['the envelope under __proto__', { body: `{"__proto__":{"statusCode":200,"data":{"totalCount":1,"list":[${JSON.stringify(reports())}]}}}` }, 'reports', 503],
  ['the list under data.__proto__', { body: `{"statusCode":200,"data":{"__proto__":{"totalCount":1,"list":[${JSON.stringify(reports())}]}}}` }, 'reports', 503],
  ['pollution keys beside a plain list', { body: `{"statusCode":200,"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"data":{"totalCount":1,"list":[${JSON.stringify(reports())}],"__proto__":{"polluted":1}}}` }, 'reports', 200],
];

/** Replaces `$USER` anywhere in the upstream answer with the case's user id. */
function withUser<T>(value: T, user: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll('$USER', user)) as T;
}

function serve(user: string, upstream: Upstream): void {
  if ('entries' in upstream) {
    emulator().setRawGrants(user, withUser(upstream.entries, user));
  } else {
    const body = typeof upstream.body === 'string' ? upstream.body : withUser(upstream.body, user);
    emulator().fault({ kind: 'respond', status: 200, body, path: RESOURCES });
  }
}

describe.each(ROWS)('$name', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()) });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(CASES.map((c, i) => [...c, i] as const))('%s', async (_label, upstream, route, outcome, index) => {
    const user = `policy-${index}`;
    serve(user, upstream);
    const token = await emulator().mintToken(user);
    const answer = await send(probe.port, { ...ROUTES[route], headers: bearer(token) });
    if (outcome === 200) return expectAllowed(emulator(), answer, 1);
    expectRefused(emulator(), probe, answer, {
      status: outcome,
      code: outcome === 403 ? 'ERR_PERMISSION_DENIED' : 'ERR_PERMISSIONS_UNAVAILABLE',
      challenge: outcome === 403 ? 'Bearer realm="api", error="insufficient_scope"' : null,
      upstream: 1,
      forbidden: forbiddenStrings(emulator(), token, ['用户不存在']),
    });
  });
});

/** API mode: only `API` grants with an identifier count, and every shape above fails the same way. */
const API: ApiModeOptions = {};
const servers = (change: Record<string, unknown> = {}) => ({
  resourceCode: 'servers',
  resourceType: 'API',
  apiIdentifier: '/api/v1/servers',
  actions: ['read'],
  effect: 'ALLOW',
  ...change,
});

/** [label, raw entries, outcome on GET /api/v1/servers, other targets that must not be let through]. */
const API_CASES: Array<[string, unknown[], 200 | 403, string[]?]> = [
  ['a plain API ALLOW', [servers()], 200],
  ['resourceType unknown', [servers({ resourceType: 'FOO' })], 403],
  ['resourceType missing', [servers({ resourceType: undefined })], 403],
  ['resourceType in an array', [servers({ resourceType: ['API'] })], 403],
  ['resourceType DATA', [servers({ resourceType: 'DATA' })], 403],
  // Upper-casing is wider than a case-insensitive match: dotless ı (U+0131) upper-cases to I, yet 'apı' is no spelling of API.
  ['resourceType "apı" (dotless i)', [servers({ resourceType: 'ap\u0131' })], 403],
  ['resourceType "api" in lower case (control)', [servers({ resourceType: 'api' })], 200],
  ['apiIdentifier a number', [servers({ apiIdentifier: 42 })], 403],
  ['apiIdentifier an object', [servers({ apiIdentifier: { path: '/api/v1/servers' } })], 403],
  ['effect missing', [servers({ effect: undefined })], 403],
  ['a condition as one object that fails', [servers({ condition: userIs('someone-else') })], 403],
  ['DENY with actions []', [servers(), servers({ resourceCode: 'deny', actions: [], effect: 'DENY' })], 403],
  ['DENY actions in another case', [servers(), servers({ resourceCode: 'deny', actions: ['READ'], effect: 'DENY' })], 403],
  // A DENY of a type the guard cannot read counts as an API DENY (fail closed); such an ALLOW never counts.
  ['DENY of an unknown resourceType', [servers(), servers({ resourceCode: 'deny', resourceType: 'FOO', effect: 'DENY' })], 403],
  ['DENY with no resourceType', [servers(), servers({ resourceCode: 'deny', resourceType: undefined, effect: 'DENY' })], 403],
  ['DENY of resourceType DATA (a known other type) does not count', [servers(), servers({ resourceCode: 'deny', resourceType: 'DATA', effect: 'DENY' })], 200],
  // API mode matches by apiIdentifier: a DENY whose resourceCode cannot be read still applies by its path.
  ['DENY with no resourceCode', [servers(), servers({ resourceCode: undefined, effect: 'DENY' })], 403],
  ['DENY with resourceCode null', [servers(), servers({ resourceCode: null, effect: 'DENY' })], 403],
  ['DENY with resourceCode empty', [servers(), servers({ resourceCode: '', effect: 'DENY' })], 403],
  ['DENY with resourceCode a number', [servers(), servers({ resourceCode: 7, effect: 'DENY' })], 403],
  ['an ALLOW with no resourceCode still grants nothing', [servers({ resourceCode: undefined })], 403],
  [
    'identifiers that are prototype names',
    [servers({ apiIdentifier: '/__proto__' }), servers({ apiIdentifier: '/constructor' }), servers({ apiIdentifier: '/api/v1/prototype' })],
    403,
    ['/__proto__/polluted', '/constructor/prototype', '/toString', '/hasOwnProperty', '/api/v1/prototype/x', '/api/v1/__proto__', '/api/v1/constructor'],
  ],
];

describe.each(ROWS)('$name API mode', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()), api: API });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(API_CASES.map(([label, entries, outcome, others], i) => [label, entries, outcome, others ?? [], i] as const))('%s', async (_label, entries, outcome, others, index) => {
    const user = `policy-api-${index}`;
    emulator().setRawGrants(user, withUser(entries, user).map((e) => JSON.parse(JSON.stringify(e))));
    const token = await emulator().mintToken(user);
    const answer = await send(probe.port, { target: '/api/v1/servers', headers: bearer(token) });
    if (outcome === 200) return expectAllowed(emulator(), answer, 1);
    expectRefused(emulator(), probe, answer, {
      status: 403,
      code: 'ERR_PERMISSION_DENIED',
      challenge: 'Bearer realm="api", error="insufficient_scope"',
      upstream: 1,
      forbidden: forbiddenStrings(emulator(), token),
    });
    for (const target of others) expect((await send(probe.port, { target, headers: bearer(token) })).status, target).toBe(403);
    expect(capture.handled).toBe(0);
  });
});

/**
 * A route restricted to a type (Express's `requirePermission(..., { resourceType })`, Fastify's
 * `config.genauth.route`): only grants of that type count, but a DENY whose type the guard cannot read
 * applies all the same (fail closed); such an ALLOW never counts there.
 */
const TYPED_CASES: Array<[string, unknown[], 200 | 403]> = [
  ['a plain DATA ALLOW', [reports()], 200],
  ['an ALLOW of an unknown type', [reports({ resourceType: 'FOO' })], 403],
  ['an ALLOW with no resourceType', [reports({ resourceType: undefined })], 403],
  ['a DENY of an unknown type beside a DATA ALLOW', [reports(), reports({ resourceType: 'FOO', effect: 'DENY' })], 403],
  ['a DENY with no resourceType beside a DATA ALLOW', [reports(), reports({ resourceType: undefined, effect: 'DENY' })], 403],
  ['a DENY whose resourceType is a number, before a DATA ALLOW', [reports({ resourceType: 7, effect: 'DENY' }), reports()], 403],
  ['a DENY of another known type (MENU) does not count', [reports(), reports({ resourceType: 'MENU', effect: 'DENY' })], 200],
];

const TYPED_APPS: Array<{ name: string; start(): Promise<{ port: number; close(): Promise<void> }> }> = [
  {
    name: 'Express requirePermission(..., { resourceType })',
    async start() {
      const guard = createExpressGuard({ ...optionsFor(emulator()), logger: false });
      const app = express();
      app.get('/typed', guard.requirePermission('reports', 'reports:Read', { resourceType: 'DATA' }), (_req, res) => {
        capture.handled++;
        res.json({ ok: true });
      });
      const server = await new Promise<Server>((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      const { port } = server.address() as AddressInfo;
      return { port, close: async () => void (await new Promise((resolve) => server.close(resolve)), await guard.close()) };
    },
  },
  {
    name: 'Fastify config.genauth.route',
    async start() {
      const app = Fastify();
      app.register(genauthGuard, { ...optionsFor(emulator()), logger: false });
      await app.after();
      app.get('/typed', { config: { genauth: { resource: 'reports', requirement: 'reports:Read', route: { resourceType: 'DATA' } } } }, async () => {
        capture.handled++;
        return { ok: true };
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return { port, close: () => app.close() };
    },
  },
];

describe.each(TYPED_APPS)('$name', (typed) => {
  let app: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    app = await typed.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(TYPED_CASES.map(([label, entries, outcome], i) => [label, entries, outcome, i] as const))('%s', async (_label, entries, outcome, index) => {
    const user = `policy-typed-${typed.name.split(' ')[0]}-${index}`;
    emulator().setRawGrants(user, entries.map((e) => JSON.parse(JSON.stringify(e))));
    const token = await emulator().mintToken(user);
    const answer = await send(app.port, { target: '/typed', headers: bearer(token) });
    expect(answer.status).toBe(outcome);
    expect(capture.handled).toBe(outcome === 200 ? 1 : 0);
  });
});
