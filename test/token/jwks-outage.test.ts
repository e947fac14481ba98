// A JWKS that cannot be fetched. jose's remote key set starts its cooldown only when a fetch succeeds,
// so while the key set failed (before the first load, once the cached set went stale, or on an unknown
// kid after the cooldown) every request fetched it again: load amplification against the issuer during
// its outage, and on demand (a kid nobody publishes) once the cooldown of the last good load is over.
// Now a failed fetch is not repeated for a wait that starts at 1 s and doubles with each failure in a
// row, up to jwt.jwks.cooldownDuration (on the guard's clock; 0: no wait); requests meanwhile get the
// same 503 without a fetch, and guard.ready() still fetches at once. Over real HTTP: an Express app,
// the emulator.
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { Fault } from '../../src/testing/index.js';
import { manualClock } from '../clock.js';
import { closeAfterEach, sleep, useEmulator } from '../fixtures.js';

const JWKS = '/oidc/.well-known/jwks.json';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
});

function appWith(jwks: { cooldownDuration?: number; timeoutDuration?: number } = {}) {
  const lines: string[] = [];
  const time = manualClock();
  const guard = track(createExpressGuard({
    genauth: emulator().guardOptions().genauth,
    jwt: { ...emulator().guardOptions().jwt, jwks },
    clock: time.clock,
    logger: { warn: (line: string) => lines.push(line) },
  }));
  const app = express();
  app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
  return { app, guard, lines, time };
}

/** A fresh token (never cached), under the published kid or under one nobody publishes. */
async function statusOf(app: express.Express, kid?: string): Promise<number> {
  const token = await emulator().mintToken('alice', kid === undefined ? { claims: { jti: randomUUID() } } : { kid, claims: { jti: randomUUID() } });
  return (await request(app).get('/me').set('authorization', `Bearer ${token}`)).status;
}

const fetches = () => emulator().callCount(JWKS);

const FAILURES: Array<[string, Fault]> = [
  ['HTTP 503', { kind: 'status', status: 503, path: JWKS }],
  ['a web page with 200', { kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>', path: JWKS }],
  ['JSON that is not a key set', { kind: 'respond', status: 200, body: { keys: 'none' }, path: JWKS }],
  ['a dropped connection', { kind: 'drop', path: JWKS }],
];

describe('JWKS outage', () => {
  it.each(FAILURES)('a key set answered with %s is not fetched once per request', async (_what, fault) => {
    emulator().fault(fault);
    const { app, time, lines } = appWith();
    expect(await statusOf(app)).toBe(503);
    expect(fetches()).toBe(1);
    const logged = [...lines];
    expect(logged).toEqual([expect.stringMatching(/check option "jwt\.jwksUri"/)]);
    // Before the fix: one more fetch per request (4 here, then 9 below).
    for (let i = 0; i < 3; i++) expect(await statusOf(app)).toBe(503);
    expect(await Promise.all(Array.from({ length: 5 }, () => statusOf(app)))).toEqual([503, 503, 503, 503, 503]);
    expect(fetches()).toBe(1);
    // The replayed failure is jose's same error: no other set-up problem is told.
    expect(lines).toEqual(logged);
    // The key set is back: the first wait (1 s) still runs, then the next request fetches it.
    emulator().clearFaults();
    time.advance(999);
    expect(await statusOf(app)).toBe(503);
    expect(fetches()).toBe(1);
    time.advance(1);
    expect(await statusOf(app)).toBe(200);
    expect(fetches()).toBe(2);
  });

  it('the wait doubles with each failure in a row, up to jwt.jwks.cooldownDuration; a success starts over', async () => {
    emulator().fault({ kind: 'status', status: 503, path: JWKS });
    const { app, time } = appWith({ cooldownDuration: 3_000 });
    expect(await statusOf(app)).toBe(503);
    // Waits of 1 s, 2 s, then 3 s (the cooldown) each time: [ms advanced, fetches after a request].
    const steps: Array<[number, number]> = [[1_000, 2], [1_000, 2], [1_000, 3], [2_999, 3], [1, 4], [3_000, 5]];
    for (const [ms, expected] of steps) {
      time.advance(ms);
      expect(await statusOf(app)).toBe(503);
      expect(fetches()).toBe(expected);
    }
    emulator().clearFaults();
    time.advance(3_000);
    expect(await statusOf(app)).toBe(200);
    expect(fetches()).toBe(6);
  });

  it('jwt.jwks.cooldownDuration 0: every request fetches, as before', async () => {
    emulator().fault({ kind: 'status', status: 503, path: JWKS });
    const { app } = appWith({ cooldownDuration: 0 });
    for (let i = 0; i < 3; i++) expect(await statusOf(app)).toBe(503);
    expect(fetches()).toBe(3);
  });

  it('a flood of unknown kids once the cooldown is over: one fetch, and the cached keys still verify', async () => {
    // jose's own cooldown (50 ms, on the wall clock) runs out; the guard's wait is on its frozen clock.
    const { app } = appWith({ cooldownDuration: 50 });
    expect(await statusOf(app)).toBe(200);
    expect(fetches()).toBe(1);
    await sleep(100);
    emulator().fault({ kind: 'status', status: 503, path: JWKS });
    // Before the fix: one fetch per token (11 in all).
    for (let i = 0; i < 10; i++) expect(await statusOf(app, `nobody-${i}`)).toBe(503);
    expect(fetches()).toBe(2);
    expect(await statusOf(app)).toBe(200);
    expect(fetches()).toBe(2);
  });

  it('guard.ready() fetches at once during the wait, and its success serves the next requests', async () => {
    emulator().fault({ kind: 'status', status: 503, path: JWKS, times: 1 });
    const { app, guard } = appWith();
    expect(await statusOf(app)).toBe(503);
    await guard.ready();
    expect(fetches()).toBe(2);
    expect(await statusOf(app)).toBe(200);
    expect(fetches()).toBe(2);
  });

  it('a timeout is a failure like the others', async () => {
    emulator().fault({ kind: 'hang', path: JWKS });
    const { app } = appWith({ timeoutDuration: 200 });
    expect(await statusOf(app)).toBe(503);
    expect(await statusOf(app)).toBe(503);
    expect(fetches()).toBe(1);
  });
});
