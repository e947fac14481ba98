import { createServer } from 'node:net';
import { generateKeyPair, exportJWK, exportSPKI, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createGuard, isGuardError, type GuardOptions } from '../../src/index.js';
import { useEmulator } from '../fixtures.js';
import { manualClock } from '../clock.js';

// ES256, PS256 and EdDSA keys beside GenAuth's RS256 one: the guard verifies those algorithms too.
const emulator = useEmulator({ jwksAlgorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] });

const bearer = (token: string) => ({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } });
const genauth = () => emulator().guardOptions().genauth;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isGuardError(error) ? `${error.status} ${error.code}` : `non-guard ${String(error)}`;
  }
}

describe('key sources', () => {
  it('HS256 with a secret', async () => {
    const guard = createGuard({ genauth: genauth(), jwt: { secret: emulator().hs256Secret, algorithms: ['HS256'], issuer: emulator().issuer } });
    expect(await codeOf(guard.authenticate(bearer(await emulator().mintToken('alice', { alg: 'HS256' }))))).toBe('ok');
    expect(await codeOf(guard.authenticate(bearer(await emulator().mintToken('alice', { alg: 'RS256' }))))).toBe('401 ERR_INVALID_TOKEN');
    await guard.close();
  });

  it('a PEM public key and a JWK public key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey);
    for (const key of [await exportSPKI(publicKey), await exportJWK(publicKey)]) {
      const guard = createGuard({ genauth: genauth(), jwt: { publicKey: key, algorithms: ['ES256'] } });
      expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
      await guard.close();
    }
  });

  it('OIDC discovery from the issuer', async () => {
    const guard = createGuard({ genauth: genauth(), jwt: { discovery: true, issuer: emulator().issuer, audience: emulator().audience, algorithms: ['RS256'] } });
    expect(await codeOf(guard.authenticate(bearer(await emulator().mintToken('alice'))))).toBe('ok');
    await guard.close();
  });

  it('discovery unreachable is a 503', async () => {
    // A port nothing listens on (not 9, which fetch refuses outright as a "bad port", and is refused at construction).
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const guard = createGuard({ genauth: genauth(), jwt: { discovery: true, issuer: `http://127.0.0.1:${port}/oidc`, algorithms: ['RS256'] } });
    expect(await codeOf(guard.authenticate(bearer(await emulator().mintToken('alice'))))).toBe('503 ERR_KEYS_UNAVAILABLE');
    await guard.close();
  });

  it.each(['ES256', 'PS256', 'EdDSA'] as const)('%s through the JWKS', async (alg) => {
    const guard = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, algorithms: [alg] } });
    expect(await codeOf(guard.authenticate(bearer(await emulator().mintToken('alice', { alg }))))).toBe('ok');
    await guard.close();
  });
});

describe('verified-token cache', () => {
  it('is scoped to one guard: a token cached by one audience is refused by another', async () => {
    const token = await emulator().mintToken('alice');
    const a = createGuard(emulator().guardOptions());
    const b = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, audience: 'another-app' } });
    expect(await codeOf(a.authenticate(bearer(token)))).toBe('ok');
    expect(await codeOf(a.authenticate(bearer(token)))).toBe('ok');
    expect(await codeOf(b.authenticate(bearer(token)))).toBe('401 ERR_INVALID_TOKEN');
    await Promise.all([a.close(), b.close()]);
  });

  it('never outlives the token exp', async () => {
    // The guard's wall clock follows its clock: both pass the token's exp (2 s after a whole second).
    const { clock, advance } = manualClock();
    const guard = createGuard({ ...emulator().guardOptions(), clock, jwt: { ...emulator().guardOptions().jwt, clockTolerance: 0 } });
    const token = await emulator().mintToken('alice', { expiresIn: 2 });
    expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
    advance(1000);
    expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
    advance(2000);
    expect(await codeOf(guard.authenticate(bearer(token)))).toBe('401 ERR_INVALID_TOKEN');
    await guard.close();
  });

  it('is purged when the user is invalidated (a key rotation then takes effect)', async () => {
    // jose keeps the key set for 1 ms only, so a verification after that needs the JWKS endpoint.
    const guard = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, jwks: { cacheMaxAge: 1 } } });
    const token = await emulator().mintToken('alice');
    try {
      expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
      emulator().setJwksAvailable(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok'); // from the token cache
      guard.invalidateUser('alice');
      expect(await codeOf(guard.authenticate(bearer(token)))).toBe('503 ERR_KEYS_UNAVAILABLE'); // verified again
    } finally {
      emulator().setJwksAvailable(true);
      await guard.close();
    }
  });

  it('when full, takes a token on its second verification: tokens used once do not evict the ones that repeat', async () => {
    // cooldownDuration 0: no wait after the probes' failed fetches, so the next token fetches the key set at once.
    const guard = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, jwks: { cacheMaxAge: 1, cooldownDuration: 0 }, tokenCache: { max: 2 } } });
    const [repeated, other, once, twice] = (await Promise.all(['alice', 'bob', 'carol', 'dave'].map((user) => emulator().mintToken(user)))) as [string, string, string, string];
    const fromCacheOnly = async (token: string) => {
      emulator().setJwksAvailable(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        return await codeOf(guard.authenticate(bearer(token)));
      } finally {
        emulator().setJwksAvailable(true);
      }
    };
    try {
      for (const token of [repeated, other, once]) expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
      // The cache held two when `once` came: it was not admitted, and evicted nothing.
      expect(await fromCacheOnly(repeated)).toBe('ok');
      expect(await fromCacheOnly(other)).toBe('ok');
      expect(await fromCacheOnly(once)).toBe('503 ERR_KEYS_UNAVAILABLE');
      // Verified a second time, a token is admitted (evicting the least recently used) and then served from the cache.
      expect(await codeOf(guard.authenticate(bearer(twice)))).toBe('ok');
      expect(await codeOf(guard.authenticate(bearer(twice)))).toBe('ok');
      expect(await fromCacheOnly(twice)).toBe('ok');
      expect(await fromCacheOnly(other)).toBe('ok');
      expect(await fromCacheOnly(repeated)).toBe('503 ERR_KEYS_UNAVAILABLE');
    } finally {
      await guard.close();
    }
  });

  it('serves only the exact token: another token ending like a cached one is verified on its own', async () => {
    // The cache is keyed by a token's last characters (its signature's tail); a hit compares it whole.
    const guard = createGuard(emulator().guardOptions());
    const alice = await emulator().mintToken('alice');
    const mallory = await emulator().mintToken('mallory');
    const signature = alice.slice(alice.lastIndexOf('.') + 1);
    // mallory's header and claims under alice's signature: same tail, never validly signed.
    const spliced = `${mallory.slice(0, mallory.lastIndexOf('.'))}.${signature}`;
    try {
      // Served from the cache: a context at once. Anything else goes to jose: a promise.
      const cachedUser = (token: string) => {
        const context = guard.enforce(bearer(token));
        if (!(context instanceof Promise)) return context.identity.userId;
        context.catch(() => {});
        return undefined;
      };
      expect(await codeOf(guard.authenticate(bearer(alice)))).toBe('ok');
      expect(cachedUser(alice)).toBe('alice');
      expect(cachedUser(spliced)).toBeUndefined();
      expect(await codeOf(guard.authenticate(bearer(spliced)))).toBe('401 ERR_INVALID_TOKEN');
      expect(cachedUser(alice)).toBe('alice');
    } finally {
      await guard.close();
    }
  });

  it('forgetting a user drops every one of their cached tokens, and only theirs, also after evictions', async () => {
    const guard = createGuard({ ...emulator().guardOptions(), jwt: { ...emulator().guardOptions().jwt, jwks: { cacheMaxAge: 1 }, tokenCache: { max: 8 } } });
    // Several tokens per user (a jti apiece), interleaved: more than the cache holds, so some are evicted.
    const users = Array.from({ length: 14 }, (_, i) => (i % 3 === 0 ? 'bob' : 'alice'));
    const tokens = await Promise.all(users.map((user, i) => emulator().mintToken(user, { claims: { jti: `${user}-${i}` } })));
    // Served from the cache: a context at once. A miss goes to jose, which cannot answer (no key set): nothing is added.
    const cached = (token: string) => {
      const context = guard.enforce(bearer(token));
      if (!(context instanceof Promise)) return true;
      context.catch(() => {});
      return false;
    };
    try {
      // Twice each: a full cache admits a token on its second verification.
      for (const token of tokens) for (let i = 0; i < 2; i++) expect(await codeOf(guard.authenticate(bearer(token)))).toBe('ok');
      emulator().setJwksAvailable(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = tokens.filter(cached);
      expect(before.length).toBe(8);
      expect(before.some((token) => users[tokens.indexOf(token)] === 'alice')).toBe(true);
      expect(before.some((token) => users[tokens.indexOf(token)] === 'bob')).toBe(true);
      guard.invalidateUser('alice');
      for (const [i, token] of tokens.entries()) expect(cached(token)).toBe(users[i] === 'bob' && before.includes(token));
    } finally {
      emulator().setJwksAvailable(true);
      await guard.close();
    }
  });

  it('a token that failed is never cached as verified', async () => {
    const guard = createGuard(emulator().guardOptions());
    const token = await emulator().mintToken('alice', { audience: 'someone-else' });
    expect(await codeOf(guard.authenticate(bearer(token)))).toBe('401 ERR_INVALID_TOKEN');
    expect(await codeOf(guard.authenticate(bearer(token)))).toBe('401 ERR_INVALID_TOKEN');
    await guard.close();
  });
});

describe('required claims', () => {
  const hs256 = () => ({ secret: emulator().hs256Secret, algorithms: ['HS256'] as const, issuer: emulator().issuer });
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(emulator().issuer).sign(new TextEncoder().encode(emulator().hs256Secret));
  const reasonOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
      return 'ok';
    } catch (error) {
      return isGuardError(error) ? `${error.status} ${(error as { reason?: string }).reason ?? error.code}` : String(error);
    }
  };

  it('refuses a correctly signed token without exp, also with a test clock', async () => {
    const token = await sign({ sub: 'alice' });
    for (const now of [undefined, () => Date.now() + 1000]) {
      const guard = createGuard({ genauth: genauth(), jwt: { ...hs256(), algorithms: ['HS256'] }, ...(now ? { now } : {}) });
      expect(await reasonOf(guard.authenticate(bearer(token)))).toBe('401 claim_invalid');
      expect(await reasonOf(guard.authenticate(bearer(await sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 }))))).toBe('ok');
      await guard.close();
    }
  });

  it('checks the configured requiredClaims besides exp', async () => {
    const guard = createGuard({ genauth: genauth(), jwt: { ...hs256(), algorithms: ['HS256'], requiredClaims: ['tenant'] } });
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await reasonOf(guard.authenticate(bearer(await sign({ sub: 'alice', exp }))))).toBe('401 claim_invalid');
    expect(await reasonOf(guard.authenticate(bearer(await sign({ sub: 'alice', exp, tenant: 't1' }))))).toBe('ok');
    expect(await reasonOf(guard.authenticate(bearer(await sign({ sub: 'alice', tenant: 't1' }))))).toBe('401 claim_invalid');
    await guard.close();
  });
});

describe('configuration mistakes throw a TypeError naming the option', () => {
  const valid = (): GuardOptions => emulator().guardOptions();
  it.each([
    ['genauth', (o: GuardOptions) => ({ ...o, genauth: undefined })],
    ['genauth.userPoolId', (o: GuardOptions) => ({ ...o, genauth: { ...o.genauth, userPoolId: '' } })],
    ['genauth.accessKeySecret', (o: GuardOptions) => ({ ...o, genauth: { ...o.genauth, accessKeySecret: undefined } })],
    ['genauth.host', (o: GuardOptions) => ({ ...o, genauth: { ...o.genauth, host: 'not a url' } })],
    ['genauth.timeout', (o: GuardOptions) => ({ ...o, genauth: { ...o.genauth, timeout: -1 } })],
    ['genauth.authScheme', (o: GuardOptions) => ({ ...o, genauth: { ...o.genauth, authScheme: 'magic' } })],
    ['jwt.algorithms', (o: GuardOptions) => ({ ...o, jwt: { jwksUri: emulator().jwksUri } })],
    ['jwt.algorithms', (o: GuardOptions) => ({ ...o, jwt: { jwksUri: emulator().jwksUri, algorithms: ['none'] } })],
    ['jwt.algorithms', (o: GuardOptions) => ({ ...o, jwt: { jwksUri: emulator().jwksUri, algorithms: ['HS256'] } })],
    ['jwt.algorithms', (o: GuardOptions) => ({ ...o, jwt: { secret: 's', algorithms: ['RS256'] } })],
    ['jwt', (o: GuardOptions) => ({ ...o, jwt: { secret: 's', jwksUri: emulator().jwksUri, algorithms: ['HS256'] } })],
    ['jwt.issuer', (o: GuardOptions) => ({ ...o, jwt: { discovery: true, algorithms: ['RS256'] } })],
    ['jwt.publicKey', (o: GuardOptions) => ({ ...o, jwt: { publicKey: 'garbage', algorithms: ['RS256'] } })],
    ['cache.ttl', (o: GuardOptions) => ({ ...o, cache: { ttl: 0 } })],
    ['cache.maxEntryBytes', (o: GuardOptions) => ({ ...o, cache: { maxBytes: 10, maxEntryBytes: 20 } })],
    ['identity.claim', (o: GuardOptions) => ({ ...o, identity: { claim: '' } })],
  ])('%s', (option, mutate) => {
    expect(() => createGuard(mutate(valid()) as GuardOptions)).toThrow(TypeError);
    expect(() => createGuard(mutate(valid()) as GuardOptions)).toThrow(`"${option}`);
  });
});
