// jwt.tokenCache.max had no upper bound: the verified-token cache and its admission filter allocate
// arrays of `max` slots at construction (lru-cache's key, value and link arrays, then its ttl arrays on
// the first token), so a mistyped huge value took gigabytes, or failed with an error naming no option.
// It is now a TypeError naming jwt.tokenCache.max past 1,000,000 tokens.
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
let guards: ExpressGuard[] = [];
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  guards = [];
});

function build(max: number): unknown {
  try {
    guards.push(createExpressGuard({ genauth, jwt: { jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'], tokenCache: { max } } }));
    return 'accepted';
  } catch (error) {
    return error;
  }
}

describe('jwt.tokenCache.max', () => {
  it.each([1_000_001, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER])('%d: a TypeError naming the option, nothing allocated', (max) => {
    // Before the fix: 1_000_001 and 2 ** 31 were accepted (and allocated), 2 ** 40 threw a RangeError naming nothing.
    const outcome = build(max);
    expect(outcome).toBeInstanceOf(TypeError);
    expect((outcome as Error).message).toMatch(/^genauth-guard: option "jwt\.tokenCache\.max" must be .*1000000/);
  });

  it.each([0, 1, 10_000, 1_000_000])('%d is accepted', (max) => {
    expect(build(max)).toBe('accepted');
  });
});
