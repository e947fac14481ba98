/** Resolves the `revocation` group: how long and how many revoked users are kept. */
import { positiveInteger, positiveNumber, strictObject } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedJwtOptions, ResolvedRevocationOptions } from './resolved.js';

/** GenAuth's longest token lifetime (its concept example: `exp - iat = 1209600`), in ms. */
const LONGEST_TOKEN_MS = 14 * 24 * 3600 * 1000;

/** `revocation` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveRevocation(value: unknown, jwt: ResolvedJwtOptions | undefined): ResolvedRevocationOptions {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.revocation, 'revocation');
  // A record outlives every token it may refuse: the longest token age the guard accepts. jose accepts a
  // token until its age passes maxTokenAge plus clockTolerance, counted in whole seconds with the current
  // second floored (so up to one second more): without both, a revoked token passed again for that long.
  const tolerance = jwt === undefined ? 0 : jwt.clockTolerance * 1000 + 1000;
  const longest = (jwt?.maxTokenAge === undefined ? LONGEST_TOKEN_MS : jwt.maxTokenAge * 1000) + tolerance;
  return Object.freeze({
    ttl: positiveNumber(input.ttl, 'revocation.ttl', longest),
    max: positiveInteger(input.max, 'revocation.max', 100_000),
  });
}
