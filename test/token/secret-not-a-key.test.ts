// jwt.secret holding a public key (algorithm confusion by configuration, the class of fast-jwt's
// CVE-2023-48223 and CVE-2026-34950): the issuer's RSA or EC public key pasted as the HS* secret, as PEM
// (any armor, leading whitespace included), as the base64 of its DER without the armor, or as the text
// of its JWK. The key is public, so anyone can MAC an HS256 token with it, and the guard accepted such a
// token. It is now a TypeError at construction naming jwt.secret; so is a private key or a certificate.
// A secret that merely contains such words is still a secret. The forgery is shown over HTTP.
// The other public forms of the same keys too (PyJWT's CVE-2022-29217 class): an OpenSSH public key
// line (`ssh-rsa AAAA...`), the base64 of a PKCS#1 DER, a certificate as the base64 of its DER,
// which is what a JWK Set's `x5c` member publishes, and the DER bytes themselves (a key file read whole).
import { generateKeyPairSync, createHmac, X509Certificate, type KeyObject } from 'node:crypto';
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
// A self-signed P-256 certificate (openssl req -x509, CN=issuer.test) as the base64 of its DER: a JWK's
// `x5c` member, served by the jwks_uri to anyone. Public input, checked below to parse as a certificate.
const X5C =
  'MIIBgTCCASegAwIBAgIUH/AG0nTXFt2/u6mTPYNIbUez8sUwCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLaXNzdWVyLnRlc3QwHhcNMjYxMjA2MTAyMTMyWhcNMzYxMjAzMTAy' +
  'MTMyWjAWMRQwEgYDVQQDDAtpc3N1ZXIudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMDcYhhJR3i49bR+oSuRPDiaYESxSwM7eFs/AGEgNrZP6IBRGBwyIH+qY9Ec' +
  '8/OCDxqBSuyIHTVaRlajCntf4S6jUzBRMB0GA1UdDgQWBBSGEmN0gU5mshSiAo+yNpj38F+G9jAfBgNVHSMEGDAWgBSGEmN0gU5mshSiAo+yNpj38F+G9jAPBgNVHRMBAf8E' +
  'BTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIHFWkr/veMMdp46qIAf6RtDujOhd3YJF6ftknwvMnsgYAiEAgyUkPmTQjcLuGXAoXsdVbGOJacIJMP2MsMlh+n9SBHg=';

/** The RFC 4253 wire form: a uint32 length, then the bytes. */
const sshString = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (bytes.length >>> (24 - 8 * i)) & 0xff)), bytes]);
/** An RFC 4251 mpint from a JWK's unsigned big-endian base64url member. */
const mpint = (member: string) => {
  const bytes = Buffer.from(member, 'base64url');
  return sshString((bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes);
};
/** A public key as an OpenSSH authorized_keys line (`<type> <base64 blob> <comment>`). */
function openSsh(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { kty: string; crv?: string; n?: string; e?: string; x?: string; y?: string };
  const text = (value: string) => sshString(Buffer.from(value));
  let type: string;
  let blob: Buffer;
  if (jwk.kty === 'RSA') {
    type = 'ssh-rsa';
    blob = Buffer.concat([text(type), mpint(jwk.e!), mpint(jwk.n!)]);
  } else if (jwk.kty === 'OKP') {
    type = 'ssh-ed25519';
    blob = Buffer.concat([text(type), sshString(Buffer.from(jwk.x!, 'base64url'))]);
  } else {
    type = 'ecdsa-sha2-nistp256';
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    blob = Buffer.concat([text(type), text('nistp256'), sshString(point)]);
  }
  return `${type} ${blob.toString('base64')} issuer@host\n`;
}
const ed = generateKeyPairSync('ed25519');

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
  ['an RSA public key as an OpenSSH line (ssh-rsa)', openSsh(rsa.publicKey)],
  ['an EC public key as an OpenSSH line (ecdsa-sha2-nistp256)', openSsh(ec.publicKey)],
  ['an Ed25519 public key as an OpenSSH line (ssh-ed25519)', openSsh(ed.publicKey)],
  ['an OpenSSH key blob without its comment', openSsh(rsa.publicKey).split(' ').slice(0, 2).join(' ')],
  ['the base64 of the PKCS#1 DER', (rsa.publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer).toString('base64')],
  ['a certificate as the base64 of its DER (a JWK x5c member)', X5C],
  ['the same, base64 wrapped at 64 characters', X5C.replace(/.{64}/g, '$&\n')],
  // A key file read as it is (readFileSync of a .der or .cer): the DER bytes themselves.
  ['the SPKI DER as bytes', new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }) as Buffer)],
  ['the PKCS#1 DER as bytes', new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer)],
  ['a certificate DER as bytes', new Uint8Array(Buffer.from(X5C, 'base64'))],
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
    ['a passphrase naming an OpenSSH key type', 'ssh-rsa and ssh-ed25519 are key types, and this sentence is a secret'],
  ])('%s is still a secret', async (_what, secret) => {
    await build(secret)().close();
  });
});

describe('the forgery it allowed, over HTTP', () => {
  const emulator = useEmulator();

  const published: Array<[string, string | Uint8Array]> = [
    ['the public key as PEM', pem(rsa.publicKey, 'spki')],
    ['the jwks_uri body', JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] })],
    ['the x5c member of the jwks_uri body', X5C],
    ['the public key as an OpenSSH line', openSsh(rsa.publicKey)],
    ['the public key file read whole (DER bytes)', new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }) as Buffer)],
  ];

  it('the x5c fixture is a certificate whose public key is published with it', () => {
    expect(new X509Certificate(Buffer.from(X5C, 'base64')).publicKey.asymmetricKeyType).toBe('ec');
  });

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
