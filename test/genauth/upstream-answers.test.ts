// Upstream answers that must be read as an outage (503), never as "no grants" (403) or as grants.
import express from 'express';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExpressGuard, ExpressGuardOptions } from '../../src/adapters/express.js';
import { manualClock } from '../clock.js';
import { RESOURCES, useEmulator, closeAfterEach, resetToAliceReading, until } from '../fixtures.js';
import { getReports, reportsApp } from './reports-app.js';

const TOKEN = '/api/v3/get-management-token';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => resetToAliceReading(emulator()));

const app = (overrides: Partial<ExpressGuardOptions> = {}) => reportsApp(emulator(), track, overrides);

const get = (server: express.Express, user?: string) => getReports(emulator(), server, user);

describe('the management token endpoint', () => {
  it('answering "user not found" (statusCode 404, apiCode 2004) is an outage, not a user without grants', async () => {
    emulator().fault({ kind: 'body-error', statusCode: 404, apiCode: 2004, path: TOKEN });
    const { server } = app();
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(emulator().callCount(RESOURCES)).toBe(0);
    // Told as the credentials being refused, as any other refusal of the token request is.
    const { server: other, lines } = app();
    expect((await get(other)).status).toBe(503);
    expect(lines.some((line) => /refused the management credentials/.test(line))).toBe(true);
  });
});

describe('a management token that cannot be sent as a Bearer credential', () => {
  it.each(['a\r\nx-injected: 1', 'a\u0000b', 'two words', 'caf\u00e9'])('(%j) is an unreadable answer: 503, and the next load asks for a new one', async (token) => {
    emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, data: { access_token: token, expires_in: 7200 } }, path: TOKEN, times: 1 });
    const { server } = app();
    expect((await get(server)).status).toBe(503);
    expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(2);
  });
});

describe('a failed refresh of the management token', () => {
  // The emulator's tokens last 7200 s; the guard refreshes a minute early, from 7140 s on its clock.
  const DUE = 7_140_000;
  const EXPIRED = 7_200_000;
  function timed() {
    const time = manualClock();
    return { time, ...app({ clock: time.clock, now: () => Date.now(), cache: false }) };
  }

  it('while the held token has not expired, loads use it; the refresh is shared and tried again later, not on every load', async () => {
    const { time, server } = timed();
    expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(1);
    emulator().fault({ kind: 'status', status: 503, path: TOKEN });
    time.advance(DUE);
    // Due for refresh, the token endpoint down: the old token, still valid, answers.
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(server)));
    expect(answers.map((res) => res.status)).toEqual(Array(5).fill(200));
    await until(() => emulator().callCount(TOKEN) === 2); // one refresh for all five
    await settle();
    for (let i = 0; i < 3; i++) expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(2); // not one per load after a failure
    time.advance(5_000);
    expect((await get(server)).status).toBe(200);
    await until(() => emulator().callCount(TOKEN) === 3); // tried again a few seconds later
    await settle();
    // The endpoint is back: the next try replaces the token.
    emulator().clearFaults();
    time.advance(5_000);
    expect((await get(server)).status).toBe(200);
    await until(() => emulator().callCount(TOKEN) === 4);
    await settle();
    // Past the old token's expiry, the new one serves without another token request.
    emulator().fault({ kind: 'status', status: 503, path: TOKEN });
    time.advance(EXPIRED - DUE);
    expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(4);
  });

  it('a load whose token is refused after a refresh replaced it tries the new token, and never drops it', async () => {
    const { time, server } = timed();
    expect((await get(server)).status).toBe(200);
    time.advance(DUE);
    // The held token is revoked; the load sends it (still valid on the guard's clock) while the refresh it
    // starts gets a new one before the held call answers.
    emulator().revokeManagementTokens();
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(2);
    expect((await get(server)).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(2);
  });

  it('once the held token has expired, a failed refresh is a 503 (fail closed)', async () => {
    const { time, server } = timed();
    expect((await get(server)).status).toBe(200);
    emulator().fault({ kind: 'status', status: 503, path: TOKEN });
    time.advance(EXPIRED);
    emulator().resetCalls();
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('a refresh refused for the credentials is told to the operator, while the old token serves', async () => {
    const { time, server, lines } = timed();
    expect((await get(server)).status).toBe(200);
    emulator().fault({ kind: 'body-error', statusCode: 403, path: TOKEN });
    time.advance(DUE);
    expect((await get(server)).status).toBe(200);
    await until(() => lines.some((line) => /refused the management credentials/.test(line)));
  });
});


/**
 * Until the emulator has answered every token call, then a few turns of the event loop for the guard to
 * read the answer (a setImmediate runs after the loop has read its sockets). Not a fixed time: on a
 * loaded machine 30 ms could pass before the guard read a failed refresh, and the clock moved on
 * before it dated its next try.
 */
async function settle(): Promise<void> {
  await until(() => emulator().calls.every((call) => call.path !== TOKEN || call.status !== 0), 5000, 'the token calls answered');
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Retry-After', () => {
  it('a value too large to be a number of seconds is unreadable: no "Infinity" to the client, and the client does not back off for ever', async () => {
    const time = manualClock();
    emulator().fault({ kind: 'respond', status: 429, body: '{"statusCode":429}', headers: { 'retry-after': '9'.repeat(400) }, path: RESOURCES, times: 1 });
    const { server } = app({ clock: time.clock, now: () => Date.now(), genauth: { retries: 0 } as never });
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    // GenAuth is back; a day later the guard asks it again.
    time.advance(86_400_000);
    expect((await get(server)).status).toBe(200);
  });

  it('a day (a proxy or WAF) is cut to a minute: the 503 says at most 60, other users back off without a call, and a minute later GenAuth is asked again', async () => {
    const time = manualClock();
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    emulator().fault({ kind: 'status', status: 429, retryAfter: 86_400, path: RESOURCES, times: 1 });
    const { server } = app({ clock: time.clock, now: () => Date.now(), genauth: { retries: 0 } as never });
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    time.advance(20_000);
    emulator().resetCalls();
    const during = await get(server, 'bob');
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('40');
    expect(emulator().callCount(RESOURCES)).toBe(0);
    time.advance(40_000);
    expect((await get(server, 'bob')).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('the cap is genauth.maxRetryAfter (seconds): a 429 or 503 asking for more is cut to it', async () => {
    const time = manualClock();
    emulator().fault({ kind: 'status', status: 503, retryAfter: 600, path: RESOURCES, times: 1 });
    emulator().fault({ kind: 'status', status: 429, retryAfter: 600, path: RESOURCES, times: 1 });
    const { server } = app({ clock: time.clock, now: () => Date.now(), genauth: { retries: 0, maxRetryAfter: 10 } as never });
    expect((await get(server)).headers['retry-after']).toBe('10');
    const throttled = await get(server);
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('10');
    time.advance(10_000);
    expect((await get(server)).status).toBe(200);
  });
});

describe('back-offs after a 429', () => {
  it("a call that waited out its own pause never ends another call's longer back-off, and its retry keeps to it", async () => {
    const time = manualClock();
    for (const user of ['bob', 'carol', 'dave']) emulator().setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server } = app({ clock: time.clock, now: () => Date.now() });
    expect((await get(server, 'dave')).status).toBe(200); // the management token and the keys are fetched
    emulator().resetCalls();
    // alice's call is held at GenAuth; bob's, sent meanwhile, is throttled for 30 s; then alice's is a
    // 500, which the client retries after a short pause (real time, 50-100 ms).
    emulator().fault({ kind: 'latency', ms: 400, path: RESOURCES, times: 1 });
    emulator().fault({ kind: 'status', status: 429, retryAfter: 30, path: RESOURCES, times: 1 });
    emulator().fault({ kind: 'status', status: 500, path: RESOURCES, times: 1 });
    let aliceDone = false;
    const alice = get(server, 'alice').then((res) => {
      aliceDone = true;
      return res;
    });
    while (emulator().callCount(RESOURCES) === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const bob = await get(server, 'bob');
    expect(aliceDone).toBe(false); // bob's 429 came while alice's call was held
    expect(bob.status).toBe(503);
    expect(bob.headers['retry-after']).toBe('30');
    const aliceAnswer = await alice;
    // alice's retry would be a call during the client's back-off: not made.
    expect(aliceAnswer.status).toBe(503);
    expect(emulator().calls.filter((call) => call.userId === 'alice')).toHaveLength(1);
    // The guard's clock has not moved: the 30 s back-off still holds for everyone.
    const carol = await get(server, 'carol');
    expect(carol.status).toBe(503);
    expect(carol.headers['retry-after']).toBe('30');
    expect(emulator().calls.filter((call) => call.userId === 'carol')).toHaveLength(0);
    time.advance(30_000);
    expect((await get(server, 'carol')).status).toBe(200);
  });
});

describe('a list sent as one object (as GenAuth\'s documented example shows it)', () => {
  const READ = { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' };
  const serve = (data: unknown) => emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, message: '', data }, path: RESOURCES });

  it('with a totalCount larger than one is a partial list: 503, like an array of one', async () => {
    serve({ totalCount: 3, list: READ });
    const { server, lines } = app();
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(lines.some((line) => /partial/.test(line))).toBe(true);
  });

  it.each([1, undefined])('with a totalCount of %s is read as a list of one (control)', async (totalCount) => {
    serve(totalCount === undefined ? { list: READ } : { totalCount, list: READ });
    expect((await get(app().server)).status).toBe(200);
  });

  it('with a totalCount larger than one is used as sent under genauth.acceptPartialLists', async () => {
    serve({ totalCount: 3, list: READ });
    expect((await get(app({ genauth: { acceptPartialLists: true } as never }).server)).status).toBe(200);
  });
});

describe('management credentials GenAuth keeps refusing', () => {
  it('cost one call per load, not a new token and a second call each time (the retry budget never sees those)', async () => {
    // The token is issued, but every call made with it is refused (here: GenAuth's answer to a pool header
    // that is not the key's pool; a token saying it is scoped to another pool is not sent at all, pool-scope.test.ts).
    emulator().fault({ kind: 'body-error', statusCode: 403, apiCode: 2224, message: '用户池不存在', path: RESOURCES });
    const time = manualClock();
    const { server } = app({ clock: time.clock, now: () => Date.now() });
    for (let user = 0; user < 5; user++) {
      emulator().setGrants(`u${user}`, []);
      expect((await get(server, `u${user}`)).status).toBe(503);
    }
    expect(emulator().callCount(RESOURCES)).toBe(5);
    expect(emulator().callCount(TOKEN)).toBe(1);
    // A token refused from its first call is still replaced, after a few seconds: one load tries a new one.
    time.advance(5_000);
    emulator().resetCalls();
    expect((await get(server, 'u0')).status).toBe(503);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('a token GenAuth accepted before and now refuses (revoked) is still replaced at once', async () => {
    const { server } = app();
    expect((await get(server)).status).toBe(200);
    emulator().revokeManagementTokens();
    emulator().resetCalls();
    expect((await get(server, 'bob')).status).toBe(403); // bob is no user GenAuth knows: answered, a 403
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('an HTTP 401 from GenAuth (a gateway refusing the management token, not a body statusCode 401)', () => {
  const refuse = (times?: number) =>
    emulator().fault({ kind: 'respond', status: 401, body: { statusCode: 401, message: 'token expired' }, path: RESOURCES, ...(times === undefined ? {} : { times }) });

  it('mid-flight: the token is replaced once and the call made again, not a 503 until the token expires', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server } = app();
    expect((await get(server)).status).toBe(200);
    emulator().resetCalls();
    refuse(1);
    expect((await get(server, 'carol')).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('every time: one new token and one more call, then a 503 and the operator told (no loop)', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server, lines } = app();
    expect((await get(server)).status).toBe(200);
    emulator().resetCalls();
    refuse();
    const res = await get(server, 'carol');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
    expect(lines.some((line) => /refused the management credentials/.test(line))).toBe(true);
  });

  it("a gateway's own page (HTTP 401, no envelope): the operator's line names the HTTP status, not an undefined statusCode", async () => {
    const { server, lines } = app();
    emulator().fault({ kind: 'respond', status: 401, headers: { 'content-type': 'text/html' }, body: '<html>401 Authorization Required</html>', path: RESOURCES });
    expect((await get(server)).status).toBe(503);
    const line = lines.find((text) => /refused the management credentials/.test(text));
    expect(line).toContain('HTTP 401');
    expect(line).not.toContain('undefined');
    expect(line).not.toContain('Authorization Required');
  });

  it('from a gateway whose body is no GenAuth envelope: the lines name HTTP 401, never an undefined statusCode', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server, lines } = app();
    expect((await get(server)).status).toBe(200);
    emulator().fault({ kind: 'respond', status: 401, body: { message: 'Unauthorized' }, path: RESOURCES });
    expect((await get(server, 'carol')).status).toBe(503);
    const told = lines.filter((line) => /refused the management credentials/.test(line));
    expect(told.length).toBeGreaterThan(0);
    for (const line of told) {
      expect(line).toContain('HTTP 401');
      expect(line).not.toContain('undefined');
      expect(line).not.toContain('Unauthorized');
    }
  });
});

describe('an HTTP 403 from GenAuth (a refusal of the credentials, like body statusCode 403)', () => {
  const forbid = (times?: number) => emulator().fault({ kind: 'status', status: 403, path: RESOURCES, ...(times === undefined ? {} : { times }) });

  it('is a 503 and the operator is told, naming HTTP 403 (a set-up problem, not passing trouble)', async () => {
    const { server, lines } = app();
    forbid();
    const res = await get(server);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    const line = lines.find((text) => /refused the management credentials/.test(text));
    expect(line).toContain('HTTP 403');
    expect(line).not.toContain('emulated');
  });

  it('to a token GenAuth accepted before (revoked): the token is replaced once and the call made again', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server } = app();
    expect((await get(server)).status).toBe(200);
    emulator().resetCalls();
    forbid(1);
    expect((await get(server, 'carol')).status).toBe(200);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('every time: one new token and one more call, then the 503 (no loop)', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const { server } = app();
    expect((await get(server)).status).toBe(200);
    emulator().resetCalls();
    forbid();
    expect((await get(server, 'carol')).status).toBe(503);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('to a token refused from its first call (a wrong pool): kept for a while, one call per load, no token per load', async () => {
    const { server } = app();
    forbid();
    for (let user = 0; user < 3; user++) {
      emulator().setGrants(`u${user}`, []);
      expect((await get(server, `u${user}`)).status).toBe(503);
    }
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(3);
  });

  it('from the token endpoint: a 503 and the operator told', async () => {
    const { server, lines } = app();
    emulator().fault({ kind: 'status', status: 403, path: TOKEN });
    expect((await get(server)).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(0);
    expect(lines.some((line) => /refused the management credentials \(HTTP 403/.test(line))).toBe(true);
  });
});
