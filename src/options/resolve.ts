/** The one options pipeline: every group resolved by its own module, the shared settings here. */
import { resolveCache } from './cache.js';
import { fail, optionalString, optionObject, positiveNumber, refuseUnknownKeys } from './checks.js';
import { resolveClock, resolveNow } from './clock.js';
import { resolveConditions } from './conditions.js';
import { resolveGenAuth } from './genauth.js';
import { resolveIdentity } from './identity.js';
import { resolveJwt } from './jwt.js';
import { resolveRevocation } from './revocation.js';
import { catchReturned } from './thrown.js';
import { resolveWarm } from './warm.js';
import { GROUP_KEYS, OPTION_KEYS } from './keys.js';
import type { ResolvedIdentityOptions, ResolvedOptions } from './resolved.js';
import type { GuardOptions } from './types.js';

const ignore = (): void => undefined;

/**
 * The logger as the guard calls it: warnings are written from inside requests (onDecision's failure, a
 * token refused on its issuer, Redis down) and from webhook deliveries, so what `warn` throws, or the
 * promise an async `warn` returns rejects with, is swallowed there: a broken log sink loses the line,
 * never the answer nor the process.
 */
function resolveLogger(value: unknown): ResolvedOptions['logger'] {
  if (value === false) return false;
  const logger = value === undefined ? console : value;
  if (typeof logger !== 'object' || logger === null || typeof (logger as { warn?: unknown }).warn !== 'function') {
    fail('logger', 'must be false or an object with a warn(message) method');
  }
  const target = logger as { warn(message: string): void };
  return Object.freeze({
    warn(message: string): void {
      try {
        // An async warn's rejection too: left unhandled, it would end the process.
        catchReturned(target.warn(message), ignore);
      } catch {
        // Nothing to report it to: the logger is where it would go.
      }
    },
  });
}

function resolveOnDecision(value: unknown): ResolvedOptions['onDecision'] {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail('onDecision', 'must be a function (record) => void');
  return value as ResolvedOptions['onDecision'];
}

function resolveRealm(value: unknown): string {
  const realm = optionalString(value, 'realm', 'api');
  // The realm is quoted into WWW-Authenticate: printable ASCII only, so no header can break.
  if (!/^[\x20-\x7e]+$/.test(realm)) fail('realm', 'must be printable ASCII');
  return realm;
}

/**
 * `jwt` and `getToken`, or neither when `identity.resolve` names the caller: a guard authenticates one
 * way (two guards serve an app that takes both tokens and sessions).
 */
function resolveTokenSource(input: Partial<Record<keyof GuardOptions, unknown>>, identity: ResolvedIdentityOptions): ResolvedOptions['jwt'] {
  if (input.getToken !== undefined && typeof input.getToken !== 'function') fail('getToken', 'must be a function (request) => token');
  if (identity.resolve === undefined) return resolveJwt(input.jwt);
  if (input.jwt !== undefined) fail('jwt', 'cannot be combined with identity.resolve (which trusts another layer instead of a token)');
  if (input.getToken !== undefined) fail('getToken', 'cannot be combined with identity.resolve (no token is read)');
  return undefined;
}

/**
 * Fills defaults and validates once; throws a `TypeError` naming the option on any mistake, an unknown
 * key included (with the closest valid one: `did you mean "jwt.audience"?`). The result holds the
 * secrets: keep it in a closure, and show {@link redactOptions}' view instead.
 */
export function resolveOptions(value: GuardOptions): ResolvedOptions {
  const input = optionObject(value, 'options') as Partial<Record<keyof GuardOptions, unknown>>;
  refuseUnknownKeys(input, OPTION_KEYS.guard, '', GROUP_KEYS);
  const clock = resolveClock(input.clock);
  const identity = resolveIdentity(input.identity);
  const jwt = resolveTokenSource(input, identity);
  return Object.freeze({
    genauth: resolveGenAuth(input.genauth, jwt?.issuer),
    jwt,
    identity,
    getToken: input.getToken as ResolvedOptions['getToken'],
    cache: resolveCache(input.cache),
    conditions: resolveConditions(input.conditions),
    revocation: resolveRevocation(input.revocation, jwt),
    warm: resolveWarm(input.warm, identity.maxLength),
    realm: resolveRealm(input.realm),
    retryAfter: Math.ceil(positiveNumber(input.retryAfter, 'retryAfter', 5)),
    logger: resolveLogger(input.logger),
    onDecision: resolveOnDecision(input.onDecision),
    clock,
    now: resolveNow(input.now, clock),
  });
}
