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
    // A kind a later version may send: this one reads it as nothing, never as an invalidation.
    ['a kind of message it does not know', '{"from":"a","heartbeat":"h"}'],
    ['a kind of message it does not know, with extra fields', '{"from":"a","kind":"something-new","user2":"alice","at":1}'],
    ['an empty user (not "everyone")', '{"from":"a","user":""}'],
    ['all that is not true', '{"from":"a","all":"true"}'],
  ])('ignores %s', (_name, text) => {
    expect(decodeMessage(text)).toBeUndefined();
  });

  it("the heartbeat is a probe on the wire: an instance reads another's as a probe (which it ignores, test/redis/heartbeat.test.ts), not as an invalidation", () => {
    const heartbeat = decodeMessage('{"from":"b","probe":"5d1c5a5e-0000-4000-8000-000000000000"}');
    expect(heartbeat).toEqual({ from: 'b', probe: '5d1c5a5e-0000-4000-8000-000000000000' });
    expect(heartbeat).not.toHaveProperty('user');
    expect(heartbeat).not.toHaveProperty('all');
    expect(heartbeat).not.toHaveProperty('revoked');
  });
});
