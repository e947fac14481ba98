import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { useEmulator } from '../fixtures.js';

// The claims of minted user tokens, as GenAuth's carry them (GENAUTH-PROTOCOL 4): an access token
// (RS256) has `jti, sub, iat, exp, scope, iss, aud`; an HS256 token is GenAuth's id_token shape,
// `sub, aud, exp, iat, iss`, with no `jti` or `scope`.

const emu = useEmulator();

describe('minted access tokens carry GenAuth access-token claims', () => {
  it.each(['RS256', undefined] as const)('alg %s: jti, sub, iat, exp, scope, iss, aud', async (alg) => {
    const claims = decodeJwt(await emu().mintToken('alice', alg === undefined ? {} : { alg }));
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    expect(claims.jti).toMatch(/^\S+$/);
    expect(typeof claims.scope).toBe('string');
    // Space-separated scopes, an OIDC login's openid among them.
    expect((claims.scope as string).split(' ')).toContain('openid');
  });

  it('jti differs per token, even for the same user in the same second', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i += 1) ids.add(decodeJwt(await emu().mintToken('alice')).jti);
    expect(ids.size).toBe(5);
  });

  it('jti and scope can be set, or left out with null', async () => {
    const set = decodeJwt(await emu().mintToken('alice', { jti: 'token-1', scope: 'openid ecs:1:Start' }));
    expect(set).toMatchObject({ jti: 'token-1', scope: 'openid ecs:1:Start' });
    const omitted = decodeJwt(await emu().mintToken('alice', { jti: null, scope: null }));
    expect(omitted.jti).toBeUndefined();
    expect(omitted.scope).toBeUndefined();
  });

  it.each([
    ['jti', { jti: '' }], ['jti', { jti: 1 }], ['scope', { scope: 7 }],
  ])('%s given as %o (neither a non-empty string nor null) is a TypeError naming the option', async (name, options) => {
    await expect(emu().mintToken('alice', options as never)).rejects.toThrow(new RegExp(`mintToken\\.${name}`));
  });

  it('HS256 (GenAuth\'s id_token algorithm): sub, iat, exp, iss, aud, no jti or scope unless given', async () => {
    const claims = decodeJwt(await emu().mintToken('alice', { alg: 'HS256' }));
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'sub']);
    expect(decodeJwt(await emu().mintToken('alice', { alg: 'HS256', jti: 'j', scope: 'openid' }))).toMatchObject({ jti: 'j', scope: 'openid' });
  });
});
