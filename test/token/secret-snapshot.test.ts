// jwt.secret given as bytes is the guard's from construction on. The synchronous HS* check copied the
// bytes when the guard was built, but jose's key was imported from the caller's buffer on the first
// token of each algorithm: an app that wiped its buffer after building the guard (fill(0), a common
// habit with secrets) left jose verifying under the wiped bytes. A token MACed with that many zero
// bytes then failed the synchronous check, went to jose, and was accepted; the real secret's tokens
// were refused by jose. Over real HTTP: an Express app, the emulator.
import { createHmac, randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An HS* token for `sub`, MACed with `secret`; `pad` sets a MAC character's unused bits, so the synchronous check leaves it to jose. */
function mint(secret: Uint8Array, alg: 'HS256' | 'HS512', sub: string, pad = false): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg, typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + 600 })}`;
  const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret).update(input).digest('base64url');
  if (!pad) return `${input}.${mac}`;
  // A 32-byte MAC ends in a character with 2 unused bits (64 bytes: 4); jose decodes either spelling.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return `${input}.${mac.slice(0, -1)}${alphabet[alphabet.indexOf(mac.at(-1)!) ^ 1]}`;
}

describe('jwt.secret as bytes', () => {
  it('wiping the buffer after construction changes nothing: the wiped bytes verify nothing', async () => {
    const secret = randomBytes(64);
    const original = Buffer.from(secret);
    const guard = track(createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { secret, algorithms: ['HS256', 'HS512'] }, logger: false }));
    const app = express();
    app.get('/me', guard.authenticate(), (req, res) => void res.send(req.genauth?.identity.userId));
    const get = (token: string) => request(app).get('/me').set('authorization', `Bearer ${token}`);

    secret.fill(0);
    const zeros = new Uint8Array(64);
    // Before the fix: 200 as "admin" (jose imported the zeroed buffer), for both algorithms.
    for (const alg of ['HS256', 'HS512'] as const) {
      expect((await get(mint(zeros, alg, 'admin'))).status).toBe(401);
      expect((await get(mint(zeros, alg, 'admin', true))).status).toBe(401);
    }
    // The secret it was given still verifies, on the synchronous check and through jose.
    for (const alg of ['HS256', 'HS512'] as const) {
      expect((await get(mint(original, alg, 'alice'))).status).toBe(200);
      expect((await get(mint(original, alg, 'alice', true))).status).toBe(200);
    }
  });
});
