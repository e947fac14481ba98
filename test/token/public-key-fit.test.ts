// A configured public key must fit every algorithm in jwt.algorithms. When it did not (a P-256 key with
// ES256 and ES384, an RSASSA-PKCS1-v1_5 SHA-256 CryptoKey with RS256 and PS256), any caller could send a
// token whose header names the other algorithm (no valid signature needed) and jose threw a TypeError
// while preparing the key: the guard answered 503 ERR_KEYS_UNAVAILABLE (an outage, with Retry-After)
// and logged a set-up problem naming the OIDC discovery document. Such a configuration is now a
// TypeError at construction, as a key of the wrong type already was.
// Over real HTTP: an Express app, the emulator.
import { createPrivateKey, createSecretKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import express from 'express';
import { SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { JwtAlgorithm } from '../../src/options.js';
import { useEmulator } from '../fixtures.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
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

// Keys jose refuses whatever the algorithm, which were accepted at construction and then cost each
// token a 503 ERR_KEYS_UNAVAILABLE (jose threw while importing or checking the key): an RSA key under
// 2048 bits, a PKCS#1 "RSA PUBLIC KEY" PEM (jose's importSPKI takes SPKI only), an id-RSASSA-PSS key
// (neither JWK export nor WebCrypto import takes it), and a private key given as `publicKey`.
const rsaOf = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength });
const rsa1024CryptoKey = async () =>
  (await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;

const SMALL_RSA: Array<[string, () => Promise<unknown>, JwtAlgorithm[], JwtAlgorithm]> = [
  ['a 1024-bit RSA PEM with RS256', async () => rsaOf(1024).publicKey.export({ format: 'pem', type: 'spki' }), ['RS256'], 'RS256'],
  ['a 1024-bit RSA JWK with PS256', async () => rsaOf(1024).publicKey.export({ format: 'jwk' }), ['PS256'], 'PS256'],
  ['a 1024-bit RSA KeyObject with RS256', async () => rsaOf(1024).publicKey, ['RS256'], 'RS256'],
  ['a 1024-bit RSA CryptoKey with RS256', async () => (await rsa1024CryptoKey()).publicKey, ['RS256'], 'RS256'],
];

const PRIVATE: Array<[string, () => Promise<unknown>, JwtAlgorithm[], JwtAlgorithm]> = [
  ['a private RSA KeyObject', async () => rsaOf(2048).privateKey, ['RS256'], 'RS256'],
  ['a private RSA PEM (PKCS#8)', async () => rsaOf(2048).privateKey.export({ format: 'pem', type: 'pkcs8' }), ['RS256'], 'RS256'],
  ['a private RSA PEM (PKCS#1)', async () => rsaOf(2048).privateKey.export({ format: 'pem', type: 'pkcs1' }), ['RS256'], 'RS256'],
  ['a private EC PEM (SEC1)', async () => createPrivateKey(await exportPKCS8((await p256()).privateKey)).export({ format: 'pem', type: 'sec1' }), ['ES256'], 'ES256'],
  ['a private RSA JWK', async () => rsaOf(2048).privateKey.export({ format: 'jwk' }), ['RS256'], 'RS256'],
  ['a private P-256 JWK', async () => exportJWK((await p256()).privateKey), ['ES256'], 'ES256'],
  ['a private P-256 CryptoKey', async () => (await p256()).privateKey, ['ES256'], 'ES256'],
];

describe('jwt.publicKey that jose refuses whatever the token', () => {
  it.each(SMALL_RSA)('%s: a TypeError at construction naming jwt.publicKey and 2048 bits', async (_label, key, algorithms, alg) => {
    const outcome = await answerOf(await key(), algorithms, await tokenUnder(alg));
    // Before the fix: { status: 503, body: { code: 'ERR_KEYS_UNAVAILABLE' } } for every token.
    expect(outcome).toMatchObject({ thrown: expect.any(TypeError) });
    expect((outcome as { thrown: Error }).thrown.message).toMatch(/"jwt\.publicKey".*2048/);
  });

  it.each(PRIVATE)('%s: a TypeError at construction saying it is private', async (_label, key, algorithms, alg) => {
    const outcome = await answerOf(await key(), algorithms, await tokenUnder(alg));
    expect(outcome).toMatchObject({ thrown: expect.any(TypeError) });
    expect((outcome as { thrown: Error }).thrown.message).toMatch(/"jwt\.publicKey".*private key/);
  });

  it('an id-RSASSA-PSS key: a TypeError at construction naming jwt.publicKey', async () => {
    const { publicKey } = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    for (const key of [publicKey, publicKey.export({ format: 'pem', type: 'spki' })]) {
      const outcome = await answerOf(key, ['PS256'], await tokenUnder('PS256'));
      expect(outcome).toMatchObject({ thrown: expect.any(TypeError) });
      expect((outcome as { thrown: Error }).thrown.message).toContain('"jwt.publicKey"');
    }
  });

  it('a PKCS#1 "RSA PUBLIC KEY" PEM works: a stranger\'s token is a 401, the key\'s own token passes', async () => {
    const pair = rsaOf(2048);
    const pem = pair.publicKey.export({ format: 'pem', type: 'pkcs1' });
    // Before the fix: 503 ERR_KEYS_UNAVAILABLE (jose's importSPKI refused the PEM on every token).
    expect(await answerOf(pem, ['RS256'], await tokenUnder('RS256'))).toMatchObject({ status: 401, body: { code: 'ERR_INVALID_TOKEN' } });
    const own = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().setExpirationTime('1h').sign(pair.privateKey);
    expect(await answerOf(pem, ['RS256'], own)).toMatchObject({ status: 200 });
  });

  it('a 2048-bit RSA KeyObject still works', async () => {
    expect(await answerOf(rsaOf(2048).publicKey, ['RS256', 'PS256'], await tokenUnder('PS256'))).toMatchObject({ status: 401 });
  });
});

describe('jwt.publicKey that is a symmetric key', () => {
  it.each([
    ['a secret KeyObject', () => createSecretKey(new Uint8Array(32))],
    ['an oct JWK', () => ({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' })],
  ])('%s: a TypeError pointing at jwt.secret', async (_label, key) => {
    const outcome = await answerOf(key(), ['RS256'], await tokenUnder('RS256'));
    expect(outcome).toMatchObject({ thrown: expect.any(TypeError) });
    expect((outcome as { thrown: Error }).thrown.message).toMatch(/"jwt\.publicKey".*jwt\.secret/);
  });
});
