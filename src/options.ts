/**
 * The options' public entry. Each job has its module under options/: the public types (types.ts),
 * the checks and their one message format (checks.ts), one resolver per group, the pipeline
 * (resolve.ts), the redacted view (redact.ts) and the adapters' split (adapter.ts).
 */
export type {
  CacheOptions,
  Clock,
  ConditionOptions,
  DecisionRecord,
  GenAuthOptions,
  GuardOptions,
  IdentityOptions,
  JwksOptions,
  JwtAlgorithm,
  JwtOptions,
  RetryBudgetOptions,
  RevocationOptions,
  TokenCacheOptions,
  WarmOptions,
} from './options/types.js';
export type {
  ResolvedCacheOptions,
  ResolvedConditionOptions,
  ResolvedGenAuthOptions,
  ResolvedIdentityOptions,
  ResolvedJwtOptions,
  ResolvedOptions,
  ResolvedRevocationOptions,
  ResolvedWarmOptions,
} from './options/resolved.js';
export { OPTION_KEYS } from './options/keys.js';
export { RESOURCE_TYPES } from './options/genauth.js';
export { resolveOptions } from './options/resolve.js';
export { REDACTED, redactOptions, type RedactedOptions } from './options/redact.js';
export { splitAdapterOptions } from './options/adapter.js';
