/**
 * The guard's token verification held to jose's `jwtVerify`, adversarially: for each token, the guard
 * (an Express app over HTTP: bearer syntax, form and length checks, token cache, the synchronous HS* or
 * RS/PS/ES check, jose, the guard's own claim rules) and `jwtVerify` (the same key set, served by a real
 * HTTP key server, and the same algorithms, issuer, audience, typ, clockTolerance, maxTokenAge and
 * requiredClaims) each give a verdict. A token the guard accepts must be one jose accepts, with the
 * same claims (no fail-open divergence). Where the guard refuses what jose accepts (fail-closed), the
 * refusal must be one of the guard's documented extra rules (`KNOWN_STRICTER`).
 *
 * Two parts: a table of hand-made tokens by attack family, and a fast-check property that assembles
 * tokens from hostile headers, claims, signers and signature spellings. Each token is sent twice, so
 * the second answer may come from the token cache.
 */
import { constants, createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { createRemoteJWKSet, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { JwtAlgorithm, JwtOptions } from '../../src/options.js';
import { isFitUserId } from '../../src/token/identity.js';
import { MAX_TOKEN_LENGTH } from '../../src/token/verifier.js';
import { send } from '../conformance/http.js';
import { startKeyServer, type KeyServer } from '../adversarial/key-server.js';
import { useEmulator } from '../fixtures.js';
import { manualClock } from '../clock.js';

const NOW = Math.floor(Date.now() / 1000);
const ISSUER = 'https://issuer.test/oidc';
const AUDIENCE = 'https://api.test';
const SECRET = 'differential-secret-0123456789abcdef0123456789abcdef';

const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };
const rsa = (bits = 2048): Pair => generateKeyPairSync('rsa', { modulusLength: bits });
const ec = (namedCurve: string): Pair => generateKeyPairSync('ec', { namedCurve });

const KEYS = {
  rs: rsa(),
  ps: rsa(),
  es: ec('P-256'),
  es384: ec('P-384'),
  es512: ec('P-521'),
  ed: generateKeyPairSync('ed25519'),
  ed448: generateKeyPairSync('ed448'),
  noalg: rsa(),
  enc: rsa(),
  keyops: rsa(),
  verifyops: rsa(),
  small: rsa(1024),
  wrongcurve: ec('P-384'),
  secp256k1: ec('secp256k1'),
  dup1: rsa(),
  dup2: rsa(),
  traversal: rsa(),
  emptykid: rsa(),
  outsider: rsa(),
  outsiderEc: ec('P-256'),
  /** Published with its private members: jose refuses to verify with a set member that is not public. */
  published: rsa(),
} satisfies Record<string, Pair>;
type KeyName = keyof typeof KEYS;

const jwk = (name: KeyName, members: Record<string, unknown>): JWK => ({ ...(KEYS[name].publicKey.export({ format: 'jwk' }) as JWK), use: 'sig', ...members });

/** The key server's set: usable keys, and keys jose must never pick for a signature. */
const JWKS: JWK[] = [
  jwk('rs', { kid: 'rs', alg: 'RS256' }),
  jwk('ps', { kid: 'ps', alg: 'PS256' }),
  jwk('es', { kid: 'es', alg: 'ES256' }),
  jwk('es384', { kid: 'es384', alg: 'ES384' }),
  jwk('es512', { kid: 'es512', alg: 'ES512' }),
  jwk('ed', { kid: 'ed', alg: 'EdDSA' }),
  jwk('ed448', { kid: 'ed448', alg: 'EdDSA' }),
  // No alg: RS256, RS384 and PS256 alike.
  jwk('noalg', { kid: 'noalg' }),
  { ...jwk('enc', { kid: 'enc', alg: 'RS256' }), use: 'enc' },
  jwk('keyops', { kid: 'keyops', alg: 'RS256', key_ops: ['encrypt'] }),
  jwk('verifyops', { kid: 'verifyops', alg: 'RS256', key_ops: ['verify'] }),
  jwk('small', { kid: 'small', alg: 'RS256' }),
  jwk('wrongcurve', { kid: 'wrongcurve', alg: 'ES256' }),
  jwk('secp256k1', { kid: 'secp256k1' }),
  jwk('dup1', { kid: 'dup', alg: 'RS256' }),
  jwk('dup2', { kid: 'dup', alg: 'RS256' }),
  jwk('traversal', { kid: '../rs', alg: 'RS256' }),
  jwk('emptykid', { kid: '', alg: 'RS256' }),
  // A signing key leaked into the set, and a symmetric key (its bytes the HS setup's secret): neither
  // may verify anything, on any path.
  { ...(KEYS.published.privateKey.export({ format: 'jwk' }) as JWK), kid: 'private', alg: 'RS256', use: 'sig' },
  { kty: 'oct', k: b64(SECRET), kid: 'oct', alg: 'HS256', use: 'sig' },
  { kty: 'oct', k: b64(SECRET), kid: 'oct-noalg' },
];

/** How a token is signed, whatever its header says. */
type Scheme =
  | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS256-salt0' | 'ES256' | 'ES384' | 'ES512' | 'ES256-der' | 'EdDSA' | 'HS256' | 'HS384' | 'HS256-pem';

const RSA_PEM = KEYS.rs.publicKey.export({ format: 'pem', type: 'spki' }) as string;

function signature(scheme: Scheme, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input, 'latin1');
  const pkcs1 = (hash: string) => sign(hash, data, { key, padding: constants.RSA_PKCS1_PADDING });
  const pss = (hash: string, saltLength: number) => sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
  switch (scheme) {
    case 'RS256': return pkcs1('sha256');
    case 'RS384': return pkcs1('sha384');
    case 'RS512': return pkcs1('sha512');
    case 'PS256': return pss('sha256', 32);
    case 'PS384': return pss('sha384', 48);
    case 'PS256-salt0': return pss('sha256', 0);
    case 'ES256': return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES384': return sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES512': return sign('sha512', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES256-der': return sign('sha256', data, { key, dsaEncoding: 'der' });
    case 'EdDSA': return sign(null, data, key);
    case 'HS256': return createHmac('sha256', SECRET).update(input).digest();
    case 'HS384': return createHmac('sha384', SECRET).update(input).digest();
    case 'HS256-pem': return createHmac('sha256', RSA_PEM).update(input).digest();
  }
}

/** A compact token from raw segments; a signer the key cannot serve gives 64 random-looking bytes. */
function signed(scheme: Scheme, key: KeyName, header: string, payload: string): string {
  let bytes: Buffer;
  try {
    bytes = signature(scheme, KEYS[key].privateKey, `${header}.${payload}`);
  } catch {
    bytes = createHmac('sha512', 'filler').update(`${header}.${payload}`).digest();
  }
  return `${header}.${payload}.${b64(bytes)}`;
}

/** The natural signing scheme of a header alg. */
const natural = (alg: unknown): Scheme => {
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'EdDSA';
  if (typeof alg === 'string' && /^(RS|PS|ES)(256|384|512)$/.test(alg) && alg !== 'PS512') return alg as Scheme;
  if (alg === 'HS256' || alg === 'HS384') return alg;
  return 'RS256';
};

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 600, ...extra });
/** JSON with raw number text: a string value `#raw:1e400` is written as `1e400`. */
const json = (value: unknown) => JSON.stringify(value).replace(/"#raw:([^"]*)"/g, '$1');
const token = (header: Record<string, unknown>, payload: unknown = claims(), key: KeyName = 'rs', scheme: Scheme = natural(header.alg)) =>
  signed(scheme, key, b64(json(header)), b64(typeof payload === 'string' ? payload : json(payload)));
const rawToken = (headerText: string, payloadText: string, key: KeyName = 'rs', scheme: Scheme = 'RS256') => signed(scheme, key, b64(headerText), b64(payloadText));

function withSignature(compact: string, change: (signature: string) => string): string {
  const at = compact.lastIndexOf('.') + 1;
  return compact.slice(0, at) + change(compact.slice(at));
}
/** The last character with its lowest bit flipped: the same bytes when that bit is unused. */
const lastBitFlipped = (s: string) => s.slice(0, -1) + ALPHABET[ALPHABET.indexOf(s.at(-1)!) ^ 1];

/** A guard configuration and the jwtVerify options it stands for. */
interface Setup {
  readonly name: string;
  readonly jwt: Omit<JwtOptions, 'jwksUri' | 'secret'> & { algorithms: JwtAlgorithm[] };
  readonly secret?: boolean;
}

const ASYMMETRIC: JwtAlgorithm[] = ['RS256', 'RS384', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const SETUPS: Setup[] = [
  { name: 'JWKS, issuer and audience, no clock tolerance', jwt: { algorithms: ASYMMETRIC, issuer: ISSUER, audience: [AUDIENCE, 'https://other.test'], clockTolerance: 0 } },
  { name: 'JWKS, typ at+jwt, requiredClaims jti, maxTokenAge 600', jwt: { algorithms: ['RS256', 'PS256', 'ES256'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', requiredClaims: ['jti'], maxTokenAge: 600, clockTolerance: 5 } },
  { name: 'secret, HS256 and HS384', secret: true, jwt: { algorithms: ['HS256', 'HS384'], issuer: ISSUER, audience: AUDIENCE } },
];

/** One verdict: accepted with these claims, or refused with this HTTP status (jose: the error code). */
type Verdict = { ok: true; claims: JWTPayload } | { ok: false; why: string };

/**
 * Why the guard may refuse what jose accepts: the rules it adds (docs/token-verification.md). A
 * fail-closed divergence with no reason here fails the test.
 */
function knownStricter(compact: string, payload: JWTPayload, setup: Setup): string | undefined {
  if (compact.length > MAX_TOKEN_LENGTH) return 'longer than 16 KiB';
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact)) return 'not in JWS compact form';
  if (typeof payload.exp !== 'number') return 'exp required';
  if (typeof payload.iat === 'number' && payload.iat > NOW + (setup.jwt.clockTolerance ?? 5)) return 'iat in the future';
  if (!isFitUserId(payload.sub, 1024)) return 'identity claim unfit';
  return undefined;
}

/** An Express app over HTTP whose one route authenticates with `guard` and answers the claims. */
async function serve(guard: ExpressGuard): Promise<{ port: number; close(): Promise<void> }> {
  const app = express();
  app.get('/me', guard.authenticate(), (req, res) => void res.json(req.genauth?.identity.claims));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await guard.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the guard against jwtVerify: no token the guard accepts is refused by jose', () => {
  const emulator = useEmulator();
  let keyServer: KeyServer;
  const apps: Array<{ setup: Setup; guard: ExpressGuard; server: ReturnType<ReturnType<typeof express>['listen']>; port: number; reference: JWTVerifyGetKey | Uint8Array }> = [];
  /** Fail-closed divergences seen, by reason (reported, not fixed). */
  const stricter = new Map<string, number>();
  /** Verdicts where jose accepted, to see the generator reaches acceptance. */
  let joseAccepted = 0;

  beforeAll(async () => {
    keyServer = await startKeyServer(JWKS);
    for (const setup of SETUPS) {
      const source = setup.secret === true ? { secret: SECRET } : { jwksUri: keyServer.jwksUri };
      const guard = createExpressGuard({
        genauth: emulator().guardOptions().genauth,
        jwt: { ...setup.jwt, ...source } as JwtOptions,
        now: () => NOW * 1000,
        logger: false,
      });
      const app = express();
      app.get('/me', guard.authenticate(), (req, res) => void res.json(req.genauth?.identity.claims));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const reference = setup.secret === true ? new TextEncoder().encode(SECRET) : createRemoteJWKSet(new URL(keyServer.jwksUri));
      apps.push({ setup, guard, server, port: (server.address() as AddressInfo).port, reference });
    }
    // Teach the synchronous check each usable key: it remembers a kid from jose's second resolution on.
    const teach: Array<[Record<string, unknown>, KeyName]> = [
      [{ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, 'rs'], [{ alg: 'PS256', kid: 'ps', typ: 'at+jwt' }, 'ps'], [{ alg: 'ES256', kid: 'es', typ: 'at+jwt' }, 'es'],
      [{ alg: 'ES384', kid: 'es384' }, 'es384'], [{ alg: 'ES512', kid: 'es512' }, 'es512'], [{ alg: 'RS256', kid: 'noalg', typ: 'at+jwt' }, 'noalg'],
      [{ alg: 'PS256', kid: 'noalg', typ: 'at+jwt' }, 'noalg'], [{ alg: 'RS384', kid: 'noalg' }, 'noalg'], [{ alg: 'RS256', kid: 'verifyops', typ: 'at+jwt' }, 'verifyops'],
      [{ alg: 'RS256', kid: '../rs', typ: 'at+jwt' }, 'traversal'], [{ alg: 'RS256', kid: '', typ: 'at+jwt' }, 'emptykid'], [{ alg: 'HS256' }, 'rs'], [{ alg: 'HS384' }, 'rs'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [header, key] of teach) {
        for (const app of apps) {
          const compact = token(header, claims({ jti: randomUUID() }), key);
          if (app.setup.jwt.algorithms.includes(header.alg as JwtAlgorithm)) await send(app.port, { target: '/me', headers: { authorization: `Bearer ${compact}` } });
        }
      }
    }
  });

  afterAll(async () => {
    for (const { guard, server } of apps) {
      await guard.close();
      await new Promise((resolve) => server.close(resolve));
    }
    await keyServer.close();
    if (stricter.size > 0) console.info('fail-closed divergences (guard refuses, jose accepts):', Object.fromEntries(stricter));
  });

  async function guardVerdict(port: number, compact: string): Promise<Verdict> {
    const answer = await send(port, { target: '/me', headers: { authorization: `Bearer ${compact}` } });
    return answer.status === 200 ? { ok: true, claims: JSON.parse(answer.body) } : { ok: false, why: String(answer.status) };
  }

  async function joseVerdict(compact: string, app: (typeof apps)[number]): Promise<Verdict> {
    const { algorithms, issuer, audience, typ, clockTolerance, maxTokenAge, requiredClaims } = app.setup.jwt;
    const options = { algorithms, issuer, audience: audience as string | string[] | undefined, typ, clockTolerance: clockTolerance ?? 5, maxTokenAge, requiredClaims: requiredClaims as string[] | undefined, currentDate: new Date(NOW * 1000) };
    try {
      const { payload } = await jwtVerify(compact, app.reference as JWTVerifyGetKey, options);
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, why: (error as { code?: string }).code ?? (error as Error).name };
    }
  }

  /** Both verdicts on every setup; the guard's twice (the second may be a cache hit). */
  async function compare(compact: string): Promise<void> {
    for (const app of apps) {
      const fromJose = await joseVerdict(compact, app);
      if (fromJose.ok) joseAccepted++;
      for (let round = 0; round < 2; round++) {
        const fromGuard = await guardVerdict(app.port, compact);
        if (fromGuard.ok) {
          // Fail-open: the guard accepts what jose refuses.
          expect({ setup: app.setup.name, round, jose: fromJose.ok ? 'ok' : fromJose.why }).toEqual({ setup: app.setup.name, round, jose: 'ok' });
          // Over HTTP the claims travel as JSON (an Infinity becomes null).
          expect(fromGuard.claims).toEqual(JSON.parse(JSON.stringify((fromJose as { claims: JWTPayload }).claims)));
        } else if (fromJose.ok) {
          const reason = knownStricter(compact, fromJose.claims, app.setup);
          expect({ setup: app.setup.name, status: fromGuard.why, reason }).toEqual({ setup: app.setup.name, status: expect.stringMatching(/^(400|401|431)$/), reason: expect.any(String) });
          stricter.set(reason!, (stricter.get(reason!) ?? 0) + 1);
        }
      }
    }
  }

  const valid = token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ jti: 'j1' }));
  const [validHeader, validPayload, validSignature] = valid.split('.') as [string, string, string];
  const es = token({ alg: 'ES256', kid: 'es', typ: 'at+jwt' }, claims({ jti: 'j2' }), 'es');
  const hs = token({ alg: 'HS256', typ: 'at+jwt' }, claims({ jti: 'j3' }));
  const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const highS = withSignature(es, (s) => {
    const bytes = Buffer.from(s, 'base64url');
    const twin = (P256_N - BigInt(`0x${bytes.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
    return b64(Buffer.concat([bytes.subarray(0, 32), Buffer.from(twin, 'hex')]));
  });

  /** name, token, by family. */
  const TABLE: Array<[string, string]> = [
    // baselines
    ['RS256 valid', valid],
    ['ES256 valid', es],
    ['HS256 valid', hs],
    ['ES384 valid', token({ alg: 'ES384', kid: 'es384' }, claims(), 'es384')],
    ['ES512 valid', token({ alg: 'ES512', kid: 'es512' }, claims(), 'es512')],
    ['EdDSA valid', token({ alg: 'EdDSA', kid: 'ed' }, claims(), 'ed')],
    ['Ed25519 alg under the EdDSA key', token({ alg: 'Ed25519', kid: 'ed' }, claims(), 'ed')],
    // crit and b64
    ['crit b64 true', token({ alg: 'RS256', kid: 'rs', crit: ['b64'], b64: true })],
    ['crit b64 false', token({ alg: 'RS256', kid: 'rs', crit: ['b64'], b64: false })],
    ['crit unknown extension', token({ alg: 'RS256', kid: 'rs', crit: ['urn:x'], 'urn:x': 1 })],
    ['crit naming exp', token({ alg: 'RS256', kid: 'rs', crit: ['exp'], exp: NOW + 10 })],
    ['crit empty', token({ alg: 'RS256', kid: 'rs', crit: [] })],
    ['crit duplicated b64', token({ alg: 'RS256', kid: 'rs', crit: ['b64', 'b64'], b64: true })],
    ['crit b64 without b64', token({ alg: 'RS256', kid: 'rs', crit: ['b64'] })],
    ['b64 false without crit', token({ alg: 'RS256', kid: 'rs', b64: false })],
    ['HS256 crit b64 false', token({ alg: 'HS256', crit: ['b64'], b64: false })],
    ['HS256 crit unknown', token({ alg: 'HS256', crit: ['x'], x: 1 })],
    // alg none, case, confusion
    ['alg none, no signature', `${b64('{"alg":"none"}')}.${validPayload}.`],
    ['alg none with a signature', token({ alg: 'none', kid: 'rs' })],
    ['alg NONE', token({ alg: 'NONE', kid: 'rs' })],
    ['alg rs256', token({ alg: 'rs256', kid: 'rs' }, claims(), 'rs', 'RS256')],
    ['alg Rs256', token({ alg: 'Rs256', kid: 'rs' }, claims(), 'rs', 'RS256')],
    ['alg hs256 (HS setup)', token({ alg: 'hs256' }, claims(), 'rs', 'HS256')],
    ['alg HS256 keyed with the RSA public key PEM', token({ alg: 'HS256', kid: 'rs' }, claims(), 'rs', 'HS256-pem')],
    ['alg HS512 not allowed', token({ alg: 'HS512' }, claims(), 'rs', 'HS256')],
    ['alg RS512 not allowed', token({ alg: 'RS512', kid: 'noalg' }, claims(), 'noalg')],
    ['alg ES256K', token({ alg: 'ES256K', kid: 'secp256k1' }, claims(), 'secp256k1', 'ES256')],
    ['alg with a trailing space', token({ alg: 'RS256 ', kid: 'rs' }, claims(), 'rs', 'RS256')],
    ['alg missing', token({ kid: 'rs' }, claims(), 'rs', 'RS256')],
    ['alg a list', token({ alg: ['RS256'], kid: 'rs' }, claims(), 'rs', 'RS256')],
    // kid
    ['kid absent, many RSA keys', token({ alg: 'RS256' })],
    ['kid absent, ES512 (one P-521 key)', token({ alg: 'ES512' }, claims(), 'es512')],
    ['kid shared by two keys', token({ alg: 'RS256', kid: 'dup' }, claims(), 'dup1')],
    ['kid a number', token({ alg: 'RS256', kid: 1 })],
    ['kid null', token({ alg: 'RS256', kid: null })],
    ['kid a list', token({ alg: 'RS256', kid: ['rs'] })],
    ['kid an object', token({ alg: 'RS256', kid: { toString: 'rs' } })],
    ['kid with traversal (published)', token({ alg: 'RS256', kid: '../rs' }, claims(), 'traversal')],
    ['kid with traversal, signed by rs', token({ alg: 'RS256', kid: '../rs' })],
    ['kid empty (published)', token({ alg: 'RS256', kid: '' }, claims(), 'emptykid')],
    ['kid empty, signed by rs', token({ alg: 'RS256', kid: '' })],
    ['kid in capitals', token({ alg: 'RS256', kid: 'RS' })],
    ['kid with a trailing space', token({ alg: 'RS256', kid: 'rs ' })],
    ['kid duplicated, last wins', rawToken('{"alg":"RS256","kid":"nobody","kid":"rs"}', json(claims()))],
    ['kid __proto__', token({ alg: 'RS256', kid: '__proto__' })],
    ['kid constructor', token({ alg: 'RS256', kid: 'constructor' })],
    // keys jose must not use
    ['use enc key', token({ alg: 'RS256', kid: 'enc' }, claims(), 'enc')],
    ['key_ops without verify', token({ alg: 'RS256', kid: 'keyops' }, claims(), 'keyops')],
    ['key_ops with verify', token({ alg: 'RS256', kid: 'verifyops' }, claims(), 'verifyops')],
    ['JWK alg RS256, header PS256', token({ alg: 'PS256', kid: 'rs' }, claims(), 'rs')],
    ['JWK alg PS256, header RS256', token({ alg: 'RS256', kid: 'ps' }, claims(), 'ps')],
    ['JWK without alg: RS256', token({ alg: 'RS256', kid: 'noalg' }, claims(), 'noalg')],
    ['JWK without alg: PS256', token({ alg: 'PS256', kid: 'noalg' }, claims(), 'noalg')],
    ['JWK without alg: PS256 header, RS256 signature', token({ alg: 'PS256', kid: 'noalg' }, claims(), 'noalg', 'RS256')],
    ['JWK without alg: RS256 header, PS256 signature', token({ alg: 'RS256', kid: 'noalg' }, claims(), 'noalg', 'PS256')],
    ['RSA key of 1024 bits', token({ alg: 'RS256', kid: 'small' }, claims(), 'small')],
    ['P-384 key published as ES256', token({ alg: 'ES256', kid: 'wrongcurve' }, claims(), 'wrongcurve', 'ES384')],
    ['ES384 header under the P-256 kid', token({ alg: 'ES384', kid: 'es' }, claims(), 'es', 'ES256')],
    ['ES256 header under the P-521 kid', token({ alg: 'ES256', kid: 'es512' }, claims(), 'es512', 'ES512')],
    ['secp256k1 key as ES256', token({ alg: 'ES256', kid: 'secp256k1' }, claims(), 'secp256k1')],
    ['Ed448 key published as EdDSA', token({ alg: 'EdDSA', kid: 'ed448' }, claims(), 'ed448')],
    ['an outsider key under rs', token({ alg: 'RS256', kid: 'rs' }, claims(), 'outsider')],
    ['an embedded jwk of an outsider', token({ alg: 'RS256', kid: 'rs', jwk: KEYS.outsider.publicKey.export({ format: 'jwk' }) }, claims(), 'outsider')],
    // ECDSA forms
    ['ES256 in DER', token({ alg: 'ES256', kid: 'es' }, claims(), 'es', 'ES256-der')],
    ['ES256 high-S twin', highS],
    ['ES256 one byte short', withSignature(es, (s) => b64(Buffer.from(s, 'base64url').subarray(0, 63)))],
    ['ES256 zero-padded to 66 bytes', withSignature(es, (s) => b64(Buffer.concat([Buffer.alloc(2), Buffer.from(s, 'base64url')])))],
    ['ES256 r and s zero', withSignature(es, () => b64(Buffer.alloc(64)))],
    ['ES256 r = s = n', withSignature(es, () => b64(Buffer.from(P256_N.toString(16).repeat(2), 'hex')))],
    // RSA forms
    ['PS256 under RS256 key (same key, other padding)', token({ alg: 'RS256', kid: 'rs' }, claims(), 'rs', 'PS256')],
    ['PS256 with salt 0', token({ alg: 'PS256', kid: 'ps' }, claims(), 'ps', 'PS256-salt0')],
    ['RS256 signature with a leading zero byte', withSignature(valid, (s) => b64(Buffer.concat([Buffer.alloc(1), Buffer.from(s, 'base64url')])))],
    ['RS256 signature all zeros', withSignature(valid, () => b64(Buffer.alloc(256)))],
    ['RS256 signature = modulus', withSignature(valid, () => Buffer.from(KEYS.rs.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('base64url'))],
    // base64url spellings
    ['signature non-canonical last character', withSignature(valid, lastBitFlipped)],
    ['HS256 MAC non-canonical last character', withSignature(hs, lastBitFlipped)],
    ['ES256 non-canonical last character', withSignature(es, lastBitFlipped)],
    ['signature padded', `${valid}==`],
    ['signature in standard base64', withSignature(valid, (s) => Buffer.from(s, 'base64url').toString('base64'))],
    ['payload padded', `${validHeader}.${validPayload}=.${validSignature}`],
    ['header non-canonical', `${lastBitFlipped(validHeader)}.${validPayload}.${validSignature}`],
    ['payload non-canonical', `${validHeader}.${lastBitFlipped(validPayload)}.${validSignature}`],
    ['a fourth segment', `${valid}.${validSignature}`],
    ['an empty fourth segment', `${valid}.`],
    ['a leading dot', `.${valid}`],
    ['whitespace inside the signature', `${valid.slice(0, -10)} ${valid.slice(-10)}`],
    ['a tab inside the payload', `${validHeader}.${validPayload.slice(0, 4)}\t${validPayload.slice(4)}.${validSignature}`],
    ['a token of 20 KiB', token({ alg: 'RS256', kid: 'rs', pad: 'x'.repeat(15_000) })],
    ['a token just under 16 KiB', token({ alg: 'RS256', kid: 'rs', pad: 'x'.repeat(11_000) })],
    ['a Latin-1 letter inside the payload segment', `${validHeader}.${validPayload.slice(0, 4)}\u00e9${validPayload.slice(4)}.${validSignature}`],
    ['a Latin-1 letter at the end of the signature', `${valid}\u00ff`],
    ['the payload in the standard base64 alphabet', `${validHeader}.${Buffer.from(validPayload, 'base64url').toString('base64').replace(/=+$/, '')}.${validSignature}`],
    // header JSON
    ['duplicate alg none then RS256', rawToken('{"alg":"none","alg":"RS256","kid":"rs"}', json(claims()))],
    ['duplicate alg RS256 then none', rawToken('{"alg":"RS256","alg":"none","kid":"rs"}', json(claims()))],
    ['header with a BOM', rawToken('\ufeff{"alg":"RS256","kid":"rs"}', json(claims()))],
    ['header with whitespace around', rawToken(' \n{"alg":"RS256","kid":"rs"}\n ', json(claims()))],
    ['header with escaped alg', rawToken('{"\\u0061lg":"RS\\u0032\\u0035\\u0036","kid":"rs"}', json(claims()))],
    ['header with Unicode', token({ alg: 'RS256', kid: 'rs', x: '\u{1F600}\u00e9' })],
    ['header with a lone surrogate escape', rawToken('{"alg":"RS256","kid":"rs","x":"\\ud800"}', json(claims()))],
    ['header with invalid UTF-8', signed('RS256', 'rs', b64(Buffer.concat([Buffer.from('{"alg":"RS256","kid":"rs","x":"'), Buffer.from([0xfe]), Buffer.from('"}')])), b64(json(claims())))],
    ['header __proto__ with crit', rawToken('{"alg":"RS256","kid":"rs","__proto__":{"crit":["x"],"b64":false}}', json(claims()))],
    ['header an array', rawToken('["RS256"]', json(claims()))],
    ['header null', rawToken('null', json(claims()))],
    ['header a string', rawToken('"RS256"', json(claims()))],
    ['header with a zip', token({ alg: 'RS256', kid: 'rs', zip: 'DEF' })],
    ['header with cty JWT', token({ alg: 'RS256', kid: 'rs', cty: 'JWT' })],
    // members of the key set that are no verification keys
    ['RS256 under a private key published in the set', token({ alg: 'RS256', kid: 'private' }, claims(), 'published')],
    ['HS256 under an oct key of the set (its bytes the secret)', token({ alg: 'HS256', kid: 'oct' })],
    ['HS256 under an oct key of the set without alg', token({ alg: 'HS256', kid: 'oct-noalg' })],
    ['RS256 naming an oct key of the set', token({ alg: 'RS256', kid: 'oct' })],
    ['header with jku and x5u', token({ alg: 'RS256', kid: 'rs', jku: 'http://127.0.0.1:9/j', x5u: 'http://127.0.0.1:9/c' })],
    // typ
    ['typ JWT', token({ alg: 'RS256', kid: 'rs', typ: 'JWT' }, claims({ jti: 'x' }))],
    ['typ AT+JWT', token({ alg: 'RS256', kid: 'rs', typ: 'AT+JWT' }, claims({ jti: 'x' }))],
    ['typ application/at+jwt', token({ alg: 'RS256', kid: 'rs', typ: 'application/at+jwt' }, claims({ jti: 'x' }))],
    ['typ Application/AT+JWT', token({ alg: 'RS256', kid: 'rs', typ: 'Application/AT+JWT' }, claims({ jti: 'x' }))],
    ['typ application/jwt', token({ alg: 'RS256', kid: 'rs', typ: 'application/jwt' }, claims({ jti: 'x' }))],
    ['typ at+jwt with a space', token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt ' }, claims({ jti: 'x' }))],
    ['typ dotless i', token({ alg: 'RS256', kid: 'rs', typ: 'AT+JW\u0130' }, claims({ jti: 'x' }))],
    ['typ kelvin sign', token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt\u212a' }, claims({ jti: 'x' }))],
    ['typ a list', token({ alg: 'RS256', kid: 'rs', typ: ['at+jwt'] }, claims({ jti: 'x' }))],
    ['typ duplicated, last wins', rawToken('{"alg":"RS256","kid":"rs","typ":"JWT","typ":"at+jwt"}', json(claims({ jti: 'x' })))],
    // payloads
    ['payload an array', token({ alg: 'RS256', kid: 'rs' }, '[{"sub":"alice"}]')],
    ['payload a string', token({ alg: 'RS256', kid: 'rs' }, '"alice"')],
    ['payload null', token({ alg: 'RS256', kid: 'rs' }, 'null')],
    ['payload with a BOM', token({ alg: 'RS256', kid: 'rs' }, `\ufeff${json(claims())}`)],
    ['payload with invalid UTF-8', signed('RS256', 'rs', b64('{"alg":"RS256","kid":"rs"}'), b64(Buffer.concat([Buffer.from(json(claims()).slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])))],
    ['payload with __proto__ exp', token({ alg: 'RS256', kid: 'rs' }, `{"sub":"alice","iss":"${ISSUER}","aud":"${AUDIENCE}","iat":${NOW},"__proto__":{"exp":${NOW + 600}}}`)],
    ['payload with __proto__ sub', token({ alg: 'RS256', kid: 'rs' }, `{"iss":"${ISSUER}","aud":"${AUDIENCE}","iat":${NOW},"exp":${NOW + 600},"__proto__":{"sub":"alice"}}`)],
    ['payload duplicate sub', token({ alg: 'RS256', kid: 'rs' }, `{"sub":"alice","sub":"bob","iss":"${ISSUER}","aud":"${AUDIENCE}","iat":${NOW},"exp":${NOW + 600}}`)],
    ['payload duplicate exp, expired last', token({ alg: 'RS256', kid: 'rs' }, `{"sub":"alice","iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 600},"exp":${NOW - 600}}`)],
    ['payload duplicate iss', token({ alg: 'RS256', kid: 'rs' }, `{"sub":"alice","iss":"https://evil.test","iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 600}}`)],
    // numeric dates
    ...([
      ['exp now', NOW], ['exp now + 1', NOW + 1], ['exp now - 1', NOW - 1], ['exp now + 0.5', NOW + 0.5], ['exp now - 0.5', NOW - 0.5],
      ['exp a string', String(NOW + 600)], ['exp 1e400', '#raw:1e400'], ['exp -1e400', '#raw:-1e400'], ['exp 0', 0], ['exp negative', -1],
      ['exp null', null], ['exp true', true], ['exp a list', [NOW + 600]], ['exp 1e21', 1e21], ['exp as 6e2 exponent text', `#raw:${NOW + 600}e0`],
      ['exp -0', '#raw:-0'], ['exp huge integer text', '#raw:99999999999999999999999999'],
    ] as Array<[string, unknown]>).map(([name, exp]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs' }, claims({ exp }))]),
    ...([
      ['nbf now + 1', NOW + 1], ['nbf now + 5', NOW + 5], ['nbf now + 6', NOW + 6], ['nbf a string', String(NOW)], ['nbf 1e400', '#raw:1e400'],
      ['nbf -1e400', '#raw:-1e400'], ['nbf null', null], ['nbf now + 0.5', NOW + 0.5],
    ] as Array<[string, unknown]>).map(([name, nbf]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs' }, claims({ nbf }))]),
    ...([
      ['iat now + 1', NOW + 1], ['iat now + 5', NOW + 5], ['iat now + 6', NOW + 6], ['iat a string', String(NOW)], ['iat 1e400', '#raw:1e400'],
      ['iat -1e400', '#raw:-1e400'], ['iat null', null], ['iat now - 601', NOW - 601], ['iat now - 605', NOW - 605], ['iat now - 606', NOW - 606], ['iat absent', undefined],
    ] as Array<[string, unknown]>).map(([name, iat]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ iat, jti: 'x' }))]),
    // audience and issuer
    ...([
      ['aud list with duplicates', [AUDIENCE, AUDIENCE]], ['aud empty list', []], ['aud list of a number', [1]], ['aud list with null and ours', [null, AUDIENCE]],
      ['aud with a trailing slash', `${AUDIENCE}/`], ['aud in capitals', AUDIENCE.toUpperCase()], ['aud nested list', [[AUDIENCE]]], ['aud an object', { 0: AUDIENCE }],
      ['aud the second configured', 'https://other.test'], ['aud null', null], ['aud absent', undefined],
    ] as Array<[string, unknown]>).map(([name, aud]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ aud, jti: 'x' }))]),
    ...([
      ['iss with a trailing slash', `${ISSUER}/`], ['iss in capitals', ISSUER.toUpperCase()], ['iss a list', [ISSUER]], ['iss null', null], ['iss absent', undefined],
      ['iss with a NUL', `${ISSUER}\u0000`], ['iss with a BOM', `\ufeff${ISSUER}`],
    ] as Array<[string, unknown]>).map(([name, iss]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ iss, jti: 'x' }))]),
    // subject
    ...([
      ['sub a number', 1], ['sub null', null], ['sub empty', ''], ['sub with spaces around', ' alice '], ['sub with a NUL', 'ali\u0000ce'], ['sub a lone surrogate', '\ud800'],
      ['sub a list', ['alice']], ['sub an object', { id: 'alice' }], ['sub absent', undefined], ['sub 2 KiB', 'a'.repeat(2048)],
    ] as Array<[string, unknown]>).map(([name, sub]): [string, string] => [name, token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ sub, jti: 'x' }))]),
    // required claims
    ['jti null', token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' }, claims({ jti: null }))],
    ['jti absent', token({ alg: 'RS256', kid: 'rs', typ: 'at+jwt' })],
  ];

  it.each(TABLE)('%s', async (_name, compact) => {
    await compare(compact);
  });

  // fast-check: tokens assembled from hostile parts.
  const HEADER_ALG = fc.constantFrom<unknown>('RS256', 'RS256', 'PS256', 'ES256', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS256', 'HS384', 'RS384', 'RS512', 'none', 'rs256', 'Ed25519', 'ES256K', 1, undefined);
  const KID = fc.constantFrom<unknown>('rs', 'ps', 'es', 'es384', 'es512', 'ed', 'ed448', 'noalg', 'enc', 'keyops', 'verifyops', 'small', 'wrongcurve', 'dup', '../rs', '', 'RS', 1, null, undefined, undefined);
  const SIGNER = fc.constantFrom<KeyName>('rs', 'ps', 'es', 'es384', 'es512', 'ed', 'ed448', 'noalg', 'enc', 'keyops', 'verifyops', 'small', 'wrongcurve', 'dup1', 'traversal', 'emptykid', 'outsider');
  const SCHEME = fc.option(fc.constantFrom<Scheme>('RS256', 'PS256', 'ES256', 'ES256-der', 'ES384', 'EdDSA', 'HS256', 'HS256-pem', 'PS256-salt0'), { freq: 4 });
  const NUMERIC = (base: number) => fc.constantFrom<unknown>(base, base, base + 1, base - 1, base + 5, base - 5, base + 6, base - 6, base + 0.5, String(base), '#raw:1e400', '#raw:-1e400', null, undefined, -1, 0);
  const header = fc.record({
    alg: HEADER_ALG,
    kid: KID,
    typ: fc.constantFrom<unknown>(undefined, 'at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', 'jwt', 1),
    crit: fc.constantFrom<unknown>(undefined, undefined, undefined, ['b64'], ['x'], [], null, 'b64'),
    b64: fc.constantFrom<unknown>(undefined, undefined, true, false, 'false'),
    x: fc.constantFrom<unknown>(undefined, undefined, 1, 'jku'),
  });
  const payload = fc.record({
    sub: fc.constantFrom<unknown>('alice', 'alice', 'bob', '', ' alice', 1, null, undefined),
    iss: fc.constantFrom<unknown>(ISSUER, ISSUER, ISSUER, `${ISSUER}/`, ISSUER.toUpperCase(), [ISSUER], undefined),
    aud: fc.constantFrom<unknown>(AUDIENCE, AUDIENCE, [AUDIENCE], [AUDIENCE, AUDIENCE], [], [1], 'https://other.test', `${AUDIENCE}/`, undefined),
    exp: NUMERIC(NOW + 600).chain((far) => fc.constantFrom(far, NOW, NOW + 1, NOW - 1, NOW - 5, NOW - 6)),
    nbf: fc.option(NUMERIC(NOW), { freq: 2 }),
    iat: NUMERIC(NOW),
    jti: fc.constantFrom<unknown>('j', undefined, null),
  });
  const FORM = fc.constantFrom('plain', 'plain', 'plain', 'bom', 'duplicate-alg', 'proto', 'spaces');
  const SIGNATURE = fc.constantFrom('same', 'same', 'same', 'same', 'noncanonical', 'padded', 'truncated', 'flipped', 'fourth', 'empty', 'extended');
  const drop = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));

  function assemble(h: Record<string, unknown>, p: Record<string, unknown>, signer: KeyName, scheme: Scheme | null, form: string, sig: string): string {
    const members = drop(h);
    let headerText = json(members);
    if (form === 'bom') headerText = `\ufeff${headerText}`;
    if (form === 'duplicate-alg') headerText = `{"alg":"none",${headerText.slice(1)}`;
    if (form === 'proto') headerText = `{"__proto__":{"crit":["x"]},${headerText.slice(1)}`;
    if (form === 'spaces') headerText = ` ${headerText.replace(/,/g, ', ')} `;
    const compact = signed(scheme ?? natural(h.alg), signer, b64(headerText), b64(json(drop(p))));
    switch (sig) {
      case 'noncanonical': return withSignature(compact, lastBitFlipped);
      case 'padded': return `${compact}=`;
      case 'truncated': return compact.slice(0, -2);
      case 'flipped': return withSignature(compact, (s) => (s[3] === 'A' ? 'B' : 'A') + s.slice(1, 3) + s.slice(3));
      case 'fourth': return `${compact}.AA`;
      case 'empty': return withSignature(compact, () => '');
      case 'extended': return `${compact}AA`;
      default: return compact;
    }
  }

  it('property: tokens assembled from hostile parts: a token the guard accepts, jose accepts with the same claims', async () => {
    const acceptedBefore = joseAccepted;
    await fc.assert(
      fc.asyncProperty(header, payload, SIGNER, SCHEME, FORM, SIGNATURE, async (h, p, signer, scheme, form, sig) => {
        await compare(assemble(h, p, signer, scheme, form, sig));
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 400) },
    );
    console.info(`hostile property: jose accepted ${joseAccepted - acceptedBefore} verdicts`);
  }, 600_000);

  /** A hostile value for one part, rarely: most parts of a near-valid token stay as they are. */
  const KEEP = Symbol('keep');
  const rarely = <T,>(hostile: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: fc.constant<typeof KEEP>(KEEP) }, { weight: 1, arbitrary: hostile });
  /** Coherent alg, kid and signer: a valid token before any perturbation. */
  const COHERENT = fc.constantFrom<[string, string | undefined, KeyName]>(
    ['RS256', 'rs', 'rs'], ['PS256', 'ps', 'ps'], ['ES256', 'es', 'es'], ['ES384', 'es384', 'es384'], ['ES512', 'es512', 'es512'], ['EdDSA', 'ed', 'ed'],
    ['HS256', undefined, 'rs'], ['HS384', undefined, 'rs'], ['RS256', 'noalg', 'noalg'], ['PS256', 'noalg', 'noalg'], ['RS384', 'noalg', 'noalg'], ['RS256', 'verifyops', 'verifyops'],
    ['RS256', '../rs', 'traversal'], ['RS256', '', 'emptykid'],
  );
  const NEAR = fc.record({
    coherent: COHERENT,
    alg: rarely(HEADER_ALG),
    kid: rarely(KID),
    signer: rarely(SIGNER),
    scheme: rarely(fc.constantFrom<Scheme>('RS256', 'PS256', 'ES256', 'ES256-der', 'ES384', 'EdDSA', 'HS256', 'HS256-pem', 'PS256-salt0')),
    typ: rarely(fc.constantFrom<unknown>(undefined, 'AT+JWT', 'application/at+jwt', 'JWT', 1)),
    crit: rarely(fc.constantFrom<unknown>(['b64'], ['x'], [], null)),
    b64: rarely(fc.constantFrom<unknown>(true, false)),
    sub: rarely(fc.constantFrom<unknown>('bob', '', ' alice', 1, null, undefined)),
    iss: rarely(fc.constantFrom<unknown>(`${ISSUER}/`, ISSUER.toUpperCase(), [ISSUER], undefined)),
    aud: rarely(fc.constantFrom<unknown>([AUDIENCE], [AUDIENCE, AUDIENCE], [], [1], 'https://other.test', undefined)),
    exp: rarely(fc.constantFrom<unknown>(NOW, NOW + 1, NOW - 1, NOW - 5, NOW - 6, String(NOW + 600), '#raw:1e400', null, undefined, NOW + 0.5)),
    nbf: rarely(fc.constantFrom<unknown>(NOW, NOW + 1, NOW + 5, NOW + 6, String(NOW), '#raw:-1e400', null)),
    iat: rarely(fc.constantFrom<unknown>(NOW + 1, NOW + 5, NOW + 6, NOW - 600, NOW - 605, NOW - 606, String(NOW), null, undefined)),
    jti: rarely(fc.constantFrom<unknown>(undefined, null, 1)),
    form: rarely(FORM),
    sig: rarely(SIGNATURE),
  });
  const pick = <T,>(value: T | typeof KEEP, otherwise: T): T => (value === KEEP ? otherwise : value);

  it('property: near-valid tokens (a valid token with a few hostile parts) are taken only as jose takes them', async () => {
    const acceptedBefore = joseAccepted;
    await fc.assert(
      fc.asyncProperty(NEAR, async (n) => {
        const [alg, kid, signer] = n.coherent;
        const h = { alg: pick(n.alg, alg), kid: pick(n.kid, kid), typ: pick(n.typ, 'at+jwt'), crit: pick(n.crit, undefined), b64: pick(n.b64, undefined) };
        const p = { sub: pick(n.sub, 'alice'), iss: pick(n.iss, ISSUER), aud: pick(n.aud, AUDIENCE), exp: pick(n.exp, NOW + 600), nbf: pick(n.nbf, undefined), iat: pick(n.iat, NOW), jti: pick(n.jti, 'j') };
        const scheme = n.scheme === KEEP ? null : n.scheme;
        await compare(assemble(h, p, pick(n.signer, signer), scheme, pick(n.form, 'plain'), pick(n.sig, 'same')));
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 300) },
    );
    const accepted = joseAccepted - acceptedBefore;
    console.info(`near-valid property: jose accepted ${accepted} verdicts`);
    // The generator reaches acceptance, so the property is not only about refusals.
    expect(accepted).toBeGreaterThan(0);
  }, 600_000);

  it('property: a valid token under a usable key is taken by both (the generator reaches acceptance)', async () => {
    // Guards the property above against a generator that only ever builds refused tokens.
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<[string, KeyName]>(['RS256', 'rs'], ['PS256', 'ps'], ['ES256', 'es'], ['HS256', 'rs']), fc.uuid(), async ([alg, key], jti) => {
        const compact = token({ alg, kid: alg.startsWith('HS') ? undefined : key, typ: 'at+jwt' }, claims({ jti }), key);
        for (const app of apps) {
          if (!app.setup.jwt.algorithms.includes(alg as JwtAlgorithm)) continue;
          const fromGuard = await guardVerdict(app.port, compact);
          expect(fromGuard.ok).toBe(true);
          accepted++;
        }
        await compare(compact);
      }),
      { numRuns: 40 },
    );
    expect(accepted).toBeGreaterThan(40);
  });
});

describe('the token cache against jwtVerify as time passes', () => {
  const emulator = useEmulator();
  let keyServer: KeyServer;
  beforeAll(async () => {
    keyServer = await startKeyServer(JWKS);
  });
  afterAll(async () => {
    await keyServer.close();
  });

  /** clockTolerance, maxTokenAge, and the token's iat and exp relative to the first request (s). */
  const CASES: Array<[string, number, number | undefined, number, number]> = [
    ['no tolerance, exp 2 s on', 0, undefined, 0, 2],
    ['no tolerance, a fractional exp', 0, undefined, 0, 1.5],
    ['tolerance 5 s, exp 2 s on', 5, undefined, 0, 2],
    ['no tolerance, maxTokenAge 2 s', 0, 2, 0, 600],
    ['tolerance 1 s, maxTokenAge 1 s, iat 0.5 s ago', 1, 1, -0.5, 600],
  ];

  it.each(CASES)('%s: a cached token is served only while jose accepts it', async (_name, clockTolerance, maxTokenAge, iatIn, expIn) => {
    const { clock, advance } = manualClock();
    const start = clock.now();
    // A wall clock off the whole second, moved by the guard's clock.
    const wall = (NOW + 1) * 1000 + 250;
    const now = () => wall + (clock.now() - start);
    const t0 = wall / 1000;
    const compact = token({ alg: 'RS256', kid: 'rs' }, claims({ iat: Math.floor(t0) + iatIn, exp: Math.floor(t0) + expIn }));
    const jwt = { jwksUri: keyServer.jwksUri, algorithms: ['RS256'] as JwtAlgorithm[], issuer: ISSUER, audience: AUDIENCE, clockTolerance, ...(maxTokenAge === undefined ? {} : { maxTokenAge }) };
    const app = await serve(createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt, clock, now, logger: false }));
    const reference = createRemoteJWKSet(new URL(keyServer.jwksUri));
    try {
      const seen: string[] = [];
      // Every millisecond edge of every whole second for the next 9 s, and the points just around them.
      const edges = new Set<number>([wall]);
      for (let second = Math.floor(t0); second < t0 + 9; second++) for (const ms of [-1, 0, 1]) if (second * 1000 + ms >= wall) edges.add(second * 1000 + ms);
      for (const at of [...edges].sort((a, b) => a - b)) {
        advance(at - now());
        const answer = await send(app.port, { target: '/me', headers: { authorization: `Bearer ${compact}` } });
        const fromJose = await jwtVerify(compact, reference, { algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE, clockTolerance, maxTokenAge, currentDate: new Date(at) }).then(
          () => 'ok',
          (error: { code?: string }) => error.code ?? 'error',
        );
        seen.push(`${at - wall} ms: guard ${answer.status}, jose ${fromJose}`);
        if (answer.status === 200) expect(seen.at(-1)).toBe(`${at - wall} ms: guard 200, jose ok`);
      }
      // The first request was accepted, so the cache had something to serve.
      expect(seen[0]).toBe('0 ms: guard 200, jose ok');
    } finally {
      await app.close();
    }
  });
});

describe('a configured public key given as a JWK, against jwtVerify with that JWK', () => {
  const emulator = useEmulator();
  const rsJwk = KEYS.rs.publicKey.export({ format: 'jwk' }) as JWK;
  const edJwk = KEYS.ed.publicKey.export({ format: 'jwk' }) as JWK;

  /** name, the JWK, the configured algorithms, the token's alg (signed with the JWK's private key). */
  const CASES: Array<[string, JWK, JwtAlgorithm[], JwtAlgorithm]> = [
    ['alg RS256 with RS256 and PS256, a PS256 token', { ...rsJwk, alg: 'RS256' }, ['RS256', 'PS256'], 'PS256'],
    ['alg PS256 with RS256 and PS256, an RS256 token', { ...rsJwk, alg: 'PS256' }, ['RS256', 'PS256'], 'RS256'],
    ['alg RS512 with RS256, an RS256 token', { ...rsJwk, alg: 'RS512' }, ['RS256'], 'RS256'],
    ['use enc', { ...rsJwk, use: 'enc' }, ['RS256'], 'RS256'],
    ['use a list', { ...rsJwk, use: ['sig'] as unknown as string }, ['RS256'], 'RS256'],
    ['key_ops without verify', { ...rsJwk, key_ops: ['encrypt'] }, ['RS256'], 'RS256'],
    ['key_ops with verify twice', { ...rsJwk, key_ops: ['verify', 'verify'] }, ['RS256'], 'RS256'],
    ['key_ops a string', { ...rsJwk, key_ops: 'verify' as unknown as string[] }, ['RS256'], 'RS256'],
    ['ext a string', { ...rsJwk, ext: 'true' as unknown as boolean }, ['RS256'], 'RS256'],
    ['Ed25519 alg EdDSA with EdDSA and Ed25519, an Ed25519 token', { ...edJwk, alg: 'EdDSA' }, ['EdDSA', 'Ed25519'], 'Ed25519'],
    // What jose takes: the same answer from both.
    ['alg RS256, use sig, key_ops verify, ext true', { ...rsJwk, alg: 'RS256', use: 'sig', key_ops: ['verify'], ext: true }, ['RS256'], 'RS256'],
    ['no alg, RS256 and PS256, a PS256 token', rsJwk, ['RS256', 'PS256'], 'PS256'],
    ['Ed25519 alg Ed25519, an Ed25519 token', { ...edJwk, alg: 'Ed25519' }, ['Ed25519'], 'Ed25519'],
  ];

  it.each(CASES)('%s: the guard accepts a token only when jwtVerify does, else the key is refused when the guard is built', async (_name, key, algorithms, alg) => {
    const signer: KeyName = key.kty === 'OKP' ? 'ed' : 'rs';
    const compact = token({ alg }, claims(), signer, natural(alg));
    // jose freezes a JWK it is given: each side gets its own copy.
    const fromJose = await jwtVerify(compact, structuredClone(key), { algorithms, currentDate: new Date(NOW * 1000) }).then(
      () => 'ok',
      (error: Error & { code?: string }) => error.code ?? error.name,
    );
    let guard: ExpressGuard;
    try {
      guard = createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { publicKey: structuredClone(key), algorithms }, now: () => NOW * 1000, logger: false });
    } catch (error) {
      // Refused at construction: only for a key jose refuses for one of the algorithms.
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('option "jwt.publicKey"');
      expect(fromJose).not.toBe('ok');
      return;
    }
    const app = await serve(guard);
    try {
      const answer = await send(app.port, { target: '/me', headers: { authorization: `Bearer ${compact}` } });
      expect({ guard: answer.status, jose: fromJose }).toEqual({ guard: fromJose === 'ok' ? 200 : expect.any(Number), jose: fromJose });
      if (fromJose !== 'ok') expect(answer.status).not.toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('the token cache against jwtVerify when jose loads a key set without the token key', () => {
  const emulator = useEmulator();
  const live = (header: Record<string, unknown>, key: KeyName) => {
    const at = Math.floor(Date.now() / 1000);
    return token(header, claims({ iat: at, exp: at + 600, jti: randomUUID() }), key);
  };

  it.each([
    ['the key removed', [jwk('rs', { kid: 'rs', alg: 'RS256' }), jwk('ps', { kid: 'ps', alg: 'PS256' })], [jwk('ps', { kid: 'ps', alg: 'PS256' })]],
    ['another key under the same kid', [jwk('rs', { kid: 'rs', alg: 'RS256' }), jwk('ps', { kid: 'ps', alg: 'PS256' })], [jwk('outsider', { kid: 'rs', alg: 'RS256' }), jwk('ps', { kid: 'ps', alg: 'PS256' })]],
  ] as Array<[string, JWK[], JWK[]]>)('%s: a cached token is refused as jose refuses it', async (_name, before, after) => {
    const keyServer = await startKeyServer(before);
    // cooldownDuration 0: an unknown kid makes jose reload the set at once.
    const jwt = { jwksUri: keyServer.jwksUri, algorithms: ['RS256', 'PS256'] as JwtAlgorithm[], issuer: ISSUER, audience: AUDIENCE, jwks: { cooldownDuration: 0 } };
    const app = await serve(createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt, logger: false }));
    const get = async (compact: string) => (await send(app.port, { target: '/me', headers: { authorization: `Bearer ${compact}` } })).status;
    try {
      const cached = live({ alg: 'RS256', kid: 'rs' }, 'rs');
      expect(await get(cached)).toBe(200);
      expect(await get(cached)).toBe(200);
      // The issuer publishes a new set; a token under a kid the guard has not resolved makes jose load it.
      keyServer.keys(after);
      expect(await get(live({ alg: 'PS256', kid: 'unknown' }, 'ps'))).toBe(401);
      const fromJose = await jwtVerify(cached, createRemoteJWKSet(new URL(keyServer.jwksUri)), { algorithms: jwt.algorithms, issuer: ISSUER, audience: AUDIENCE }).then(
        () => 'ok',
        (error: { code?: string }) => error.code,
      );
      expect(fromJose).not.toBe('ok');
      expect(await get(cached)).toBe(401);
      // A key the new set still holds keeps verifying.
      expect(await get(live({ alg: 'PS256', kid: 'ps' }, 'ps'))).toBe(200);
    } finally {
      await app.close();
      await keyServer.close();
    }
  });
});
