// Type-level checks of the option types (`npm run typecheck` compiles this file): what the run-time
// checks refuse does not compile either, and what they accept does. Each refused line also runs, so
// the run-time check is held to the same line.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createGuard, type Guard, type GuardOptions } from '../../src/index.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'] as const };

describe('option types', () => {
  it('refused at run time and at compile time', () => {
    // @ts-expect-error a misspelt key
    expect(() => createGuard({ genauth, jwt: { ...jwt, audiance: 'my-app' } })).toThrow(TypeError);
    // @ts-expect-error a group key at the top level
    expect(() => createGuard({ genauth, jwt, audience: 'my-app' })).toThrow(TypeError);
    // @ts-expect-error cache: { ttlMs }
    expect(() => createGuard({ genauth, jwt, cache: { ttlMs: 1000 } })).toThrow(TypeError);
    // @ts-expect-error two key sources
    expect(() => createGuard({ genauth, jwt: { ...jwt, secret: 'k'.repeat(32) } })).toThrow(TypeError);
    // @ts-expect-error identity.maxLength is a number
    expect(() => createGuard({ genauth, jwt, identity: { maxLength: '1024' } })).toThrow(TypeError);
    // @ts-expect-error jwt.typ is a string
    expect(() => createGuard({ genauth, jwt: { ...jwt, typ: ['at+jwt'] } })).toThrow(TypeError);
    // @ts-expect-error genauth.acceptPartialLists is a boolean
    expect(() => createGuard({ genauth: { ...genauth, acceptPartialLists: 'yes' }, jwt })).toThrow(TypeError);
    // @ts-expect-error conditions.combine is 'unknown', 'all' or 'any'
    expect(() => createGuard({ genauth, jwt, conditions: { combine: 'or' } })).toThrow(TypeError);
    // @ts-expect-error an adapter's own key, misspelt
    expect(() => createExpressGuard({ genauth, jwt, passErrrors: true })).toThrow(TypeError);
  });

  it('the new options compile', async () => {
    const options: GuardOptions = {
      genauth: { ...genauth, acceptPartialLists: true },
      jwt: { secret: 'k'.repeat(64), algorithms: ['HS256', 'HS512'], typ: 'at+jwt' },
      identity: { claim: 'sub', maxLength: 256 },
    };
    await createGuard(options).close();
  });

  it('guard.options shows no secret, in its type too', () => {
    expectTypeOf<Guard['options']['genauth']['accessKeySecret']>().toEqualTypeOf<'[redacted]'>();
    expectTypeOf<NonNullable<Guard['options']['jwt']>['secret']>().toEqualTypeOf<'[redacted]' | undefined>();
  });
});
