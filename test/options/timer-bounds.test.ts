// A timeout is a Node timer, and Node runs a timer longer than 2^31 - 1 ms (about 24.8 days) after
// 1 ms: `genauth.timeout: 2 ** 31`, meant as "wait long", timed out every GenAuth call at once and
// every request was a 503 (the same for `jwt.jwks.timeoutDuration` and `cache.redisTimeout`). Such a
// value is refused when the guard is built, in the one option format.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { ExpressGuardOptions } from '../../src/adapters/express.js';
import { useEmulator } from '../fixtures.js';
import { useReportsApps } from './reports-apps.js';

const LONGEST_TIMER = 2 ** 31 - 1;
const emulator = useEmulator();
const appWith = useReportsApps(emulator);

type Change = (o: ExpressGuardOptions) => ExpressGuardOptions;
const timeout = (ms: number): Change => (o) => ({ ...o, genauth: { ...o.genauth, timeout: ms } });
const jwksTimeout = (ms: number): Change => (o) => ({ ...o, jwt: { ...o.jwt!, jwks: { timeoutDuration: ms } } });
const redisTimeout = (ms: number): Change => (o) => ({ ...o, cache: { redisTimeout: ms } });
const contextTimeout = (ms: number): Change => (o) => ({ ...o, conditions: { timeoutDuration: ms } });

/** alice's answer, or the TypeError the options raised. */
async function answer(change: Change): Promise<number | string> {
  let app: express.Express;
  try {
    app = appWith(change(emulator().guardOptions()));
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return (await request(app).get('/reports').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status;
}

describe('a timeout longer than a Node timer can wait', () => {
  it.each<[string, (ms: number) => Change]>([
    ['genauth.timeout', timeout],
    ['jwt.jwks.timeoutDuration', jwksTimeout],
    ['cache.redisTimeout', redisTimeout],
    ['conditions.timeoutDuration', contextTimeout],
  ])('%s: refused above 2^31 - 1 ms, taken up to it', async (path, change) => {
    expect(await answer(change(LONGEST_TIMER + 1))).toEqual(expect.stringMatching(new RegExp(`^genauth-guard: option "${path.replace(/\./g, '\\.')}" must be at most ${LONGEST_TIMER}`)));
    expect(await answer(change(1e12))).toEqual(expect.stringContaining(`option "${path}"`));
    expect(await answer(change(LONGEST_TIMER))).toBe(200);
  });
});
