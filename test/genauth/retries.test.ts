// The GenAuth client's retries, over the emulator: what is retried (5xx, 429, connection errors) and
// what is final, how many calls a failing load makes, the deadline and Retry-After, the back-off of
// the whole client after a 429, the retry budget, and the management token (a refused one is fetched
// again once; one due for refresh on the guard's clock is replaced). Time passes on a moved clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenAuthApiError } from '../../src/errors.js';
import { createGenAuthClient, type GenAuthClient } from '../../src/genauth/client.js';
import { resolveOptions, type GenAuthOptions, type GuardOptions } from '../../src/options.js';
import { manualClock, type ManualClock } from '../clock.js';
import { RESOURCES, useEmulator, resetToAliceReading } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';
const emulator = useEmulator({ managementTokenTtl: 600 });
let clients: GenAuthClient[] = [];
let time: ManualClock;

beforeEach(() => {
  const e = emulator();
  resetToAliceReading(e);
  e.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  time = manualClock();
});
afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

/** A client as the guard builds it: from the resolved `genauth` slice and the shared settings. */
function client(genauth: Partial<GenAuthOptions> = {}, extra: Partial<GuardOptions> = {}): GenAuthClient {
  const base = emulator().guardOptions();
  const options = resolveOptions({ ...base, genauth: { ...base.genauth, ...genauth }, clock: time.clock, logger: false, ...extra });
  const created = createGenAuthClient(options.genauth, options);
  clients.push(created);
  return created;
}

const query = (userId = 'alice') => ({ userId, userIdType: 'user_id' as const, namespace: 'default' });

/** The failure of a call, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<GenAuthApiError | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof GenAuthApiError) return error;
    throw error;
  }
}

const kindOf = async (call: Promise<unknown>) => {
  const result = await outcome(call);
  return result === 'ok' ? 'ok' : result.kind;
};

describe('what is retried', () => {
  it.each([
    ['an HTTP 500', { kind: 'status', status: 500 }],
    ['an HTTP 503', { kind: 'status', status: 503 }],
    ['a body statusCode 500', { kind: 'body-error', statusCode: 500 }],
    ['a dropped connection', { kind: 'drop' }],
  ] as const)('%s: retried, and the next answer is used', async (_name, fault) => {
    emulator().fault({ ...fault, times: 2, path: RESOURCES });
    const list = await client().getUserAuthorizedResources(query());
    expect(list.map((grant) => grant.resourceCode)).toEqual(['reports']);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it.each([
    ['an HTTP 400', { kind: 'status', status: 400 }, 'http_status'],
    ['an HTTP 404', { kind: 'status', status: 404 }, 'http_status'],
    ['a body statusCode 400', { kind: 'body-error', statusCode: 400 }, 'error_envelope'],
    ['a body 403 (credentials)', { kind: 'body-error', statusCode: 403 }, 'credentials'],
    ['an answer that is not JSON', { kind: 'respond', status: 200, body: 'not json' }, 'bad_envelope'],
  ] as const)('%s: final, one call', async (_name, fault, kind) => {
    emulator().fault({ ...fault, path: RESOURCES });
    expect(await kindOf(client().getUserAuthorizedResources(query()))).toBe(kind);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a user GenAuth does not know: final, one call', async () => {
    expect(await kindOf(client().getUserAuthorizedResources(query('ghost')))).toBe('user_not_found');
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a call slower than the deadline: final (the time is spent), one call', async () => {
    emulator().fault({ kind: 'hang', path: RESOURCES, times: 1 });
    expect(await kindOf(client({ timeout: 200 }).getUserAuthorizedResources(query()))).toBe('timeout');
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});

describe('how many calls', () => {
  it.each([0, 1, 3])('genauth.retries %i: that many calls after the first in an outage, then the last failure', async (retries) => {
    emulator().fault({ kind: 'status', status: 502, path: RESOURCES });
    const failure = await outcome(client({ retries }).getUserAuthorizedResources(query()));
    expect(failure).toBeInstanceOf(GenAuthApiError);
    expect((failure as GenAuthApiError).httpStatus).toBe(502);
    expect(emulator().callCount(RESOURCES)).toBe(1 + retries);
  });
});

describe('Retry-After and the deadline', () => {
  it('a 429 whose Retry-After ends past the deadline is not waited for: one call, with its Retry-After', async () => {
    emulator().fault({ kind: 'status', status: 429, retryAfter: 5, path: RESOURCES, times: 1 });
    const failure = await outcome(client({ timeout: 3000 }).getUserAuthorizedResources(query()));
    expect(failure).toMatchObject({ kind: 'rate_limited', retryAfter: 5 });
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a 503 with a Retry-After past the deadline is not waited for either', async () => {
    emulator().fault({ kind: 'status', status: 503, retryAfter: 10, path: RESOURCES, times: 1 });
    expect(await kindOf(client({ timeout: 3000 }).getUserAuthorizedResources(query()))).toBe('http_status');
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('real time: a short Retry-After inside the deadline is waited for, then the call is made again', async () => {
    emulator().fault({ kind: 'status', status: 429, retryAfter: 1, path: RESOURCES, times: 1 });
    expect(await kindOf(client({ timeout: 2500 }).getUserAuthorizedResources(query()))).toBe('ok');
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('after a 429 the whole client backs off', () => {
  it("another user's load waits out the Retry-After without a call, then calls again", async () => {
    emulator().fault({ kind: 'status', status: 429, retryAfter: 5, path: RESOURCES, times: 1 });
    const genauth = client();
    expect(await kindOf(genauth.getUserAuthorizedResources(query('alice')))).toBe('rate_limited');
    emulator().resetCalls();
    time.advance(2000);
    const during = await outcome(genauth.getUserAuthorizedResources(query('bob')));
    expect(during).toMatchObject({ kind: 'rate_limited', retryAfter: 3 }); // what is left of it
    expect(emulator().callCount(RESOURCES)).toBe(0);
    time.advance(3000);
    expect(await kindOf(genauth.getUserAuthorizedResources(query('bob')))).toBe('ok');
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a 429 without Retry-After backs off for one second', async () => {
    emulator().fault({ kind: 'status', status: 429, path: RESOURCES, times: 3 });
    const genauth = client({ retries: 0 });
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('rate_limited');
    time.advance(999);
    expect(await outcome(genauth.getUserAuthorizedResources(query()))).toMatchObject({ kind: 'rate_limited', retryAfter: 1 });
    expect(emulator().callCount(RESOURCES)).toBe(1);
    time.advance(1);
    emulator().clearFaults();
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
  });
});

describe('the retry budget', () => {
  it('an outage spends it: later loads are tried once, until the clock refills it', async () => {
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const genauth = client();
    // 10 tokens, retries while more than 5 remain: 3 calls, 3 calls, then 1 each.
    const calls: number[] = [];
    for (let load = 0; load < 4; load++) {
      emulator().resetCalls();
      await outcome(genauth.getUserAuthorizedResources(query()));
      calls.push(emulator().callCount(RESOURCES));
    }
    expect(calls).toEqual([3, 2, 1, 1]);
    time.advance(10_000); // minPerSecond 1: back above half
    emulator().resetCalls();
    await outcome(genauth.getUserAuthorizedResources(query()));
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('with minPerSecond 0 time alone never refills it', async () => {
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
    const genauth = client({ retryBudget: { minPerSecond: 0 } });
    for (let load = 0; load < 3; load++) await outcome(genauth.getUserAuthorizedResources(query()));
    time.advance(3_600_000);
    emulator().resetCalls();
    await outcome(genauth.getUserAuthorizedResources(query()));
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});

describe('the management token', () => {
  it('one token serves many calls, until the clock reaches its refresh time (a minute before expiry)', async () => {
    const genauth = client();
    for (let i = 0; i < 3; i++) expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
    expect(emulator().callCount(TOKEN)).toBe(1);
    time.advance(539_000); // 600 s lifetime: refreshed from 540 s on
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
    expect(emulator().callCount(TOKEN)).toBe(1);
    time.advance(1_000);
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
    expect(emulator().callCount(TOKEN)).toBe(2);
  });

  it('a refused token is fetched again once, which spends no retry', async () => {
    const genauth = client({ retries: 0 });
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
    emulator().revokeManagementTokens();
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('ok');
    expect(emulator().callCount(TOKEN)).toBe(2);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('concurrent first calls share one token request', async () => {
    const genauth = client();
    const answers = await Promise.all(Array.from({ length: 8 }, () => kindOf(genauth.getUserAuthorizedResources(query()))));
    expect(answers).toEqual(Array(8).fill('ok'));
    expect(emulator().callCount(TOKEN)).toBe(1);
  });

  it('a closed client makes no call, and closing it again is harmless', async () => {
    const genauth = client();
    await genauth.close();
    expect(await kindOf(genauth.getUserAuthorizedResources(query()))).toBe('closed');
    expect(emulator().callCount()).toBe(0);
    await genauth.close();
  });
});
