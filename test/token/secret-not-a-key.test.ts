// jwt.secret holding a public key (algorithm confusion by configuration, the class of fast-jwt's
// CVE-2023-48223 and CVE-2026-34950): the issuer's RSA or EC public key pasted as the HS* secret, as PEM
// (any armor, leading whitespace included), as the base64 of its DER without the armor, or as the text
// of its JWK. The key is public, so anyone can MAC an HS256 token with it, and the guard accepted such a
// token. It is now a TypeError at construction naming jwt.secret; so is a private key or a certificate.
// A secret that merely contains such words is still a secret. The forgery is shown over HTTP.
import { generateKeyPairSync, createHmac, type KeyObject } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createGuard, type GuardOptions } from '../../src/index.js';
import { useEmulator } from '../fixtures.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const build = (secret: string | Uint8Array) => () => createGuard({ genauth, jwt: { secret, algorithms: ['HS256'] } } as GuardOptions);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject, type: 'spki' | 'pkcs1' | 'pkcs8') => key.export({ format: 'pem', type } as never) as string;
const spkiDer = (key: KeyObject) => (key.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64');
// openssl's certificate armor; the body need not parse for the secret to be refused.
const CERTIFICATE = `-----BEGIN CERTIFICATE-----\n${spkiDer(rsa.publicKey)}\n-----END CERTIFICATE-----\n`;

const KEYS: Array<[string, string | Uint8Array]> = [
  ['an RSA public key (SPKI PEM)', pem(rsa.publicKey, 'spki')],
  ['an RSA public key (PKCS#1 PEM)', pem(rsa.publicKey, 'pkcs1')],
  ['an EC public key (SPKI PEM)', pem(ec.publicKey, 'spki')],
  ['a PEM after a newline and spaces', `\n  ${pem(rsa.publicKey, 'spki')}`],
  ['a PEM as bytes', new TextEncoder().encode(pem(rsa.publicKey, 'spki'))],
  ['the base64 of the SPKI DER, without the armor', spkiDer(rsa.publicKey)],
  ['an EC key as base64 DER', spkiDer(ec.publicKey)],
  ['the text of a public JWK', JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))],
  ['the text of an EC public JWK', JSON.stringify(ec.publicKey.export({ format: 'jwk' }))],
  // The issuer's jwks_uri answer, copied as it is served: anyone can fetch the same bytes.
  ['the text of a JWK Set (the jwks_uri body)', JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] })],
  ['the text of a JWK Set, pretty-printed', JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] }, null, 2)],
  ['the base64url of the SPKI DER', Buffer.from(spkiDer(rsa.publicKey), 'base64').toString('base64url')],
  ['a private key (PKCS#8 PEM)', pem(rsa.privateKey, 'pkcs8')],
  ['a certificate', CERTIFICATE],
];

describe('jwt.secret must not be a key', () => {
  it.each(KEYS)('%s is a TypeError naming jwt.secret, without echoing it', (_what, secret) => {
    expect(build(secret)).toThrow(TypeError);
    let message = '';
    try {
      build(secret)();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('option "jwt.secret"');
    expect(message).not.toContain(typeof secret === 'string' ? secret.trim().slice(40, 80) : 'MIIB');
  });

  it.each([
    ['a random base64 secret', 'q8V0bX2kYc9Jf3Lr6Hn1Zt4Wm7Pd5Sa0Eg2Ui8Oy6Tk='],
    ['a passphrase naming a key', 'the -----BEGIN words of a secret, not a PEM block of any key'],
    ['JSON that is not a JWK', '{"secret":"0123456789abcdef0123456789abcdef"}'],
    ['JSON with a keys list of no JWK', '{"keys":["0123456789abcdef","0123456789abcdef"]}'],
    ['random bytes', new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256))],
  ])('%s is still a secret', async (_what, secret) => {
    await build(secret)().close();
  });
});

describe('the forgery it allowed, over HTTP', () => {
  const emulator = useEmulator();

  const published = [
    ['the public key as PEM', pem(rsa.publicKey, 'spki')],
    ['the jwks_uri body', JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] })],
  ];

  it.each(published)('an HS256 token MACed with %s is never accepted', async (_what, publicPem) => {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(JSON.stringify({ sub: 'admin', iat: now, exp: now + 600 })).toString('base64url');
    const forged = `${header}.${payload}.${createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url')}`;
    let status: number;
    try {
      const guard = createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { secret: publicPem, algorithms: ['HS256'] }, logger: false });
      const app = express();
      app.get('/me', guard.authenticate(), (req, res) => void res.send(req.genauth?.identity.userId));
      status = (await request(app).get('/me').set('authorization', `Bearer ${forged}`)).status;
      await guard.close();
    } catch (error) {
      // Refused at construction: no app could run with it.
      expect(error).toBeInstanceOf(TypeError);
      status = 0;
    }
    // Before the fix: 200, the forger signed in as "admin".
    expect(status).not.toBe(200);
  });
});
