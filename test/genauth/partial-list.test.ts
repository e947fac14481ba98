// `totalCount` larger than the list sent means GenAuth sent part of the user's grants, and the part
// left out may hold a DENY: such an answer is a 503 (with one operator warning a minute naming the
// counts) unless `genauth.acceptPartialLists` says to use it.
import express from 'express';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExpressGuard, ExpressGuardOptions } from '../../src/adapters/express.js';
import { createGuard } from '../../src/core/guard.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, closeAfterEach, resetEmulator } from '../fixtures.js';
import { getReports, reportsApp } from './reports-app.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
});

const app = (overrides: Partial<ExpressGuardOptions> = {}) => reportsApp(emulator(), track, overrides);

const get = (server: express.Express, user?: string) => getReports(emulator(), server, user);

const READ = { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' };

/** Answers every grants request with `list` and `totalCount` as given (`undefined`: no totalCount). */
function serve(list: unknown[], totalCount: unknown) {
  const data = totalCount === undefined ? { list } : { totalCount, list };
  emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, message: '', data }, path: RESOURCES });
}

describe('partial lists (totalCount larger than the list)', () => {
  it('are a 503, not retried, with one warning a minute naming the counts', async () => {
    serve([READ], 3); // two grants left out, a DENY among them perhaps
    const { server, lines } = app();
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
    expect((await get(server)).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/partial/);
    expect(lines[0]).toMatch(/\b1\b.*\b3\b/);
    expect(lines[0]).toMatch(/acceptPartialLists/);
    expect(lines[0]).not.toMatch(/alice/);
  });

  it('warn again once a minute has passed on the guard clock', async () => {
    serve([READ], 2);
    const { clock, advance } = manualClock();
    const { server, lines } = app({ clock });
    expect((await get(server)).status).toBe(503);
    advance(30_000);
    expect((await get(server)).status).toBe(503);
    expect(lines).toHaveLength(1);
    advance(31_000);
    expect((await get(server)).status).toBe(503);
    expect(lines).toHaveLength(2);
  });

  it('a numeric string totalCount counts as well', async () => {
    serve([READ], '4');
    expect((await get(app().server)).status).toBe(503);
  });

  it('are used as sent with genauth.acceptPartialLists: true', async () => {
    serve([READ], 3);
    const { server, lines } = app({ genauth: { acceptPartialLists: true } as never });
    expect((await get(server)).status).toBe(200);
    expect(lines).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['null', null],
    ['equal', 1],
    ['equal, as digits in a string', '1'],
    ['smaller', 0],
  ])('a totalCount that is %s is no partial list', async (_name, totalCount) => {
    serve([READ], totalCount);
    const { server, lines } = app();
    expect((await get(server)).status).toBe(200);
    expect(lines).toEqual([]);
  });

  it('1.0 written as a JSON number is the number 1: no partial list', async () => {
    const body = `{"statusCode":200,"data":{"totalCount":1.0,"list":[${JSON.stringify(READ)}]}}`;
    emulator().fault({ kind: 'respond', status: 200, body, path: RESOURCES });
    expect((await get(app().server)).status).toBe(200);
  });
});

// A totalCount GenAuth sent that is not a count (the spec's `number`: a non-negative integer, or its
// digits as a string) leaves unknown whether the list is whole: the answer is unusable, a 503 whatever
// genauth.acceptPartialLists says (that option takes a short list, not one of unknown length).
describe('a totalCount present but not a count', () => {
  it.each<[string, unknown]>([
    ["'+2'", '+2'],
    ["'1,000'", '1,000'],
    ["'2 '", '2 '],
    ["' 1'", ' 1'],
    ["'4.0'", '4.0'],
    ["'1.0'", '1.0'],
    ["'4e0'", '4e0'],
    ["'0x2'", '0x2'],
    ["'many'", 'many'],
    ["''", ''],
    ["'99999999999999999999'", '99999999999999999999'],
    ['2.5', 2.5],
    ['-1', -1],
    ['-5', -5],
    ['true', true],
    ['an object', { n: 3 }],
    ['a list', [1]],
    ['2^53 (no safe integer)', 2 ** 53],
  ])('%s: 503, even under genauth.acceptPartialLists', async (_name, totalCount) => {
    serve([READ], totalCount);
    for (const overrides of [{}, { genauth: { acceptPartialLists: true } as never }]) {
      const res = await get(app(overrides).server);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    }
  });
});

describe('genauth.acceptPartialLists', () => {
  it.each(['yes', 1, null])('refuses %j', (value) => {
    expect(() => createGuard({ ...emulator().guardOptions(), genauth: { ...emulator().guardOptions().genauth, acceptPartialLists: value as never } })).toThrow(
      /"genauth\.acceptPartialLists"/,
    );
  });
});
