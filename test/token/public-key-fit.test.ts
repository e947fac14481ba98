// A configured public key must fit every algorithm in jwt.algorithms. When it did not (a P-256 key with
// ES256 and ES384, an RSASSA-PKCS1-v1_5 SHA-256 CryptoKey with RS256 and PS256), any caller could send a
// token whose header names the other algorithm (no valid signature needed) and jose threw a TypeError
// while preparing the key: the guard answered 503 ERR_KEYS_UNAVAILABLE (an outage, with Retry-After)
// and logged a set-up problem naming the OIDC discovery document. Such a configuration is now a
// TypeError at construction, as a key of the wrong type already was.
// Over real HTTP: an Express app, the emulator.
import { webcrypto } from 'node:crypto';
import express from 'express';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { JwtAlgorithm } from '../../src/options.js';
import { useEmulator } from '../fixtures.js';

type CryptoKey = webcrypto.CryptoKey;
const emulator = useEmulator();
let guards: ExpressGuard[] = [];
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  guards = [];
});

/** A token for alice under `alg`, signed by a key of that algorithm nobody configured (only its header matters). */
async function tokenUnder(alg: JwtAlgorithm): Promise<string> {
  const { privateKey } = await generateKeyPair(alg);
  return new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
}

/** The guard's answer to `token` on an authenticate-only route, or the error its construction threw. */
async function answerOf(publicKey: unknown, algorithms: JwtAlgorithm[], token: string): Promise<{ status: number; body: unknown } | { thrown: unknown }> {
  let guard: ExpressGuard;
  try {
    guard = createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { publicKey: publicKey as never, algorithms } });
  } catch (thrown) {
    return { thrown };
  }
  guards.push(guard);
  const app = express();
  app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
  const res = await request(app).get('/me').set('authorization', `Bearer ${token}`);
  return { status: res.status, body: res.body };
}

const p256 = () => generateKeyPair('ES256', { extractable: true });
const rsa256 = () => generateKeyPair('RS256', { extractable: true });

const MISFITS: Array<[string, () => Promise<unknown>, JwtAlgorithm[], JwtAlgorithm]> = [
  ['a P-256 PEM with ES256 and ES384', async () => exportSPKI((await p256()).publicKey), ['ES256', 'ES384'], 'ES384'],
  ['a P-256 JWK with ES256 and ES512', async () => exportJWK((await p256()).publicKey), ['ES256', 'ES512'], 'ES512'],
  ['a P-256 CryptoKey with ES256 and ES384', async () => (await p256()).publicKey, ['ES256', 'ES384'], 'ES384'],
  ['an RSASSA-PKCS1-v1_5 SHA-256 CryptoKey with RS256 and PS256', async () => (await rsa256()).publicKey, ['RS256', 'PS256'], 'PS256'],
  ['an RSASSA-PKCS1-v1_5 SHA-256 CryptoKey with RS256 and RS384', async () => (await rsa256()).publicKey, ['RS256', 'RS384'], 'RS384'],
  ['a P-256 CryptoKey with RS256', async () => (await p256()).publicKey, ['RS256'], 'RS256'],
];

describe('jwt.publicKey must fit every configured algorithm', () => {
  it.each(MISFITS)('%s: a TypeError at construction, never a 503 for a caller\'s token', async (_label, key, algorithms, alg) => {
    const outcome = await answerOf(await key(), algorithms, await tokenUnder(alg));
    // Before the fix: { status: 503, body: { code: 'ERR_KEYS_UNAVAILABLE' } } for a token anyone can write.
    expect(outcome).toMatchObject({ thrown: expect.any(TypeError) });
    expect(String((outcome as { thrown: Error }).thrown.message)).toContain('jwt.publicKey');
  });

  it.each([
    ['a P-256 PEM with ES256', async () => exportSPKI((await p256()).publicKey), ['ES256'], 'ES384'],
    ['an RSA PEM with RS256, RS512 and PS256', async () => exportSPKI((await rsa256()).publicKey), ['RS256', 'RS512', 'PS256'], 'PS256'],
    ['an RSASSA-PKCS1-v1_5 SHA-256 CryptoKey with RS256', async () => (await rsa256()).publicKey, ['RS256'], 'RS256'],
    ['a P-256 CryptoKey with ES256', async () => (await p256()).publicKey as CryptoKey, ['ES256'], 'ES256'],
  ] as Array<[string, () => Promise<unknown>, JwtAlgorithm[], JwtAlgorithm]>)('%s still works: a stranger\'s token is a 401', async (_label, key, algorithms, alg) => {
    const outcome = await answerOf(await key(), algorithms, await tokenUnder(alg));
    expect(outcome).toMatchObject({ status: 401, body: { code: 'ERR_INVALID_TOKEN' } });
  });
});
