/** Resolves the `identity` group: which claim names the user, or which hook returns them. */
import { fail, optionalString, positiveInteger, refuseUndefinedChoice, strictObject } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedIdentityOptions } from './resolved.js';

/** `identity` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveIdentity(value: unknown): ResolvedIdentityOptions {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.identity, 'identity');
  // `claim: process.env.USER_CLAIM` unset would name the caller by `sub` instead: refused (see refuseUndefinedChoice).
  refuseUndefinedChoice(input, 'claim', 'identity.claim', "name the caller by the token's sub claim instead of the one meant (its value could name another user)", 'set it to the claim that names the user', 'use "sub"');
  if (input.resolve !== undefined && typeof input.resolve !== 'function') fail('identity.resolve', 'must be a function (request) => user id');
  // With resolve no token is read: a claim would silently mean nothing.
  if (input.resolve !== undefined && input.claim !== undefined) fail('identity.claim', 'cannot be combined with identity.resolve (no token is read)');
  return Object.freeze({
    claim: optionalString(input.claim, 'identity.claim', 'sub'),
    maxLength: positiveInteger(input.maxLength, 'identity.maxLength', 1024),
    resolve: input.resolve as ResolvedIdentityOptions['resolve'],
  });
}
