// Type-level tests of the option unions (tsc checks every `@ts-expect-error`: a line that compiles
// fails the typecheck). Each refused shape is also refused at run time, so the types and the checks
// say the same thing.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createGuard, type CacheOptions, type GuardOptions, type JwtOptions } from '../../src/index.js';
import type { Clock } from '../../src/options.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const secret = 'k'.repeat(32);
const algorithms = ['RS256'] as const;
const refused = (options: unknown) => () => createGuard(options as GuardOptions);

describe('jwt: exactly one key source', () => {
  it('each source alone compiles', () => {
    const sources: JwtOptions[] = [
      { secret, algorithms: ['HS256'] },
      { secret: new Uint8Array(32), algorithms: ['HS256'] },
      { publicKey: '-----BEGIN PUBLIC KEY-----', algorithms },
      { publicKey: { kty: 'RSA', n: 'x', e: 'AQAB' }, algorithms },
      { jwksUri: 'https://issuer.test/jwks', algorithms },
      { discovery: true, issuer: 'https://issuer.test', algorithms },
    ];
    expect(sources).toHaveLength(6);
  });

  it('none, or two, do not compile, and are refused', () => {
    // @ts-expect-error no key source
    const none: JwtOptions = { algorithms };
    // @ts-expect-error secret and jwksUri
    const secretAndJwks: JwtOptions = { secret, jwksUri: 'https://issuer.test/jwks', algorithms };
    // @ts-expect-error publicKey and discovery
    const keyAndDiscovery: JwtOptions = { publicKey: 'pem', discovery: true, algorithms };
    // @ts-expect-error jwksUri and discovery
    const jwksAndDiscovery: JwtOptions = { jwksUri: 'https://issuer.test/jwks', discovery: true, issuer: 'https://issuer.test', algorithms };
    for (const jwt of [none, secretAndJwks, keyAndDiscovery, jwksAndDiscovery]) {
      expect(refused({ genauth, jwt })).toThrow(/^genauth-guard: option "jwt" needs exactly one of secret, publicKey, jwksUri, discovery: /);
    }
  });

  it('discovery is `true` only; algorithms are required and named', () => {
    // @ts-expect-error discovery: false
    const off: JwtOptions = { discovery: false, issuer: 'https://issuer.test', algorithms };
    expect(refused({ genauth, jwt: off })).toThrow('"jwt.discovery"');
    // @ts-expect-error no algorithms
    const unpinned: JwtOptions = { jwksUri: 'https://issuer.test/jwks' };
    expect(refused({ genauth, jwt: unpinned })).toThrow('"jwt.algorithms"');
    // @ts-expect-error an algorithm that does not exist
    const none: JwtOptions = { jwksUri: 'https://issuer.test/jwks', algorithms: ['none'] };
    expect(refused({ genauth, jwt: none })).toThrow('"jwt.algorithms"');
  });
});

describe('cache: an object or false', () => {
  it('false and an object compile; true, null and a number do not', () => {
    const off: GuardOptions['cache'] = false;
    const on: GuardOptions['cache'] = { ttl: 1000 };
    expectTypeOf<GuardOptions['cache']>().toEqualTypeOf<CacheOptions | false | undefined>();
    expect([off, on]).toHaveLength(2);
    const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms };
    // @ts-expect-error cache: true
    const yes: GuardOptions = { genauth, jwt, cache: true };
    // @ts-expect-error cache: null
    const nothing: GuardOptions = { genauth, jwt, cache: null };
    // @ts-expect-error cache: a ttl given as a number
    const ttl: GuardOptions = { genauth, jwt, cache: 60_000 };
    for (const options of [yes, nothing, ttl]) expect(refused(options)).toThrow('"cache"');
  });
});

describe('clock and now', () => {
  it('a clock is an object with now(); performance is one', () => {
    const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms };
    const real: GuardOptions = { genauth, jwt, clock: performance };
    const manual: GuardOptions = { genauth, jwt, clock: { now: () => 1000 }, now: () => Date.now() };
    expectTypeOf<GuardOptions['clock']>().toEqualTypeOf<Clock | undefined>();
    expect([real, manual]).toHaveLength(2);
    // @ts-expect-error a function is not a clock (pass { now })
    const bare: GuardOptions = { genauth, jwt, clock: () => 1000 };
    expect(refused(bare)).toThrow('"clock"');
    // @ts-expect-error now is a function, not a date
    const date: GuardOptions = { genauth, jwt, now: new Date() };
    expect(refused(date)).toThrow('"now"');
  });
});
