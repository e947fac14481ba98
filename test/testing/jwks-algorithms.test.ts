import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';

// GenAuth's JWKS holds its RSA keys for RS256 (GENAUTH-PROTOCOL 4: `alg: RS256`, `use: sig`, `kid`),
// the algorithm of its access tokens. The emulator publishes the same by default; keys of the other
// algorithms it can sign with are published only when a test asks for them (`jwksAlgorithms`).

type Jwk = Record<string, unknown>;
const publishedKeys = async (jwksUri: string) => ((await (await request(jwksUri)).body.json()) as { keys: Jwk[] }).keys;

describe('the JWKS by default: RS256 keys only, as GenAuth publishes', () => {
  const emu = useEmulator();

  it('publishes one RSA key for RS256, public only, with kid and use sig', async () => {
    const keys = await publishedKeys(emu().jwksUri);
    expect(keys.map((key) => [key.kty, key.alg, key.use])).toEqual([['RSA', 'RS256', 'sig']]);
    expect(keys[0]?.kid).toEqual(expect.any(String));
    expect(keys[0]?.d).toBeUndefined();
  });

  it('the key of a minted token (RS256) is in the JWKS', async () => {
    const token = await emu().mintToken('alice');
    const { protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(emu().jwksUri)), { algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect((await publishedKeys(emu().jwksUri)).map((key) => key.kid)).toContain(decodeProtectedHeader(token).kid);
  });

  it.each(['ES256', 'PS256', 'EdDSA'] as const)('mintToken with %s (no key published for it) is a TypeError naming mintToken.alg', async (alg) => {
    await expect(emu().mintToken('alice', { alg })).rejects.toThrow(/mintToken\.alg.*jwksAlgorithms/);
  });

  it('HS256 (the application secret, no JWKS key) still mints', async () => {
    expect(decodeProtectedHeader(await emu().mintToken('alice', { alg: 'HS256' })).alg).toBe('HS256');
  });
});

describe('jwksAlgorithms: keys of other algorithms, for tests of a verifier that takes them', () => {
  const emu = useEmulator({ jwksAlgorithms: ['RS256', 'ES256', 'EdDSA'] });

  it('publishes a key for each listed algorithm, and signs with it', async () => {
    const keys = await publishedKeys(emu().jwksUri);
    expect(keys.map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const { protectedHeader } = await jwtVerify(await emu().mintToken('u', { alg }), createRemoteJWKSet(new URL(emu().jwksUri)), { algorithms: [alg] });
      expect(protectedHeader.alg).toBe(alg);
    }
    await expect(emu().mintToken('u', { alg: 'PS256' })).rejects.toThrow(/mintToken\.alg/);
  });

  it.each([
    ['not an array', 'RS256'],
    ['empty', []],
    ['without RS256 (GenAuth\'s access-token algorithm, and the management tokens\')', ['ES256']],
    ['an unknown algorithm', ['RS256', 'HS256']],
    ['a repeated algorithm', ['RS256', 'RS256']],
  ])('%s is a TypeError naming startEmulator.jwksAlgorithms', async (_label, jwksAlgorithms) => {
    await expect(startEmulator({ jwksAlgorithms } as never)).rejects.toThrow(/startEmulator\.jwksAlgorithms/);
  });
});
