// A configured jwt.publicKey that jose still refuses on a request (construction checks what jose
// refuses today; a later jose may refuse more) is a 503 with a set-up line: the line must name
// jwt.publicKey, the option the user set, not the OIDC discovery document and jwt.issuer (which the
// guard named for every key source but jwksUri). Over real HTTP: an Express app, the emulator; jose's
// key import is made to refuse the key.
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import { SignJWT } from 'jose';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

vi.mock('jose/key/import', async (importOriginal) => ({
  ...(await importOriginal<typeof import('jose/key/import')>()),
  importJWK: () => Promise.reject(new TypeError('refused by jose (emulated)')),
}));

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

describe('a jwt.publicKey that fails on a request', () => {
  it('is a 503 whose set-up line names jwt.publicKey', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const lines: string[] = [];
    const guard = track(createExpressGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { publicKey, algorithms: ['RS256'] },
      logger: { warn: (line: string) => lines.push(line) },
    }));
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    const res = await request(app).get('/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' });
    // Before the fix: 'the OIDC discovery document (jwt.issuer + /.well-known/openid-configuration) could
    // not be used (TypeError); check option "jwt.issuer"'.
    expect(lines).toEqual([expect.stringMatching(/jwt\.publicKey.*could not be used \(TypeError\).*check option "jwt\.publicKey"/)]);
    expect(lines[0]).not.toMatch(/discovery|jwt\.issuer/);
  });
});
