import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWK, type JWTClaimVerificationOptions, type JWTVerifyGetKey } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { createGuard, InvalidTokenError } from '../../src/index.js';
import type { JwtAlgorithm, JwtOptions } from '../../src/options.js';
import { createAsymmetricVerifier, type AsymmetricVerifier } from '../../src/token/asymmetric.js';
import { createKeyResolver } from '../../src/token/keys.js';
import { send } from '../conformance/http.js';
import { startKeyServer, type KeyServer } from '../adversarial/key-server.js';
import { resetToAliceReading, useEmulator } from '../fixtures.js';
import { ALGORITHMS, AUDIENCE, CLAIMS, CORPUS, ISSUER, JWKS, KEYS, NOW, claims, signedRaw, token } from './asymmetric-corpus.js';

let keyServer: KeyServer;
beforeAll(async () => {
  keyServer = await startKeyServer(JWKS);
});
afterAll(async () => {
  await keyServer.close();
});

/** jose's verdict: 'ok', or the code (a JOSEError) or name (anything else) of what it throws. */
async function joseVerdict(compact: string, key: JWTVerifyGetKey, options: JWTClaimVerificationOptions & { algorithms: string[] }) {
  return jwtVerify(compact, key, options).then(
    (result) => ({ verdict: 'ok', payload: result.payload, error: undefined }),
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      return { verdict: typeof code === 'string' ? code : (error as Error).name, payload: undefined, error };
    },
  );
}

/** A fresh valid token under each key the fast path serves, so that jose resolves (and teaches) each. */
const teaching = () => [
  token({ alg: 'RS256', kid: 'rs' }, claims({ jti: randomUUID() })),
  token({ alg: 'PS256', kid: 'ps' }, claims({ jti: randomUUID() }), KEYS.ps.privateKey),
  token({ alg: 'ES256', kid: 'es' }, claims({ jti: randomUUID() }), KEYS.es.privateKey),
  token({ alg: 'ES384', kid: 'es384' }, claims({ jti: randomUUID() }), KEYS.es384.privateKey),
  token({ alg: 'RS256', kid: 'noalg' }, claims({ jti: randomUUID() }), KEYS.noalg.privateKey),
  token({ alg: 'PS256', kid: 'noalg' }, claims({ jti: randomUUID() }), KEYS.noalg.privateKey),
];

describe('synchronous RS/PS/ES verification against jose jwtVerify', () => {
  let fast: AsymmetricVerifier;
  let reference: JWTVerifyGetKey;
  const options = { ...CLAIMS, algorithms: ALGORITHMS };

  beforeAll(async () => {
    fast = createAsymmetricVerifier(createKeyResolver({ jwksUri: keyServer.jwksUri, algorithms: ALGORITHMS } as JwtOptions), ALGORITHMS)!;
    reference = createRemoteJWKSet(new URL(keyServer.jwksUri));
    // As in the guard: every token jose sees goes through the resolver that teaches the check.
    for (const compact of [...teaching(), ...CORPUS.map((row) => row[1])]) await jwtVerify(compact, fast.resolveKey, options).catch(() => undefined);
  });

  it('knows no key before jose resolved one: every token goes to jose', () => {
    const cold = createAsymmetricVerifier(createKeyResolver({ jwksUri: keyServer.jwksUri, algorithms: ALGORITHMS } as JwtOptions), ALGORITHMS)!;
    expect(cold.verify(CORPUS[0]![1], CLAIMS)).toBeUndefined();
  });

  it('knows only its own algorithms: no inherited member of a lookup table counts as one', () => {
    const resolver = createKeyResolver({ jwksUri: keyServer.jwksUri, algorithms: ALGORITHMS } as JwtOptions);
    for (const alg of ['toString', 'constructor', '__proto__', 'EdDSA', 'HS256']) expect(createAsymmetricVerifier(resolver, [alg])).toBeUndefined();
  });

  it.each(CORPUS)('%s', async (_name, compact, fastTakes, expected) => {
    const fromJose = await joseVerdict(compact, reference, options);
    const fromFast = fast.verify(compact, CLAIMS);
    expect(fromJose.verdict).toBe(expected);
    expect(fromFast !== undefined).toBe(fastTakes);
    // What it takes, jose takes too, with the same claims.
    if (fromFast !== undefined) expect(fromFast).toEqual(fromJose.payload);
  });

  /** name, header typ (undefined: none), whether both take it under `typ: 'at+jwt'`. */
  const typed: Array<[string, unknown, boolean]> = [
    ['typ at+jwt', 'at+jwt', true],
    ['typ in capitals', 'AT+JWT', true],
    ['typ with the application/ prefix', 'application/at+jwt', true],
    ['typ JWT', 'JWT', false],
    ['typ empty', '', false],
    ['typ not a string', 1, false],
    ['typ missing', undefined, false],
  ];

  it.each(typed)('jwt.typ at+jwt, %s: the check and jwtVerify agree', async (_name, typ, accepted) => {
    const compact = token(typ === undefined ? { alg: 'ES256', kid: 'es' } : { alg: 'ES256', kid: 'es', typ }, claims(), KEYS.es.privateKey);
    const fromJose = await joseVerdict(compact, reference, { ...options, typ: 'at+jwt' });
    const fromFast = fast.verify(compact, { ...CLAIMS, typ: 'at+jwt' });
    expect(fromJose.verdict === 'ok').toBe(accepted);
    expect(fromFast !== undefined).toBe(accepted);
    if (fromFast !== undefined) expect(fromFast).toEqual(fromJose.payload);
  });

  it('applies the claim options it is given: maxTokenAge and requiredClaims', async () => {
    const old = token({ alg: 'RS256', kid: 'rs' }, claims({ iat: NOW - 3600 }));
    expect((await joseVerdict(old, reference, { ...options, maxTokenAge: 600 })).verdict).toBe('ERR_JWT_EXPIRED');
    expect(fast.verify(old, { ...CLAIMS, maxTokenAge: 600 })).toBeUndefined();
    expect(fast.verify(old, { ...CLAIMS, maxTokenAge: 7200 })?.sub).toBe('alice');
    expect(fast.verify(old, { ...CLAIMS, requiredClaims: ['jti'] })).toBeUndefined();
  });

  const tokenArbitrary = fc.constantFrom(
    token({ alg: 'RS256', kid: 'rs', typ: 'JWT' }),
    token({ alg: 'PS256', kid: 'ps' }, claims(), KEYS.ps.privateKey),
    token({ alg: 'ES256', kid: 'es' }, claims(), KEYS.es.privateKey),
  );
  const mutation = fc.oneof(
    // Replace one character with another base64url character, a dot, padding or a space.
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), by: fc.constantFrom(...'AQgw_-.= 0z9'.split('')) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), by: fc.constant('') }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), by: fc.constantFrom(...'Aa0-_.'.split('')) }),
  );
  const mutate = (compact: string, { kind, at, by }: { kind: 'replace' | 'delete' | 'insert'; at: number; by: string }) => {
    const i = at % (compact.length + (kind === 'insert' ? 1 : 0));
    return compact.slice(0, i) + by + compact.slice(kind === 'insert' ? i : i + 1);
  };

  it('property: a mutated token is taken only when jose accepts it, with the same claims', async () => {
    await fc.assert(
      fc.asyncProperty(tokenArbitrary, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (compact, mutations) => {
        const mutated = mutations.reduce(mutate, compact);
        const fromFast = fast.verify(mutated, CLAIMS);
        if (fromFast === undefined) return;
        const fromJose = await joseVerdict(mutated, reference, options);
        expect(fromJose.verdict).toBe('ok');
        expect(fromFast).toEqual(fromJose.payload);
      }),
      { numRuns: 400 },
    );
  });

  it('property: a mutated token jose refuses is never taken', async () => {
    await fc.assert(
      fc.asyncProperty(tokenArbitrary, mutation, async (compact, change) => {
        const mutated = mutate(compact, change);
        if (mutated === compact) return;
        const fromJose = await joseVerdict(mutated, reference, options);
        if (fromJose.verdict !== 'ok') expect(fast.verify(mutated, CLAIMS)).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});

/**
 * The reason the verifier gives a jose failure (src/token/verifier.ts), or 503 for a key-source failure.
 * Written out again on purpose, not imported: it is the reference the guard's answers are held to, and
 * the only test of most of the verifier's reasons (a wrong entry there must fail here).
 */
function expectedAnswer(error: unknown): { status: number; challenge?: string } {
  const reasons: Record<string, InvalidTokenError['reason']> = {
    ERR_JWT_EXPIRED: 'expired',
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
    ERR_JOSE_ALG_NOT_ALLOWED: 'alg_not_allowed',
    ERR_JWS_INVALID: 'malformed',
    ERR_JWT_INVALID: 'malformed',
    ERR_JOSE_NOT_SUPPORTED: 'malformed',
    ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
    ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
  };
  const reason =
    error instanceof joseErrors.JWTClaimValidationFailed ? (error.claim === 'nbf' ? 'not_yet_valid' : 'claim_invalid') : reasons[(error as { code?: string }).code ?? ''];
  if (reason === undefined) return { status: 503 };
  return { status: 401, challenge: new InvalidTokenError(reason).headers['www-authenticate'] };
}

describe('the guard over HTTP, a JWKS and never-seen tokens', () => {
  const emulator = useEmulator();
  const GUARD_ALGORITHMS = ALGORITHMS.filter((alg) => !alg.startsWith('HS')) as JwtAlgorithm[];
  let guard: ExpressGuard;
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let port: number;
  const get = (compact: string) => send(port, { target: '/me', headers: { authorization: `Bearer ${compact}` } });

  beforeAll(async () => {
    resetToAliceReading(emulator());
    guard = createExpressGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { jwksUri: keyServer.jwksUri, algorithms: GUARD_ALGORITHMS, issuer: ISSUER, audience: AUDIENCE, clockTolerance: 5, tokenCache: { max: 0 } },
      now: () => NOW * 1000,
      logger: false,
    });
    const app = express();
    app.get('/me', guard.authenticate(), (req, res) => void res.json({ user: req.genauth?.identity.userId }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    // Keys are remembered from jose's second resolution on (the first one loads the key set).
    for (const fresh of [...teaching(), ...teaching()]) expect((await get(fresh)).status).toBe(200);
  });
  afterAll(async () => {
    await guard.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(CORPUS)('%s: the answer follows jwtVerify', async (_name, compact, fastTakes, _expected, guardVerdict) => {
    const fromJose = await joseVerdict(compact, createRemoteJWKSet(new URL(keyServer.jwksUri)), { ...CLAIMS, algorithms: GUARD_ALGORITHMS });
    const expected =
      guardVerdict === 'invalid_request' ? { status: 400 }
      : guardVerdict === 'malformed' ? { status: 401, challenge: new InvalidTokenError('malformed').headers['www-authenticate'] }
      : fromJose.verdict === 'ok' ? { status: 200 }
      : expectedAnswer(fromJose.error);
    const subtleVerify = vi.spyOn(globalThis.crypto.subtle, 'verify');
    try {
      const answer = await get(compact);
      expect(answer.status).toBe(expected.status);
      if (expected.challenge !== undefined) expect(answer.headers['www-authenticate']).toBe(expected.challenge);
      if (answer.status === 503) expect(JSON.parse(answer.body).code).toBe('ERR_KEYS_UNAVAILABLE');
      if (answer.status === 200) expect(JSON.parse(answer.body)).toEqual({ user: 'alice' });
      // Taken synchronously: no WebCrypto at all.
      if (fastTakes) expect(subtleVerify).not.toHaveBeenCalled();
    } finally {
      subtleVerify.mockRestore();
    }
  });
});

describe('the guard with a key source other than a secret', () => {
  const emulator = useEmulator({ jwksAlgorithms: ['RS256', 'ES256', 'PS256'] });
  const request = (compact: string) => ({ method: 'GET', url: '/', headers: { authorization: `Bearer ${compact}` } });
  afterEach(() => {
    vi.restoreAllMocks();
    keyServer.keys(JWKS);
  });

  it.each(['RS256', 'ES256', 'PS256'] as const)('%s: once jose resolved the kid in a loaded key set, a never-seen token is verified without WebCrypto and without a promise', async (alg) => {
    const guard = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, algorithms: [alg] } });
    try {
      // The first resolution loads the key set; the second, under the loaded set, is remembered.
      for (const user of ['alice', 'bob']) {
        const first = guard.enforce(request(await emulator().mintToken(user, { alg })));
        expect(first).toBeInstanceOf(Promise);
        expect((await first).identity.userId).toBe(user);
      }
      const subtleVerify = vi.spyOn(globalThis.crypto.subtle, 'verify');
      for (const user of ['bob', 'carol', 'alice']) {
        const now = guard.enforce(request(await emulator().mintToken(user, { alg })));
        expect(now).not.toBeInstanceOf(Promise);
        expect(now).toMatchObject({ identity: { userId: user } });
      }
      expect(subtleVerify).not.toHaveBeenCalled();
      // A bad signature under the same kid is still jose's to refuse, with its reason.
      const [header, , signature] = (await emulator().mintToken('alice', { alg })).split('.');
      const forged = guard.enforce(request(`${header}.${Buffer.from(JSON.stringify(claims({ iss: emulator().issuer, aud: emulator().audience, sub: 'mallory' }))).toString('base64url')}.${signature}`));
      expect(forged).toBeInstanceOf(Promise);
      await expect(forged).rejects.toMatchObject({ reason: 'bad_signature' });
    } finally {
      await guard.close();
    }
  });

  it('a configured public key: the second token on is verified synchronously', async () => {
    const pem = KEYS.rs.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const guard = createGuard({ genauth: emulator().guardOptions().genauth, jwt: { publicKey: pem, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE } });
    try {
      const mint = (kid: string) => token({ alg: 'RS256', kid }, claims({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }));
      for (const kid of ['a', 'b']) expect((await guard.enforce(request(mint(kid)))).identity.userId).toBe('alice');
      // One key whatever the kid: any kid is served by the key jose imported.
      const now = guard.enforce(request(mint('c')));
      expect(now).not.toBeInstanceOf(Promise);
      expect(now).toMatchObject({ identity: { userId: 'alice' } });
    } finally {
      await guard.close();
    }
  });

  it('rotation: once jose loads a new key set, a key it no longer publishes verifies nothing', async () => {
    const guard = createGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { jwksUri: keyServer.jwksUri, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE, jwks: { cooldownDuration: 0 } },
    });
    const live = (key = KEYS.rs.privateKey, kid = 'rs') => {
      const at = Math.floor(Date.now() / 1000);
      return token({ alg: 'RS256', kid }, claims({ jti: randomUUID(), iat: at, exp: at + 600 }), key);
    };
    try {
      keyServer.keys(JWKS);
      for (let i = 0; i < 2; i++) expect((await guard.enforce(request(live()))).identity.userId).toBe('alice');
      expect(guard.enforce(request(live()))).not.toBeInstanceOf(Promise);
      // The issuer rotates: rs is gone, a new key is published. A token under the new kid makes jose reload.
      keyServer.keys([{ ...(KEYS.outsider.publicKey.export({ format: 'jwk' }) as JWK), kid: 'rotated', alg: 'RS256', use: 'sig' }]);
      expect((await guard.enforce(request(live(KEYS.outsider.privateKey, 'rotated')))).identity.userId).toBe('alice');
      const stale = guard.enforce(request(live()));
      expect(stale).toBeInstanceOf(Promise);
      await expect(stale).rejects.toMatchObject({ reason: 'unknown_key' });
    } finally {
      await guard.close();
    }
  });

  it('a token signed over another encoding of the same header is not taken under the remembered key', async () => {
    // The signature covers the header's exact bytes: re-encoding them differently is a different token.
    const header = Buffer.from('{"alg":"RS256","kid":"rs"}').toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims())).toString('base64url');
    const compact = signedRaw('RS256', KEYS.rs.privateKey, header, payload);
    const spaced = `${Buffer.from('{"alg":"RS256", "kid":"rs"}').toString('base64url')}.${payload}.${compact.split('.')[2]}`;
    const fast = createAsymmetricVerifier(createKeyResolver({ jwksUri: keyServer.jwksUri, algorithms: ['RS256'] } as JwtOptions), ['RS256'])!;
    for (let i = 0; i < 2; i++) await jwtVerify(compact, fast.resolveKey, { ...CLAIMS, algorithms: ['RS256'] });
    expect(fast.verify(compact, CLAIMS)?.sub).toBe('alice');
    expect(fast.verify(spaced, CLAIMS)).toBeUndefined();
  });
});
