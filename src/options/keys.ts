/** The keys of each options object of the guard; anything else is refused (see refuseUnknownKeys). */
export const OPTION_KEYS = Object.freeze({
  guard: ['genauth', 'jwt', 'identity', 'getToken', 'cache', 'conditions', 'revocation', 'realm', 'retryAfter', 'logger', 'onDecision', 'clock', 'now', 'warm'],
  genauth: [
    'host', 'userPoolId', 'accessKeyId', 'accessKeySecret', 'namespace', 'resourceType', 'userIdType',
    'headerPrefix', 'tenantId', 'tenantHeader', 'timeout', 'maxResponseBytes', 'authScheme',
    'signatureScheme', 'retries', 'retryBudget', 'maxRetryAfter', 'connections', 'dispatcher', 'acceptPartialLists',
  ],
  retryBudget: ['ratio', 'minPerSecond'],
  jwt: [
    'algorithms', 'secret', 'publicKey', 'jwksUri', 'discovery', 'issuer', 'audience', 'typ',
    'clockTolerance', 'requiredClaims', 'jwks', 'tokenCache', 'maxTokenAge',
  ],
  jwks: ['cooldownDuration', 'timeoutDuration', 'cacheMaxAge', 'maxResponseBytes'],
  tokenCache: ['max', 'maxAge'],
  identity: ['claim', 'maxLength', 'resolve'],
  cache: ['ttl', 'max', 'maxBytes', 'maxEntryBytes', 'maxStale', 'staleWhileRevalidate', 'errorTtl', 'redis', 'redisPrefix', 'redisTimeout', 'redisMaxUnsubscribed', 'redisHeartbeat'],
  conditions: ['trustProxy', 'timeZoneOffset', 'context', 'timeoutDuration', 'combine'],
  revocation: ['ttl', 'max'],
  warm: ['users'],
} as const satisfies Record<string, readonly string[]>);

/** The groups' keys, so a group key given at the top level is pointed to its group. */
export const GROUP_KEYS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  genauth: OPTION_KEYS.genauth,
  jwt: OPTION_KEYS.jwt,
  identity: OPTION_KEYS.identity,
  cache: OPTION_KEYS.cache,
  conditions: OPTION_KEYS.conditions,
  revocation: OPTION_KEYS.revocation,
  warm: OPTION_KEYS.warm,
});
