// A URL option carrying a user name or password (`https://user:secret@host/...`) was taken: fetch
// refuses such a URL outright ("Request cannot be constructed from a URL that includes credentials"),
// so a jwksUri or a discovery issuer with one made every request a 503, and genauth.host silently
// dropped them (GenAuth authenticates with the access key, never URL credentials) while they sat in
// the options, where any dump of them shows them. Each is a TypeError at construction naming the
// option, the credential never echoed.
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../../src/index.js';

const CANARY = 'pw-canary-7f3a';
const genauth = { userPoolId: 'pool', accessKeySecret: 'sk' };
const jwt = { issuer: 'https://issuer.example/oidc', jwksUri: 'https://issuer.example/oidc/.well-known/jwks.json', algorithms: ['RS256'] };

function refusal(options: Record<string, unknown>): unknown {
  try {
    void createGuard(options as unknown as GuardOptions).close();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('URL options carrying credentials: a TypeError naming the option, the credential not echoed', () => {
  it.each([
    ['genauth.host', 'user and password', { genauth: { ...genauth, host: `https://user:${CANARY}@api.genauth.ai` }, jwt }],
    ['genauth.host', 'user name only', { genauth: { ...genauth, host: `https://${CANARY}@api.genauth.ai` }, jwt }],
    ['jwt.jwksUri', 'user and password', { genauth, jwt: { ...jwt, jwksUri: `https://user:${CANARY}@issuer.example/jwks` } }],
    ['jwt.jwksUri', 'password only', { genauth, jwt: { ...jwt, jwksUri: `https://:${CANARY}@issuer.example/jwks` } }],
    ['jwt.issuer', 'discovery issuer', { genauth, jwt: { issuer: `https://user:${CANARY}@issuer.example/oidc`, discovery: true, algorithms: ['RS256'] } }],
  ])('%s: %s', (option, _what, options) => {
    const error = refusal(options);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(option);
    expect((error as Error).message).toMatch(/user name or password/);
    expect((error as Error).message).not.toContain(CANARY);
  });

  it('URLs without credentials are taken as before (an @ in the path is no credential)', () => {
    expect(refusal({ genauth: { ...genauth, host: 'https://api.genauth.ai' }, jwt })).toBeUndefined();
    expect(refusal({ genauth, jwt: { ...jwt, jwksUri: 'https://issuer.example/keys/@team/jwks.json' } })).toBeUndefined();
  });
});
