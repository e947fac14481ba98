// The set-up mistakes a new user makes first, and what the TypeError then tells them: not only which
// option is wrong (every message names it) but what to put there. Each case is what following the
// README with a variable unset or a value mistyped gives.
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../../src/index.js';

const genauth = { userPoolId: 'pool', accessKeySecret: 'sk' };
const issuer = 'https://app.genauth.ai/oidc';
const jwksUri = 'https://app.genauth.ai/oidc/.well-known/jwks.json';
const secret = 'k'.repeat(32);

function messageOf(jwt: Record<string, unknown>): string {
  try {
    createGuard({ genauth, jwt } as unknown as GuardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return 'accepted';
}

describe('the key source', () => {
  it('an unset GENAUTH_JWKS_URI (jwksUri: undefined) is told as no key source, with where to find one', () => {
    const message = messageOf({ issuer, audience: 'app', jwksUri: undefined, algorithms: ['RS256'] });
    expect(message).toMatch(/^genauth-guard: option "jwt" needs exactly one of secret, publicKey, jwksUri, discovery: none is set/);
    expect(message).toContain('undefined'); // a key whose value is undefined (an unset environment variable) counts as not set
    expect(message).toContain('/oidc/.well-known/jwks.json');
  });

  it('two key sources are named', () => {
    const message = messageOf({ issuer, jwksUri, secret, algorithms: ['RS256'] });
    expect(message).toMatch(/^genauth-guard: option "jwt" needs exactly one of secret, publicKey, jwksUri, discovery: secret and jwksUri are both set/);
  });

  it('three key sources are named', () => {
    const message = messageOf({ issuer, jwksUri, secret, discovery: true, algorithms: ['RS256'] });
    expect(message).toContain('secret, jwksUri and discovery are all set');
  });
});

describe('jwt.algorithms', () => {
  it('missing: says what GenAuth tokens use', () => {
    const message = messageOf({ issuer, jwksUri });
    expect(message).toMatch(/^genauth-guard: option "jwt.algorithms" must be a non-empty array of JWS algorithms \(there is no default\)/);
    expect(message).toContain("['RS256']");
    expect(message).toContain("['HS256']");
  });

  it('a name in the wrong case: did you mean', () => {
    expect(messageOf({ issuer, jwksUri, algorithms: ['rs256'] })).toBe(
      'genauth-guard: option "jwt.algorithms" has an unsupported algorithm "rs256"; did you mean "RS256"?',
    );
  });

  it('an unknown name: lists the supported ones', () => {
    const message = messageOf({ issuer, jwksUri, algorithms: ['none'] });
    expect(message).toMatch(/^genauth-guard: option "jwt.algorithms" has an unsupported algorithm "none" \(supported: HS256, /);
    expect(message).toContain('EdDSA');
  });

  it('a value that is no algorithm name (a secret put in the wrong key) is not quoted, only its place', () => {
    const secret = 'a-jwt-secret-put-in-algorithms-by-mistake-0123456789';
    const message = messageOf({ issuer, jwksUri, algorithms: ['RS256', secret] });
    expect(message).toMatch(/^genauth-guard: option "jwt.algorithms\[1\]" is not a supported algorithm \(supported: HS256, /);
    expect(message).not.toContain(secret.slice(0, 12));
  });

  it('RS256 with a secret: names the options that verify RS256', () => {
    const message = messageOf({ issuer, secret, algorithms: ['RS256'] });
    expect(message).toMatch(/^genauth-guard: option "jwt.algorithms" must only hold HS\* algorithms with a secret/);
    expect(message).toContain('jwt.jwksUri');
  });

  it('HS256 with a JWKS: says HS* needs jwt.secret', () => {
    const message = messageOf({ issuer, jwksUri, algorithms: ['HS256'] });
    expect(message).toMatch(/^genauth-guard: option "jwt.algorithms" must not hold HS\* algorithms unless a secret is configured/);
    expect(message).toContain('jwt.secret');
    expect(message).toContain('RS256');
  });
});

describe('jwt.audience', () => {
  it('an empty string (GENAUTH_AUDIENCE= set to nothing) is named as jwt.audience, not as a list entry', () => {
    expect(messageOf({ issuer, jwksUri, audience: '', algorithms: ['RS256'] })).toBe('genauth-guard: option "jwt.audience" must be a non-empty string');
  });

  it('an empty entry of a list keeps its index', () => {
    expect(messageOf({ issuer, jwksUri, audience: ['a', ''], algorithms: ['RS256'] })).toBe('genauth-guard: option "jwt.audience[1]" must be a non-empty string');
  });
});
