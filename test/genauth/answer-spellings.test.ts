// GenAuth answers with a key of the envelope or of `data` spelt a second time in another ASCII case
// (`List` beside `list`, `Data` beside `data`): the answer has no one meaning (JSON.parse keeps both
// keys, a case-insensitive reader the last), so it is unusable (a 503), never the ALLOW one spelling states.
import express from 'express';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExpressGuard, ExpressGuardOptions } from '../../src/adapters/express.js';
import { RESOURCES, useEmulator, closeAfterEach, resetToAliceReading } from '../fixtures.js';
import { getReports, reportsApp } from './reports-app.js';

const TOKEN = '/api/v3/get-management-token';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => resetToAliceReading(emulator()));

const app = (overrides: Partial<ExpressGuardOptions> = {}) => reportsApp(emulator(), track, overrides);
const get = (server: express.Express) => getReports(emulator(), server);

const READ = { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' };
const DENY = { ...READ, effect: 'DENY' };

/** Answers every grants request with `body` (an object, or raw text served byte for byte) and HTTP `status`. */
function serve(body: unknown, status = 200) {
  emulator().fault({ kind: 'respond', status, body, path: RESOURCES });
}

async function expectUnavailable(server: express.Express) {
  const res = await get(server);
  expect(res.status).toBe(503);
  expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
}

describe('a key spelt twice in different cases', () => {
  it.each<[string, Record<string, unknown>]>([
    ['List (a DENY) beside list', { statusCode: 200, data: { totalCount: 1, list: [READ], List: [DENY] } }],
    ['LIST (empty) beside list', { statusCode: 200, data: { totalCount: 1, list: [READ], LIST: [] } }],
    ['TotalCount (larger) beside totalCount', { statusCode: 200, data: { totalCount: 1, TotalCount: 3, list: [READ] } }],
    ['Data (a DENY) beside data', { statusCode: 200, data: { totalCount: 1, list: [READ] }, Data: { totalCount: 1, list: [DENY] } }],
    ['StatusCode (500) beside statusCode', { statusCode: 200, StatusCode: 500, data: { totalCount: 1, list: [READ] } }],
    // a Unicode case fold (Go's encoding/json, Java's equalsIgnoreCase): U+017F LONG S is s, U+0131 DOTLESS I is i
    ['liſt (long s, a DENY) beside list', { statusCode: 200, data: { totalCount: 1, list: [READ], 'liſt': [DENY] } }],
    ['lıst (dotless i, a DENY) beside list', { statusCode: 200, data: { totalCount: 1, list: [READ], 'lıst': [DENY] } }],
    ['ſtatusCode (500) beside statusCode', { statusCode: 200, 'ſtatusCode': 500, data: { totalCount: 1, list: [READ] } }],
    ['ApiCode beside apiCode', { statusCode: 200, apiCode: 0, APICODE: 1300, data: { totalCount: 1, list: [READ] } }],
  ])('%s: 503', async (_label, body) => {
    serve(body);
    await expectUnavailable(app().server);
  });

  it('in the token answer too (Data beside data): 503, no grants asked for', async () => {
    emulator().fault({
      kind: 'respond',
      status: 200,
      body: { statusCode: 200, data: { access_token: 'tok', expires_in: 7200 }, Data: { access_token: 'other', expires_in: 7200 } },
      path: TOKEN,
    });
    await expectUnavailable(app().server);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it.each<[string, Record<string, unknown>]>([
    ['message and Message (keys the guard does not read)', { statusCode: 200, message: '', Message: 'x', data: { totalCount: 1, list: [READ] } }],
    ['a list-like key that is no other spelling (lists)', { statusCode: 200, data: { totalCount: 1, list: [READ], lists: [DENY] } }],
  ])('control: %s is read as usual (200)', async (_label, body) => {
    serve(body);
    expect((await get(app().server)).status).toBe(200);
  });
});
