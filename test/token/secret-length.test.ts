// RFC 7518 section 3.2: an HS* key must be at least as long as the hash output (HS256 32 bytes, HS384
// 48, HS512 64). A shorter `jwt.secret` is a TypeError at construction, for every algorithm it serves.
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions, type JwtAlgorithm } from '../../src/index.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const build = (secret: string | Uint8Array, algorithms: JwtAlgorithm[]) => () =>
  createGuard({ genauth, jwt: { secret, algorithms } } as GuardOptions);

describe('jwt.secret is at least as long as RFC 7518 requires', () => {
  it.each([
    [['HS256'], 32],
    [['HS384'], 48],
    [['HS512'], 64],
    [['HS256', 'HS512'], 64],
    [['HS384', 'HS256'], 48],
  ] as Array<[JwtAlgorithm[], number]>)('%s needs %i bytes: one less is a TypeError naming jwt.secret', async (algorithms, bytes) => {
    expect(build('k'.repeat(bytes - 1), algorithms)).toThrow(TypeError);
    expect(build('k'.repeat(bytes - 1), algorithms)).toThrow(`option "jwt.secret"`);
    expect(build(new Uint8Array(bytes - 1), algorithms)).toThrow(`option "jwt.secret"`);
    // Exactly enough is accepted.
    await build('k'.repeat(bytes), algorithms)().close();
    await build(new Uint8Array(bytes), algorithms)().close();
  });

  it('counts a string secret in UTF-8 bytes, not characters', async () => {
    // 16 characters of 2 bytes: 32 bytes.
    await build('é'.repeat(16), ['HS256'])().close();
    expect(build('é'.repeat(15) + 'k', ['HS256'])).toThrow(`option "jwt.secret"`);
  });

  it('the message names the algorithm and the bytes it needs, never the secret', () => {
    const secret = 'short-secret-value';
    let message = '';
    try {
      build(secret, ['HS256', 'HS512'])();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/HS512/);
    expect(message).toMatch(/64 bytes/);
    expect(message).not.toContain(secret);
  });
});
