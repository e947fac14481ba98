/**
 * `genauth-guard/testing`: a loopback GenAuth emulator (management API + OIDC keys) and token
 * helpers, so guard tests run against real HTTP without a GenAuth tenant.
 */
export { startEmulator } from './emulator.js';
export type {
  AuthorizeItem,
  EmulatorCall,
  EmulatorGuardOptions,
  EmulatorOptions,
  Fault,
  GenAuthEmulator,
  GrantInput,
  GrantScopeOption,
  NamespaceOption,
  ResourceDefinition,
  ResourceItem,
  TargetType,
  TenantOption,
  WebhookDelivery,
  WebhookSubscription,
} from './types.js';
export { createTokenMinter, generateSigningKey } from './tokens.js';
export type { SigningKey, TokenMinter } from './tokens.js';
export { ASYMMETRIC_ALGORITHMS } from './mint-types.js';
export type { AsymmetricAlgorithm, MintAlgorithm, MintOptions } from './mint-types.js';
