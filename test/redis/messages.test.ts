// The invalidation channel's messages are input: only the known shapes are read, anything else is
// ignored (a revocation with a time that is not a positive whole number of ms included).
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/cache/redis/messages.js';

describe('invalidation channel messages', () => {
  it.each([
    [{ from: 'a', user: 'alice' }],
    [{ from: 'a', all: true }],
    [{ from: 'a', probe: 'p' }],
    [{ from: 'a', revoked: 'alice', at: 1_764_892_800_000 }],
  ] as const)('reads %j back as sent', (message) => {
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it.each([
    ['a revocation without a time', '{"from":"a","revoked":"alice"}'],
    ['a revocation with a text time', '{"from":"a","revoked":"alice","at":"1764892800000"}'],
    ['a revocation with a fractional time', '{"from":"a","revoked":"alice","at":1.5}'],
    ['a revocation with a negative time', '{"from":"a","revoked":"alice","at":-1}'],
    ['a revocation of no one', '{"from":"a","revoked":"","at":1764892800000}'],
    ['a revocation of a non-string user', '{"from":"a","revoked":42,"at":1764892800000}'],
    ['no sender', '{"revoked":"alice","at":1764892800000}'],
    ['not JSON', 'revoke alice'],
    ['an oversized message', JSON.stringify({ from: 'a', revoked: 'x'.repeat(70_000), at: 1 })],
  ])('ignores %s', (_name, text) => {
    expect(decodeMessage(text)).toBeUndefined();
  });
});
