// `jwt.clockTolerance` is the clock skew forgiven on `exp`, `nbf` and `iat`. It had no upper bound, so
// a large value (a value in ms where seconds are meant, `clockTolerance: 30_000`, or 1e9) quietly
// turned the expiry check off: a token expired a year ago was a 200. Skew is seconds to minutes; a
// value above 300 s (5 minutes, the usual largest skew allowed) is refused when the guard is built.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { useReportsApps } from './reports-apps.js';

const emulator = useEmulator();
const appWith = useReportsApps(emulator);

/** The answer to a token of alice's that expired `ago` seconds ago, or the TypeError the options raised. */
async function expiredAgo(clockTolerance: number, ago: number): Promise<number | string> {
  let app: express.Express;
  try {
    const options = emulator().guardOptions();
    app = appWith({ ...options, jwt: { ...options.jwt, clockTolerance } });
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  const token = await emulator().mintToken('alice', { expiresIn: -ago });
  return (await request(app).get('/reports').set('authorization', `Bearer ${token}`)).status;
}

describe('jwt.clockTolerance', () => {
  it('a tolerance that would take a token expired a year ago is refused; GenAuth is never asked', async () => {
    for (const tolerance of [1e9, 30_000, 301]) {
      expect(await expiredAgo(tolerance, 365 * 24 * 3600)).toEqual(expect.stringMatching(/^genauth-guard: option "jwt\.clockTolerance" must be at most 300/));
    }
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('up to 300 s is taken, and covers only that much skew', async () => {
    expect(await expiredAgo(300, 200)).toBe(200);
    expect(await expiredAgo(300, 400)).toBe(401);
    expect(await expiredAgo(0, 2)).toBe(401);
  });
});
