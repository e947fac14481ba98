// The emulator's options go through the guard's checks: a wrong value, not only an unknown key, is a
// TypeError naming the option in the one format, thrown before a server is started or a token signed.
import { describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type MintOptions } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    const started = await run();
    if (typeof (started as { close?: unknown }).close === 'function') await (started as { close(): Promise<void> }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return 'accepted';
}

describe('startEmulator', () => {
  it.each<[string, EmulatorOptions]>([
    ['startEmulator.userPoolId', { userPoolId: '' }],
    ['startEmulator.accessKeyId', { accessKeyId: 42 as never }],
    ['startEmulator.accessKeySecret', { accessKeySecret: '' }],
    ['startEmulator.audience', { audience: ['a'] as never }],
    ['startEmulator.hs256Secret', { hs256Secret: new Uint8Array(32) as never }],
    ['startEmulator.managementTokenTtl', { managementTokenTtl: 0 }],
    ['startEmulator.managementTokenTtl', { managementTokenTtl: '7200' as never }],
    ['startEmulator.managementTokenPoolId', { managementTokenPoolId: '' }],
    ['startEmulator.managementTokenPoolId', { managementTokenPoolId: 7 as never }],
    ['startEmulator.signatureClockSkew', { signatureClockSkew: -1 }],
    ['startEmulator.unknownUser', { unknownUser: 'forbidden' as never }],
    ['startEmulator.port', { port: 70_000 }],
    ['startEmulator.port', { port: 1.5 }],
    ['startEmulator', null as never],
  ])('%s: %j', async (path, options) => {
    expect(await refusal(() => startEmulator(options))).toMatch(new RegExp(`^genauth-guard: option "${path.replace('.', '\\.')}" `));
  });

  it('takes valid values', async () => {
    const started = await startEmulator({ managementTokenTtl: 60, signatureClockSkew: 0, unknownUser: 'empty', port: 0 });
    await started.close();
    for (const managementTokenPoolId of ['another-pool', null]) await (await startEmulator({ managementTokenPoolId })).close();
  });
});

describe('mintToken', () => {
  it.each<[string, MintOptions]>([
    ['mintToken.alg', { alg: 'none' as never }],
    ['mintToken.alg', { alg: 'HS512' as never }],
    ['mintToken.expiresIn', { expiresIn: '1h' as never }],
    ['mintToken.expiresIn', { expiresIn: Number.NaN }],
    ['mintToken.issuer', { issuer: 7 as never }],
    ['mintToken.audience', { audience: [1] as never }],
    ['mintToken.claims', { claims: 'sub=alice' as never }],
    ['mintToken.kid', { kid: '' }],
    ['mintToken.notBefore', { notBefore: 'soon' as never }],
    ['mintToken.key', { key: 'a secret' as never }],
    ['mintToken', 5 as never],
  ])('%s: %j', async (path, options) => {
    expect(await refusal(() => emulator().mintToken('alice', options))).toMatch(new RegExp(`^genauth-guard: option "${path.replace('.', '\\.')}" `));
  });

  it('takes what tests use to provoke each check: null claims, a past expiry, a foreign key', async () => {
    const token = await emulator().mintToken('alice', { expiresIn: -120, issuer: null, audience: null, claims: { sub: 42 }, notBefore: 0, kid: 'k' });
    expect(token.split('.')).toHaveLength(3);
    expect(await emulator().mintToken('alice', { key: new Uint8Array(32), expiresIn: null })).toMatch(/^ey/);
  });
});
