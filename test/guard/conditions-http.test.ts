// Policy conditions over real HTTP: an Express app with the guard, GenAuth served by the emulator. A
// condition the guard cannot read must never let an ALLOW apply or make a DENY lapse, and nothing the
// client sends may make a condition slow to evaluate.
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, useEmulator, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guard: ExpressGuard;
let app: express.Express;

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
  guard = createExpressGuard({ ...e.guardOptions(), cache: { errorTtl: 0 } });
  const ok = (_req: express.Request, res: express.Response) => void res.json({ ok: true });
  app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
});
afterEach(async () => {
  await guard.close();
});

const allow = (condition: unknown) => ({ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW', condition });
const deny = (condition: unknown) => ({ ...allow(condition), effect: 'DENY' });

/** Serves `entries` to a user of their own (grants stay cached per user) and answers GET /reports for them. */
let users = 0;
function serve(entries: unknown[]): string {
  const user = `user-${++users}`;
  emulator().setRawGrants(user, entries);
  return user;
}

async function status(user: string, headers: Record<string, string> = {}): Promise<number> {
  const call = request(app).get('/reports').set('authorization', await bearerFor(emulator(), user));
  for (const [name, value] of Object.entries(headers)) call.set(name, value);
  return (await call).status;
}

describe('StringLike', () => {
  const pattern = { param: 'UserAgent', operator: 'StringLike', value: '*Mozilla*Windows*Chrome*Safari*' };

  it('matches wildcards as before', async () => {
    const user = serve([allow([pattern])]);
    expect(await status(user, { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537' })).toBe(200);
    expect(await status(user, { 'user-agent': 'Mozilla/5.0 (X11; Linux) Chrome/120 Safari/537' })).toBe(403);
    const literal = serve([allow([{ ...pattern, value: 'a.b?c(d)*[e]' }])]);
    expect(await status(literal, { 'user-agent': 'a.bXc(d)anything[e]' })).toBe(200);
    expect(await status(literal, { 'user-agent': 'aXbXc(d)[e]' })).toBe(403);
    expect(await status(literal, { 'user-agent': 'a.bXc(d)[e]x' })).toBe(403);
  });

  it('a long User-Agent the client picks does not stall the event loop (no backtracking)', async () => {
    const user = serve([allow([pattern])]);
    // No timing assertion: a backtracking matcher holds the event loop for minutes on this header
    // (about 5 s at half its length), far past the test's timeout, which then fails it.
    expect(await status(user, { 'user-agent': 'MozillaWindowsChrome'.repeat(600) })).toBe(403);
  });
});

describe('Date comparisons', () => {
  /** `time` as a date-time without a zone ('YYYY-MM-DD HH:mm:ss' or with a 'T'), written in UTC. */
  const zoneless = (time: number, separator = ' ') => new Date(time).toISOString().slice(0, 19).replace('T', separator);

  it('a date-time without a zone does not decide by the host time zone: unevaluable, whatever TZ says', async () => {
    const before = process.env.TZ;
    try {
      for (const separator of [' ', 'T']) {
        // Two hours from now on a UTC wall clock, six hours ago on a UTC+8 one.
        const until = zoneless(Date.now() + 2 * 3600_000, separator);
        for (const zone of ['UTC', 'Asia/Shanghai']) {
          process.env.TZ = zone;
          expect(await status(serve([allow([{ param: 'CurrentTime', operator: 'DateLessThan', value: until }])])), `${zone} ${until}`).toBe(403);
          expect(await status(serve([allow([]), deny([{ param: 'CurrentTime', operator: 'DateGreaterThan', value: until }])])), `${zone} ${until}`).toBe(403);
        }
      }
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('conditions.timeZoneOffset reads a date-time without a zone in that offset, whatever TZ says', async () => {
    const before = process.env.TZ;
    const shanghai = createExpressGuard({ ...emulator().guardOptions(), cache: { errorTtl: 0 }, conditions: { timeZoneOffset: '+08:00' } });
    const inShanghai = express().get('/reports', shanghai.requirePermission('reports', 'reports:Read'), (_req, res) => void res.json({ ok: true }));
    const statusThere = async (user: string) => (await request(inShanghai).get('/reports').set('authorization', await bearerFor(emulator(), user))).status;
    try {
      // Written as a UTC+8 wall clock: two hours from now, and two hours ago.
      const later = zoneless(Date.now() + 8 * 3600_000 + 2 * 3600_000);
      const earlier = zoneless(Date.now() + 8 * 3600_000 - 2 * 3600_000, 'T');
      for (const zone of ['UTC', 'America/New_York']) {
        process.env.TZ = zone;
        expect(await statusThere(serve([allow([{ param: 'CurrentTime', operator: 'DateLessThan', value: later }])])), `${zone} ${later}`).toBe(200);
        expect(await statusThere(serve([allow([{ param: 'CurrentTime', operator: 'DateLessThan', value: earlier }])])), `${zone} ${earlier}`).toBe(403);
        expect(await statusThere(serve([allow([]), deny([{ param: 'CurrentTime', operator: 'DateGreaterThan', value: earlier }])])), zone).toBe(403);
        expect(await statusThere(serve([allow([]), deny([{ param: 'CurrentTime', operator: 'DateGreaterThan', value: later }])])), zone).toBe(200);
      }
      // Still ISO 8601 only: a zone-less value that is not a date-time stays unevaluable.
      expect(await statusThere(serve([allow([{ param: 'CurrentTime', operator: 'DateGreaterThan', value: '2020-01-01 00:00' }])]))).toBe(200);
      expect(await statusThere(serve([allow([{ param: 'CurrentTime', operator: 'DateGreaterThan', value: '2020-1-1 00:00:00' }])]))).toBe(403);
    } finally {
      await shanghai.close();
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it.each(['1', 'foo 2', 'Mar 2', '12/31/2999', 'Tue, 01 Jan 2999 00:00:00'])('a date that is not ISO 8601 (%j) is unevaluable', async (value) => {
    expect(await status(serve([allow([{ param: 'CurrentTime', operator: 'DateGreaterThan', value }])]))).toBe(403);
    expect(await status(serve([allow([{ param: 'CurrentTime', operator: 'DateLessThan', value }])]))).toBe(403);
  });

  it('ISO dates with a zone, and dates alone (UTC), are read', async () => {
    for (const value of ['2020-01-01', '2020-01-01T00:00Z', '2020-01-01T08:00:00+08:00', '2020-01-01T00:00:00.5Z']) {
      expect(await status(serve([allow([{ param: 'CurrentTime', operator: 'DateGreaterThan', value }])])), value).toBe(200);
    }
  });

  it('an ALLOW that expired in 2020 does not apply, whether it reads CurrentTime or EpochTime', async () => {
    for (const param of ['CurrentTime', 'EpochTime']) {
      const expired = serve([allow([{ param, operator: 'DateLessThan', value: '2020-01-01T00:00:00Z' }])]);
      expect(await status(expired), param).toBe(403);
    }
    const current = serve([allow([{ param: 'CurrentTime', operator: 'DateLessThan', value: '2999-01-01T00:00:00Z' }])]);
    expect(await status(current)).toBe(200);
  });

  it('a DENY from 2020 on applies, whether it reads CurrentTime or EpochTime', async () => {
    for (const param of ['CurrentTime', 'EpochTime']) {
      const denied = serve([allow([]), deny([{ param, operator: 'DateGreaterThan', value: '2020-01-01T00:00:00Z' }])]);
      expect(await status(denied), param).toBe(403);
    }
  });
});

describe('IpAddress ranges (the client is 127.0.0.1)', () => {
  it.each(['10.9.9.9/', '10.9.9.9/ ', '10.9.9.9/0x0', '10.9.9.9/-0', '10.9.9.9/0.0', '10.9.9.9/0e1', '10.9.9.9/8/0', '10.9.9.9//0'])(
    'a malformed range %j is unevaluable: the ALLOW does not apply, the DENY does',
    async (range) => {
      expect(await status(serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: range }])]))).toBe(403);
      expect(await status(serve([allow([]), deny([{ param: 'SourceIp', operator: 'NotIpAddress', value: range }])]))).toBe(403);
    },
  );

  it('well-formed ranges still match', async () => {
    expect(await status(serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }])]))).toBe(200);
    expect(await status(serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: ' 127.0.0.1 ' }])]))).toBe(200);
    expect(await status(serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: '0.0.0.0/0' }])]))).toBe(200);
    expect(await status(serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }])]))).toBe(403);
    expect(await status(serve([allow([]), deny([{ param: 'SourceIp', operator: 'NotIpAddress', value: '127.0.0.0/8' }])]))).toBe(200);
  });
});

describe('a value that is a JSON-encoded list (how GenAuth\'s generated docs write a list: `actions`)', () => {
  // Read literally, the list names no one: a negated ALLOW would admit the users it lists, a DENY lapse for them.
  it('cannot be evaluated: a negated ALLOW does not apply, a DENY does', async () => {
    const user = `user-${users + 1}`;
    expect(await status(serve([allow([{ param: 'UserId', operator: 'StringNotEquals', value: JSON.stringify([user, 'x']) }])]))).toBe(403);
    const denied = `user-${users + 1}`;
    expect(await status(serve([allow([]), deny([{ param: 'UserId', operator: 'StringEquals', value: JSON.stringify([denied]) }])]))).toBe(403);
    const spaced = `user-${users + 1}`;
    expect(await status(serve([allow([]), deny([{ param: 'UserId', operator: 'StringLike', value: [` [ "${spaced}" ]`] }])]))).toBe(403);
  });

  it('a value that only starts with [ is read as written (control)', async () => {
    expect(await status(serve([allow([{ param: 'UserAgent', operator: 'StringEquals', value: '[prod] agent' }])]), { 'user-agent': '[prod] agent' })).toBe(200);
    expect(await status(serve([allow([{ param: 'UserAgent', operator: 'StringLike', value: '[*' }])]), { 'user-agent': '[x' })).toBe(200);
  });
});

describe('unknown operators', () => {
  it.each(['Numericconstructor', 'NumericisPrototypeOf', 'DatetoString', 'NumerichasOwnProperty', 'Date__proto__', 'NumericvalueOf', 'StringFoo', 'Matches'])(
    '%s: the ALLOW does not apply, the DENY does (403, not a lapse or a 500)',
    async (operator) => {
      const condition = { param: 'EpochTime', operator, value: '1' };
      expect(await status(serve([allow([condition])]))).toBe(403);
      expect(await status(serve([allow([]), deny([condition])]))).toBe(403);
    },
  );
});

describe('SourceIp and cached grants', () => {
  const internal = allow([{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }]);

  it('X-Forwarded-For is ignored without trustProxy', async () => {
    const user = serve([internal]);
    expect(await status(user, { 'x-forwarded-for': '10.0.0.1' })).toBe(403);
    expect(await status(user, { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' })).toBe(403);
  });

  it('with trustProxy 1, the right-most entry counts, never one the client put before it', async () => {
    const trusting = createExpressGuard({ ...emulator().guardOptions(), conditions: { trustProxy: 1 } });
    try {
      const proxied = express();
      proxied.get('/reports', trusting.requirePermission('reports', 'reports:Read'), (_req, res) => void res.json({ ok: true }));
      const user = serve([internal]);
      const auth = await bearerFor(emulator(), user);
      const ask = async (xff: string) => (await request(proxied).get('/reports').set('authorization', auth).set('x-forwarded-for', xff)).status;
      expect(await ask('10.0.0.1, 203.0.113.5')).toBe(403);
      expect(await ask('203.0.113.5, 10.0.0.1')).toBe(200);
      expect(await ask('10.0.0.1, ::ffff:203.0.113.5')).toBe(403);
      expect(await ask('203.0.113.5, ::ffff:10.0.0.1')).toBe(200);
      expect(await ask('10.0.0.1, 203.0.113.5:443')).toBe(403);
    } finally {
      await trusting.close();
    }
  });

  it('with trustProxy 2, a chain of fewer entries gives no SourceIp: the peer is a proxy (or the proxies were bypassed)', async () => {
    const trusting = createExpressGuard({ ...emulator().guardOptions(), conditions: { trustProxy: 2 } });
    try {
      const proxied = express();
      proxied.get('/reports', trusting.requirePermission('reports', 'reports:Read'), (_req, res) => void res.json({ ok: true }));
      // The test's socket peer is 127.0.0.1: "loopback only" stands for "our internal network".
      const user = serve([allow([{ param: 'SourceIp', operator: 'IpAddress', value: '127.0.0.0/8' }])]);
      const auth = await bearerFor(emulator(), user);
      const ask = async (xff?: string) => {
        const call = request(proxied).get('/reports').set('authorization', auth);
        return (await (xff === undefined ? call : call.set('x-forwarded-for', xff))).status;
      };
      expect(await ask('127.0.0.1, 10.0.0.9')).toBe(200);
      expect(await ask('10.0.0.9')).toBe(403);
      expect(await ask()).toBe(403);
      const denied = serve([allow([]), deny([{ param: 'SourceIp', operator: 'NotIpAddress', value: '127.0.0.0/8' }])]);
      expect((await request(proxied).get('/reports').set('authorization', await bearerFor(emulator(), denied))).status).toBe(403);
    } finally {
      await trusting.close();
    }
  });

  it('a decision made for one request is not reused for the next with other condition inputs', async () => {
    const user = serve([allow([{ param: 'UserAgent', operator: 'StringLike', value: 'internal-*' }])]);
    expect(await status(user, { 'user-agent': 'internal-tool' })).toBe(200);
    expect(await status(user, { 'user-agent': 'curl/8' })).toBe(403);
    expect(await status(user, { 'user-agent': 'internal-tool' })).toBe(200);
    expect(emulator().callCount('/api/v3/get-user-authorized-resources')).toBe(1);
  });
});
