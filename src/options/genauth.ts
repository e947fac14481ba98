/** Resolves the `genauth` group: the connection to the GenAuth management API. */
import type { Dispatcher } from 'undici';
import type { ResourceType, UserIdType } from '../genauth/types.js';
import { fail, httpUrl, nonEmptyString, oneOf, optionalBoolean, optionalString, positiveNumber, refuseUndefinedChoice, refuseUndefinedKey, strictObject, timerDuration } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedGenAuthOptions } from './resolved.js';
import type { GenAuthOptions, RetryBudgetOptions } from './types.js';
import { managementTransportAllowed } from '../token/key-set-url.js';

/** GenAuth's resource types (`genauth.resourceType`, a route's `resourceType`). */
export const RESOURCE_TYPES: readonly ResourceType[] = ['DATA', 'API', 'MENU', 'BUTTON', 'UI'];
const USER_ID_TYPES: readonly UserIdType[] = [
  'user_id', 'external_id', 'phone', 'email', 'username', 'identity', 'sync_relation', 'custom_field',
];

/**
 * A `resourceType` (of `genauth`, or of a route) present with the value `undefined`: refused, as it
 * would count the grants of every type (see refuseUndefinedKey).
 */
export function refuseUndefinedResourceType(input: Record<string, unknown>, path: string): void {
  refuseUndefinedKey(input, 'resourceType', path, 'the restriction to one resource type (grants of every type would count)', `set it to one of ${RESOURCE_TYPES.map((type) => `"${type}"`).join(', ')}`, 'count grants of every type');
}

/**
 * The keys whose default chooses whose grants are read, refused when present with the value `undefined`
 * (an unset environment variable read into them): see {@link refuseUndefinedChoice}. The defaults that
 * only fail (a call GenAuth refuses is a 503) or are the safe one (`host`, `accessKeyId`, the limits)
 * still take `undefined` as "not set".
 */
function refuseUndefinedChoices(input: Record<string, unknown>): void {
  refuseUndefinedChoice(input, 'namespace', 'genauth.namespace', 'read the grants of the permission space "default" instead of the one meant', 'set it to the code of the permission space whose grants count', 'use the space "default"');
  refuseUndefinedChoice(input, 'userIdType', 'genauth.userIdType', "look the caller's id up as a GenAuth user_id (an id of another type could name another user)", 'set it to what the identity claim holds (user_id, external_id, email, username, ...)', 'use "user_id"');
  refuseUndefinedChoice(input, 'tenantId', 'genauth.tenantId', "read the user pool's grants instead of the tenant's", "set it to the tenant's id", "read the user pool's grants (no tenant)");
  refuseUndefinedChoice(input, 'tenantHeader', 'genauth.tenantHeader', "send the tenant in <headerPrefix>tenant-id, which a GenAuth reading another header ignores (the user pool's grants would be read instead of the tenant's)", 'set it to the header your GenAuth reads the tenant from', 'send <headerPrefix>tenant-id');
  refuseUndefinedChoice(input, 'headerPrefix', 'genauth.headerPrefix', "send GenAuth's headers (the user pool's, the tenant's) as x-authing-*, which a GenAuth reading x-genauth-* ignores", 'set it to "x-authing-" or "x-genauth-"', 'use "x-authing-"');
}

/**
 * `genauth` with its defaults; throws a TypeError naming the option on a mistake. `issuer` is the
 * resolved `jwt.issuer` (undefined without one, or without `jwt`): with an http one, `genauth.host`
 * may be plain http off loopback, as `jwt.jwksUri` may.
 */
export function resolveGenAuth(value: unknown, issuer?: string): ResolvedGenAuthOptions {
  if (value === undefined) fail('genauth', 'is required');
  const input = strictObject(value, OPTION_KEYS.genauth, 'genauth') as Partial<Record<keyof GenAuthOptions, unknown>>;
  const userPoolId = nonEmptyString(input.userPoolId, 'genauth.userPoolId');
  refuseUndefinedResourceType(input, 'genauth.resourceType');
  refuseUndefinedChoices(input);
  const host = httpUrl(input.host ?? 'https://api.genauth.ai', 'genauth.host').replace(/\/+$/, '');
  if (!managementTransportAllowed(new URL(host), issuer)) {
    // The URL is not echoed (an option's value never is).
    fail('genauth.host', `is plain http off loopback${issuer === undefined ? '' : ' while jwt.issuer is not an http URL'}: the access key secret and the management token (or every signed call) would cross the network in clear text, readable by whoever sees the traffic. Use https (plain http is taken only on a loopback host: 127.0.0.0/8, [::1], localhost, where the emulator runs; or with an http jwt.issuer, for local development), as jwt.jwksUri`);
  }
  const headerPrefix = optionalString(input.headerPrefix, 'genauth.headerPrefix', 'x-authing-');
  if (!/^x-[a-z0-9-]+-$/.test(headerPrefix)) fail('genauth.headerPrefix', 'must look like "x-authing-"');
  const tenantHeader = optionalString(input.tenantHeader, 'genauth.tenantHeader', `${headerPrefix}tenant-id`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(tenantHeader)) fail('genauth.tenantHeader', 'must be an HTTP header name');
  const tenantId = optionalString(input.tenantId, 'genauth.tenantId');
  if (tenantId !== undefined && !/^[\x20-\x7e]+$/.test(tenantId)) fail('genauth.tenantId', 'must be printable ASCII (it is sent in a header)');
  if (input.dispatcher !== undefined && (typeof input.dispatcher !== 'object' || input.dispatcher === null)) {
    fail('genauth.dispatcher', 'must be an undici Dispatcher');
  }
  return Object.freeze({
    host,
    userPoolId,
    accessKeyId: optionalString(input.accessKeyId, 'genauth.accessKeyId', userPoolId),
    accessKeySecret: nonEmptyString(input.accessKeySecret, 'genauth.accessKeySecret'),
    namespace: optionalString(input.namespace, 'genauth.namespace', 'default'),
    resourceType: oneOf(input.resourceType, RESOURCE_TYPES, 'genauth.resourceType'),
    userIdType: oneOf(input.userIdType, USER_ID_TYPES, 'genauth.userIdType', 'user_id'),
    headerPrefix,
    tenantId,
    tenantHeader,
    timeout: timerDuration(input.timeout, 'genauth.timeout', 3000),
    maxResponseBytes: positiveNumber(input.maxResponseBytes, 'genauth.maxResponseBytes', 8 * 1024 * 1024),
    connections: positiveNumber(input.connections, 'genauth.connections', 16),
    authScheme: oneOf(input.authScheme, ['token', 'signature'] as const, 'genauth.authScheme', 'token'),
    signatureScheme: optionalString(input.signatureScheme, 'genauth.signatureScheme', headerPrefix === 'x-genauth-' ? 'GenAuth' : 'authing'),
    retries: Math.floor(positiveNumber(input.retries, 'genauth.retries', 2, true)),
    dispatcher: input.dispatcher as Dispatcher | undefined,
    acceptPartialLists: optionalBoolean(input.acceptPartialLists, 'genauth.acceptPartialLists', false),
    retryBudget: resolveRetryBudget(input.retryBudget),
    maxRetryAfter: Math.ceil(positiveNumber(input.maxRetryAfter, 'genauth.maxRetryAfter', 60)),
  });
}

function resolveRetryBudget(value: unknown): Required<RetryBudgetOptions> {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.retryBudget, 'genauth.retryBudget');
  const ratio = positiveNumber(input.ratio, 'genauth.retryBudget.ratio', 0.2);
  if (ratio > 1) fail('genauth.retryBudget.ratio', 'must be a number in (0, 1]');
  return Object.freeze({ ratio, minPerSecond: positiveNumber(input.minPerSecond, 'genauth.retryBudget.minPerSecond', 1, true) });
}
