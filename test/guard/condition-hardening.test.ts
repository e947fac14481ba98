// Conditions over HTTP: a conditions.context hook that never settles, numbers and commas in condition
// values. Each case failed open (or hung) before; each now fails closed the way the package already
// does for its kind of failure.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import type { GrantInput } from '../../src/testing/index.js';
import { bearerFor, closeAfterEach, resetEmulator, sleep, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => resetEmulator(emulator()));

function appWith(overrides: Partial<ExpressGuardOptions> = {}) {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), ...overrides, cache: { errorTtl: 0 } }));
  const app = express();
  app.get('/vault', guard.requirePermission('vault', 'vault:Open'), (_req, res) => void res.send('ok'));
  app.get('/books', guard.requirePermission('books', 'books:read'), (_req, res) => void res.send('ok'));
  return app;
}

async function get(app: express.Express, path: string, headers: Record<string, string> = {}) {
  const req = request(app).get(path).set('authorization', await bearerFor(emulator(), 'alice'));
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  return req;
}

const grants = (...list: GrantInput[]) => emulator().setGrants('alice', list);
const fromHeader = (name: string) => ({ request: req }: { request?: { headers: Record<string, unknown> } }) => ({ [name]: req?.headers[`x-${name.toLowerCase()}`] });

describe('conditions.context that does not settle', () => {
  beforeEach(() => grants({ resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'Country', operator: 'StringEquals', value: 'NZ' }] }));

  it('is cut off at conditions.timeoutDuration: the 500 a rejected hook gets, not a request that hangs', async () => {
    const app = appWith({ conditions: { context: () => new Promise<Record<string, unknown>>(() => {}), timeoutDuration: 50 } });
    const res = await get(app, '/vault');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_INTERNAL');
  });

  it('a hook that answers within it decides; one that rejects later is no unhandled rejection', async () => {
    const answering = appWith({ conditions: { context: async () => ({ Country: 'NZ' }), timeoutDuration: 1000 } });
    expect((await get(answering, '/vault')).status).toBe(200);
    let rejected = false;
    const late = () =>
      new Promise<Record<string, unknown>>((_resolve, reject) =>
        setTimeout(() => {
          rejected = true;
          reject(new Error('late'));
        }, 100),
      );
    const res = await get(appWith({ conditions: { context: late, timeoutDuration: 20 } }), '/vault');
    expect(res.status).toBe(500);
    while (!rejected) await sleep(20);
    await sleep(20);
  });

  it('a hook that returns at once (no promise) needs no bound', async () => {
    const app = appWith({ conditions: { context: () => ({ Country: 'NZ' }), timeoutDuration: 1 } });
    expect((await get(app, '/vault')).status).toBe(200);
  });
});

describe('numbers in conditions are plain decimals', () => {
  it('a DENY whose value is 1e3 applies (it cannot be evaluated), rather than lapsing as 1000', async () => {
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'Risk', operator: 'NumericGreaterThanEquals', value: '1e3' }] },
    );
    const app = appWith({ conditions: { context: fromHeader('Risk') } });
    expect((await get(app, '/vault', { 'x-risk': '50' })).status).toBe(403);
  });

  it('an ALLOW reads a context value in hex or with spaces as nothing it can evaluate', async () => {
    grants({ resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'Level', operator: 'NumericGreaterThan', value: '10' }] });
    const app = appWith({ conditions: { context: fromHeader('Level') } });
    expect((await get(app, '/vault', { 'x-level': '20' })).status).toBe(200);
    expect((await get(app, '/vault', { 'x-level': '0x20' })).status).toBe(403);
    expect((await get(app, '/vault', { 'x-level': '2e1' })).status).toBe(403);
  });
});

describe('a condition value with a comma', () => {
  it('a StringNotEquals ALLOW of "mallory,alice" admits neither', async () => {
    grants({ resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'UserId', operator: 'StringNotEquals', value: 'mallory,alice' }] });
    expect((await get(appWith(), '/vault')).status).toBe(403);
  });

  it('a StringEquals DENY of "mallory, alice" denies alice', async () => {
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'UserId', operator: 'StringEquals', value: 'mallory, alice' }] },
    );
    expect((await get(appWith(), '/vault')).status).toBe(403);
  });
});

describe('a StringLike DENY whose pattern holds a comma', () => {
  // Read as written ('*curl*,*wget*' names one pattern) or as a list of two: the DENY applies when either
  // reading denies, and lapses only when none does.
  const denyAgents = (value: string | string[]) =>
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'UserAgent', operator: 'StringLike', value }] },
    );

  it('applies to a client one reading names', async () => {
    denyAgents('*curl*,*wget*');
    const app = appWith();
    expect((await get(app, '/vault', { 'user-agent': 'curl/8.5' })).status).toBe(403);
    expect((await get(app, '/vault', { 'user-agent': 'Wget/1.21 *wget*' })).status).toBe(403);
    expect((await get(app, '/vault', { 'user-agent': 'x *curl*,*wget* y' })).status).toBe(403);
    expect((await get(app, '/vault', { 'user-agent': 'Mozilla/5.0' })).status).toBe(200);
  });

  it('applies under the trimmed reading and in a list value', async () => {
    denyAgents(['nothing', 'bot*, *wget*']);
    const app = appWith();
    expect((await get(app, '/vault', { 'user-agent': 'Wget/1.21 *wget*' })).status).toBe(403);
    expect((await get(app, '/vault', { 'user-agent': 'Mozilla/5.0' })).status).toBe(200);
  });

  it('a StringNotLike DENY applies to a client outside either reading', async () => {
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'UserAgent', operator: 'StringNotLike', value: 'internal-*,ops-*' }] },
    );
    const app = appWith();
    expect((await get(app, '/vault', { 'user-agent': 'ops-console' })).status).toBe(403);
    expect((await get(app, '/vault', { 'user-agent': 'curl/8' })).status).toBe(403);
  });
});

describe('a DENY lapses only where its condition is surely false (context values from conditions.context)', () => {
  const denyWhen = (condition: { param: string; operator: string; value: string }) =>
    grants({ resourceCode: 'vault', actions: ['vault:Open'] }, { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [condition] });

  it('ListContains against a context list that is not all text', async () => {
    denyWhen({ param: 'Groups', operator: 'ListContains', value: '7' });
    expect((await get(appWith({ conditions: { context: () => ({ Groups: [7, 8] }) } }), '/vault')).status).toBe(403);
    expect((await get(appWith({ conditions: { context: () => ({ Groups: ['8'] }) } }), '/vault')).status).toBe(200);
  });

  it('a number with more digits than a double holds', async () => {
    denyWhen({ param: 'Account', operator: 'NumericGreaterThan', value: '9007199254740992' });
    expect((await get(appWith({ conditions: { context: () => ({ Account: '9007199254740993' }) } }), '/vault')).status).toBe(403);
    expect((await get(appWith({ conditions: { context: () => ({ Account: '9007199254740991' }) } }), '/vault')).status).toBe(200);
  });

  it('a date the calendar does not have, or finer than a millisecond', async () => {
    denyWhen({ param: 'Renewal', operator: 'DateGreaterThan', value: '2026-02-30' });
    expect((await get(appWith({ conditions: { context: () => ({ Renewal: new Date('2026-03-01T12:00:00Z') }) } }), '/vault')).status).toBe(403);
    denyWhen({ param: 'Renewal', operator: 'DateLessThan', value: '2026-03-01T12:00:00.0005Z' });
    expect((await get(appWith({ conditions: { context: () => ({ Renewal: new Date('2026-03-01T12:00:00Z') }) } }), '/vault')).status).toBe(403);
    denyWhen({ param: 'Renewal', operator: 'DateGreaterThan', value: '2026-02-28' });
    expect((await get(appWith({ conditions: { context: () => ({ Renewal: new Date('2026-02-01T12:00:00Z') }) } }), '/vault')).status).toBe(200);
  });

  it('a StringLike ? against a character outside the Basic Multilingual Plane', async () => {
    denyWhen({ param: 'Nickname', operator: 'StringLike', value: 'admin?' });
    expect((await get(appWith({ conditions: { context: () => ({ Nickname: 'admin\u{1F451}' }) } }), '/vault')).status).toBe(403);
    expect((await get(appWith({ conditions: { context: () => ({ Nickname: 'guest\u{1F451}' }) } }), '/vault')).status).toBe(200);
  });
});

describe('surrounding whitespace in a condition value', () => {
  // Trimmed only in a value with a comma: a StringEquals DENY of ' alice' lapsed for alice.
  it('a StringEquals DENY of " alice" denies alice; one of " bob" does not', async () => {
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'UserId', operator: 'StringEquals', value: ' alice' }] },
    );
    expect((await get(appWith(), '/vault')).status).toBe(403);
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'UserId', operator: 'StringEquals', value: ' bob' }] },
    );
    expect((await get(appWith(), '/vault')).status).toBe(200);
  });

  it('a StringNotEquals ALLOW of "gold\\t" admits silver, not gold', async () => {
    grants({ resourceCode: 'vault', actions: ['vault:Open'], condition: [{ param: 'Tier', operator: 'StringNotEquals', value: 'gold\t' }] });
    const app = appWith({ conditions: { context: fromHeader('Tier') } });
    expect((await get(app, '/vault', { 'x-tier': 'gold' })).status).toBe(403);
    expect((await get(app, '/vault', { 'x-tier': 'silver' })).status).toBe(200);
  });

  it('a context value with spaces around it, from conditions.context', async () => {
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'Country', operator: 'StringEquals', value: 'KP' }] },
    );
    expect((await get(appWith({ conditions: { context: () => ({ Country: 'KP ' }) } }), '/vault')).status).toBe(403);
    expect((await get(appWith({ conditions: { context: () => ({ Country: 'NZ ' }) } }), '/vault')).status).toBe(200);
  });
});

describe('IgnoreCase as Java compares', () => {
  // GenAuth's server is Java: equalsIgnoreCase reads the long s 'ſ' as 's' and the dotless 'ı' as 'i'
  // (via 'S' and 'I'); JavaScript's toLowerCase() does not. A DENY lapsed where Java's comparison denies.
  const denyRole = (operator: string, value: string) =>
    grants({ resourceCode: 'vault', actions: ['vault:Open'] }, { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ param: 'Role', operator, value }] });
  const app = () => appWith({ conditions: { context: fromHeader('Role') } });

  it('a StringEqualsIgnoreCase DENY of "ſtaff" denies STAFF; of "admın", ADMIN', async () => {
    denyRole('StringEqualsIgnoreCase', 'ſtaff');
    expect((await get(app(), '/vault', { 'x-role': 'STAFF' })).status).toBe(403);
    expect((await get(app(), '/vault', { 'x-role': 'guest' })).status).toBe(200);
    denyRole('StringEqualsIgnoreCase', 'adm\u0131n');
    expect((await get(app(), '/vault', { 'x-role': 'ADMIN' })).status).toBe(403);
  });

  it('where JavaScript and Java agree, the answer stands: Kelvin sign K is k in both', async () => {
    denyRole('StringNotEqualsIgnoreCase', '\u212aiosk');
    expect((await get(app(), '/vault', { 'x-role': 'kiosk' })).status).toBe(200);
    expect((await get(app(), '/vault', { 'x-role': 'desk' })).status).toBe(403);
  });
});

describe('several conditions on one grant (conditions.combine)', () => {
  // GenAuth does not say whether a grant's conditions are ANDed or ORed. Read as AND only, a DENY of
  // [UserId = alice, Country = KP] lapsed for alice outside KP, where the OR reading denies.
  const both = [
    { param: 'UserId', operator: 'StringEquals', value: 'alice' },
    { param: 'Country', operator: 'StringEquals', value: 'KP' },
  ];
  const deny = () => grants({ resourceCode: 'vault', actions: ['vault:Open'] }, { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: both });
  const app = (combine?: 'unknown' | 'all' | 'any') => appWith({ conditions: { context: fromHeader('Country'), ...(combine === undefined ? {} : { combine }) } });

  it('by default a DENY lapses only when every condition is surely false', async () => {
    deny();
    expect((await get(app(), '/vault', { 'x-country': 'NZ' })).status).toBe(403);
    expect((await get(app('unknown'), '/vault', { 'x-country': 'NZ' })).status).toBe(403);
    expect((await get(app('any'), '/vault', { 'x-country': 'NZ' })).status).toBe(403);
    expect((await get(app('all'), '/vault', { 'x-country': 'NZ' })).status).toBe(200);
    grants(
      { resourceCode: 'vault', actions: ['vault:Open'] },
      { resourceCode: 'vault', actions: ['*'], effect: 'DENY', condition: [{ ...both[0]!, value: 'mallory' }, both[1]!] },
    );
    expect((await get(app(), '/vault', { 'x-country': 'NZ' })).status).toBe(200);
  });

  it('by default an ALLOW grants only when every condition is surely true', async () => {
    grants({ resourceCode: 'vault', actions: ['vault:Open'], condition: both });
    expect((await get(app(), '/vault', { 'x-country': 'NZ' })).status).toBe(403);
    expect((await get(app('all'), '/vault', { 'x-country': 'NZ' })).status).toBe(403);
    expect((await get(app('any'), '/vault', { 'x-country': 'NZ' })).status).toBe(200);
    expect((await get(app(), '/vault', { 'x-country': 'KP' })).status).toBe(200);
  });

  it('an unknown combine is a TypeError naming the option', async () => {
    for (const combine of ['unknown', 'all', 'any'] as const) await createExpressGuard({ ...emulator().guardOptions(), conditions: { combine } }).close();
    expect(() => appWith({ conditions: { combine: 'or' as never } })).toThrow(/option "conditions\.combine"/);
    expect(() => appWith({ conditions: { combine: 'AND' as never } })).toThrow(TypeError);
  });
});
