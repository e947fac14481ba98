// A revoked user's token must stay refused for as long as the guard would otherwise accept it. With
// jwt.maxTokenAge, jose accepts a token until iat + maxTokenAge + clockTolerance (whole seconds, the
// current second floored): the default revocation.ttl must cover that, not only maxTokenAge.
// Over real HTTP: an Express app, the emulator, a hand-moved clock.
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { useEmulator } from '../fixtures.js';
import { manualClock } from '../clock.js';

const emulator = useEmulator();
let guards: ExpressGuard[] = [];
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  guards = [];
});

describe('revocation.ttl by default covers every token the guard would still accept', () => {
  it.each([
    ['maxTokenAge 60, clockTolerance 5 (default)', { maxTokenAge: 60 }],
    ['maxTokenAge 60, clockTolerance 0', { maxTokenAge: 60, clockTolerance: 0 }],
  ])('%s: a revoked token is never accepted again', async (_label, jwtExtra) => {
    const { clock, advance } = manualClock();
    // The wall clock starts on a whole second, so the token's iat is the revocation's second exactly.
    const start = Math.floor(Date.now() / 1000) * 1000;
    const now = () => start + clock.now() - 1_000_000;
    const guard = createExpressGuard({
      ...emulator().guardOptions(),
      jwt: { ...emulator().guardOptions().jwt, ...jwtExtra },
      clock,
      now,
      // Every request verifies the token again (no verified-token cache to drop).
      cache: false,
    });
    guards.push(guard);
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    const token = await emulator().mintToken('alice', { claims: { iat: start / 1000 }, expiresIn: 3600 });
    const get = () => request(app).get('/me').set('authorization', `Bearer ${token}`);

    expect((await get()).status).toBe(200);
    guard.revokeUser('alice');
    expect((await get()).status).toBe(401);
    // Walk the clock in 250 ms steps until jose itself refuses the token as too old: every answer on the
    // way must be a refusal (revoked, then expired), never a 200.
    const statuses: Array<[number, number]> = [];
    for (let elapsed = 0; elapsed <= 70_000; elapsed += 250) {
      const answer = await get();
      statuses.push([elapsed, answer.status]);
      advance(250);
    }
    expect(statuses.filter(([, status]) => status === 200)).toEqual([]);
  });
});
