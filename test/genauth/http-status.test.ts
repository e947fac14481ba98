// GenAuth answers HTTP 200, business errors included: another 2xx (a 206's part of a body, a 203's
// rewrite by a proxy) is not its answer, and its body is never used, for the grants or the token.
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

/** Answers every grants request with `body` (an object, or raw text served byte for byte) and HTTP `status`. */
function serve(body: unknown, status = 200) {
  emulator().fault({ kind: 'respond', status, body, path: RESOURCES });
}

async function expectUnavailable(server: express.Express) {
  const res = await get(server);
  expect(res.status).toBe(503);
  expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
}

describe('an HTTP status other than 200 with a success body', () => {
  const body = { statusCode: 200, data: { totalCount: 1, list: [READ] } };
  it.each([201, 202, 203, 204, 206, 299])('grants answered with HTTP %i: 503', async (status) => {
    serve(status === 204 ? '' : body, status);
    await expectUnavailable(app().server);
  });

  it.each([201, 203, 206])('the management token answered with HTTP %i: 503, no grants asked for', async (status) => {
    emulator().fault({ kind: 'respond', status, body: { statusCode: 200, data: { access_token: 'tok', expires_in: 7200 } }, path: TOKEN });
    await expectUnavailable(app().server);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('control: HTTP 200 is read as usual', async () => {
    serve(body);
    expect((await get(app().server)).status).toBe(200);
  });
});
