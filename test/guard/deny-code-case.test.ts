// A DENY's resource code covers the same code in any case, as its actions already did: GenAuth does not
// document whether codes are case-sensitive, and a DENY of `Books` that leaves `books` to an ALLOW fails
// open if they are one resource. An ALLOW's code stays exact. Over real HTTP (Express, the emulator),
// with the cache (a compact index; the second request decides from the cached grants) and without it
// (a lazy index per request).
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GrantInput } from '../../src/testing/index.js';
import { bearerFor, closeAfterEach, resetEmulator, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => resetEmulator(emulator()));

describe.each([
  ['cached (compact index)', {}],
  ['cache: false (lazy index)', { cache: false as const }],
])('a DENY code in another case, %s', (_name, cacheOptions) => {
  let lines: string[] = [];
  beforeEach(() => {
    lines = [];
  });

  function appWith() {
    const guard = track(createExpressGuard({ ...emulator().guardOptions(), ...cacheOptions, logger: { warn: (line: string) => lines.push(line) } }));
    const app = express();
    app.get('/books', guard.requirePermission('books', 'books:read'), (_req, res) => void res.send('ok'));
    app.get('/books/:id', guard.requirePermission((req) => `books:${req.params.id}`, 'books:read'), (_req, res) => void res.send('ok'));
    return app;
  }

  /** Status of two identical requests by alice (with the cache, the second decides from the cached grants). */
  async function statuses(app: express.Express, path: string): Promise<number[]> {
    const auth = await bearerFor(emulator(), 'alice');
    const out: number[] = [];
    for (let i = 0; i < 2; i++) out.push((await request(app).get(path).set('authorization', auth)).status);
    return out;
  }

  const grants = (...list: GrantInput[]) => emulator().setGrants('alice', list);
  const allowBooks: GrantInput = { resourceCode: 'books', actions: ['books:read'] };
  const allowBook1: GrantInput = { resourceCode: 'books:1', actions: ['books:read'] };

  it.each([['Books'], ['BOOKS'], ['Books:*'], ['bOOks'], ['*:BOOKS']])('a DENY of %s denies books', async (code) => {
    grants(allowBooks, { resourceCode: code, actions: ['*'], effect: 'DENY' });
    expect(await statuses(appWith(), '/books')).toEqual([403, 403]);
  });

  it.each([['Books:1'], ['BOOKS:*'], ['BOOKS:*:1']])('a DENY of %s denies books:1 (an ALLOW of books:1 beside it)', async (code) => {
    grants(allowBook1, { resourceCode: code, actions: ['*'], effect: 'DENY' });
    expect(await statuses(appWith(), '/books/1')).toEqual([403, 403]);
  });

  it('a DENY in another case denies a code only a wildcard ALLOW grants', async () => {
    grants({ resourceCode: 'books:*', actions: ['books:read'] }, { resourceCode: 'Books:2', actions: ['books:read'], effect: 'DENY' });
    expect(await statuses(appWith(), '/books/2')).toEqual([403, 403]);
    expect(await statuses(appWith(), '/books/3')).toEqual([200, 200]);
  });

  it('a DENY of another code does not; an ALLOW stays exact', async () => {
    grants(allowBooks, { resourceCode: 'Bookshelf', actions: ['*'], effect: 'DENY' });
    expect(await statuses(appWith(), '/books')).toEqual([200, 200]);
    grants({ resourceCode: 'Books', actions: ['books:read'] });
    expect(await statuses(appWith(), '/books')).toEqual([403, 403]);
  });

  it('a DENY in another case whose conditions sit under another key than `condition` applies (fail closed)', async () => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'books', description: '', resourceType: 'DATA', actions: ['books:read'], effect: 'ALLOW', condition: [] },
      {
        resourceCode: 'Books',
        description: '',
        resourceType: 'DATA',
        actions: ['books:read'],
        effect: 'DENY',
        condition: [],
        conditions: [{ param: 'UserId', operator: 'StringEquals', value: 'someone-else' }],
      },
    ]);
    expect(await statuses(appWith(), '/books')).toEqual([403, 403]);
    expect(lines.some((line) => line.includes('"conditions"'))).toBe(true);
  });
});
