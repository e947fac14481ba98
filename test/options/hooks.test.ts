import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../../src/index.js';

// The hooks' options are checked like every option: a mistake is a TypeError at construction naming
// the option. identity.resolve replaces token verification, so what only a token uses is refused with it.
const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'] } as const;
const resolve = () => 'alice';
const refused = (options: unknown) => () => createGuard(options as GuardOptions);

describe('getToken and identity.resolve options', () => {
  it('accepts getToken with jwt, and identity.resolve without jwt', async () => {
    await createGuard({ genauth, jwt, getToken: () => undefined }).close();
    const guard = createGuard({ genauth, identity: { resolve, maxLength: 64 } });
    expect(guard.options.jwt).toBeUndefined();
    expect(guard.options.identity.maxLength).toBe(64);
    await guard.close();
  });

  it.each([
    ['jwt', { genauth }, /option "jwt" is required/],
    ['getToken', { genauth, jwt, getToken: 'cookie' }, /option "getToken" must be a function/],
    ['identity.resolve', { genauth, identity: { resolve: 'user' } }, /option "identity.resolve" must be a function/],
    ['jwt', { genauth, jwt, identity: { resolve } }, /option "jwt" cannot be combined with identity.resolve/],
    ['getToken', { genauth, getToken: () => 't', identity: { resolve } }, /option "getToken" cannot be combined with identity.resolve/],
    ['identity.claim', { genauth, identity: { resolve, claim: 'sub' } }, /option "identity.claim" cannot be combined with identity.resolve/],
    ['identity.maxLength', { genauth, identity: { resolve, maxLength: 0 } }, /option "identity.maxLength"/],
    ['getToken (top level only)', { genauth, jwt: { ...jwt, getToken: () => 't' } }, /option "jwt.getToken"/],
  ])('refuses a wrong %s with a TypeError naming it', (_name, options, message) => {
    expect(refused(options)).toThrow(TypeError);
    expect(refused(options)).toThrow(message);
  });
});
