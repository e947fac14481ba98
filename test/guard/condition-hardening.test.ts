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
