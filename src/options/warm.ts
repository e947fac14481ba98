/** Resolves the `warm` group: users whose grants are loaded at start (and awaited by `guard.ready()`). */
import { isFitUserId } from '../token/identity.js';
import { fail, strictObject } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedWarmOptions } from './resolved.js';

/** More users than this at start is a bulk load, not a warm-up (GenAuth rate-limits). */
export const WARM_USERS_MAX = 1000;

/** `warm` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveWarm(value: unknown, maxLength: number): ResolvedWarmOptions {
  if (value === undefined) return Object.freeze({ users: Object.freeze([]) });
  const input = strictObject(value, OPTION_KEYS.warm, 'warm');
  const users = input.users;
  if (!Array.isArray(users)) fail('warm.users', 'must be an array of user ids');
  if (users.length > WARM_USERS_MAX) fail('warm.users', `must hold at most ${WARM_USERS_MAX} user ids`);
  // Every index, holes included (forEach skips them); the same rule as a user id from a token.
  for (let i = 0; i < users.length; i++) {
    if (!isFitUserId(users[i], maxLength)) {
      fail(`warm.users[${i}]`, `must be a user id: a non-empty string of at most ${maxLength} bytes (identity.maxLength), no control characters, no spaces at either end`);
    }
  }
  return Object.freeze({ users: Object.freeze([...new Set(users as string[])]) });
}
