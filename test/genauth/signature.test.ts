import { describe, expect, it } from 'vitest';
import { canonicalResource, hmacSha1, signRequest } from '../../src/genauth/signature.js';

describe('AK/SK signature (official Node SDK scheme)', () => {
  it('matches the protocol test vector byte for byte', () => {
    const headers = signRequest({
      method: 'GET',
      path: '/api/v3/get-user-authorized-resources',
      data: { userId: 'u1', userIdType: 'user_id', namespace: 'default', resourceType: 'API' },
      accessKeyId: 'AKID',
      accessKeySecret: 'SECRET',
      headerPrefix: 'x-authing-',
      scheme: 'authing',
      sdkVersion: 'authing-node-sdk:4.0.1',
      date: 'Sun, 23 Nov 2025 00:00:00 GMT',
      nonce: '0123456789abcdef0123456789abcdef',
    });
    expect(headers.authorization).toBe('authing AKID:w7U2NPop7HmjOGkPLfjkiNsTjZM=');
  });

  it('signs the websocket string like every SDK', () => {
    expect(hmacSha1('SECRET', 'websocket\n')).toBe('YzTdlylGJ09UpLO60lST6cmlNGY=');
  });

  it.each([
    [{}, '/p'],
    [{ b: 2, a: 'x&y=z' }, '/p?a=x&y=z&b=2'],
    [{ a: undefined }, '/p?'],
    [{ a: null, list: ['books:*', 'x/y'] }, '/p?a=null&list=["books:*","x/y"]'],
    [{ withDenied: false }, '/p?withDenied=false'],
  ])('canonical resource of %j', (data, expected) => {
    expect(canonicalResource('/p', data)).toBe(expected);
  });
});
