/** Resolves the `identity` group: which claim names the user. */
import { optionalString, positiveInteger, strictObject } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedIdentityOptions } from './resolved.js';

/** `identity` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveIdentity(value: unknown): ResolvedIdentityOptions {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.identity, 'identity');
  return Object.freeze({
    claim: optionalString(input.claim, 'identity.claim', 'sub'),
    maxLength: positiveInteger(input.maxLength, 'identity.maxLength', 1024),
  });
}
