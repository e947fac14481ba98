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
export { ASYMMETRIC_ALGORITHMS, createTokenMinter, generateSigningKey } from './tokens.js';
export type { AsymmetricAlgorithm, MintAlgorithm, MintOptions, SigningKey, TokenMinter } from './tokens.js';
