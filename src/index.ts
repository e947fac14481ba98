export { createGuard } from './core/guard.js';
export type { CacheStats, CheckInput, GenAuthContext, Guard, RouteOptions } from './core/types.js';
export type { RedisMessageListener, RedisSubscriberClient, RedisTierClient } from './cache/redis/client.js';
export { RedisTierError, type TierCommand } from './cache/redis/bounded.js';
export type { RedisTierStats } from './cache/redis/health.js';
export { GuardNotReadyError } from './core/readiness.js';
export type { ReadinessReason } from './core/readiness.js';
export type { SetupProblem, SetupProblemKind } from './core/setup-problems.js';
export type { Jwk, JwtClaims } from './token/jwt-types.js';
export { routeSpec } from './core/enforce/route.js';
export type { ResourceSource, RouteSpec } from './core/enforce/route.js';
export { apiModeSpec } from './core/enforce/api.js';
export type { ApiModeOptions, ApiModeSpec } from './core/enforce/api.js';
export type {
  CacheOptions,
  DecisionRecord,
  GenAuthOptions,
  GuardOptions,
  IdentityOptions,
  JwksOptions,
  JwtAlgorithm,
  JwtOptions,
  RedactedOptions,
  ResolvedOptions,
  WarmOptions,
} from './options.js';
export {
  GenAuthApiError,
  GuardError,
  GuardInternalError,
  InvalidRequestError,
  InvalidTokenError,
  KeysUnavailableError,
  MissingTokenError,
  PermissionDeniedError,
  PermissionsUnavailableError,
  isGuardError,
} from './errors.js';
export type { GenAuthFailureKind, GuardErrorCode, InvalidTokenReason } from './errors.js';
export { decide, normalizeRequirement } from './policy/decide.js';
export type { ConditionCheck, Decision, NormalizedRequirement, Requirement } from './policy/decide.js';
export { indexGrants } from './policy/grants.js';
export { createApiMatcher, matchApi } from './policy/api-match.js';
export type { ApiDecision, ApiMatcher } from './policy/api-match.js';
export type { ApiGrants, CompiledApiGrants } from './policy/api-compile.js';
export type { ApiMatchOptions, RouterRules } from './policy/api-options.js';
export { normalizeApiTarget } from './policy/api-path.js';
export type { ApiPath, ApiTarget, ApiTargetProblem, CaseFold } from './policy/api-path.js';
export type { CodeGrants, GrantIndex, WildcardGrant } from './policy/grants.js';
export type { Grant, GrantNotes } from './policy/normalize-grant.js';
export { explainDecision } from './policy/explain.js';
export type { ConditionFinding, ExplainedGrant, Explanation, GrantOutcome } from './policy/explain.js';
export { explainApiDecision } from './policy/explain-api.js';
export type { ApiExplanation, ExplainApiOptions } from './policy/explain-api.js';
export type { ExplainApiInput, ExplainInput, ExplainRouteInput, Explainer } from './core/explain.js';
export { problemResponse } from './problem.js';
export type { ProblemResponse } from './problem.js';
export type { RequestLike } from './request.js';
export type { Identity } from './token/verifier.js';
export type {
  AuthorizedResource,
  Effect,
  PolicyCondition,
  ResourceType,
  UserIdType,
} from './wire.js';
export { channels, moreChannels, tracing } from './events.js';
export type { CacheEvent, DecisionEvent, DecisionTrace, LoadTrace, RedisTierEvent, RetryRefusedEvent, TokenFailureEvent, UpstreamEvent } from './events.js';
export { CONDITION_OPERATORS, evaluateCondition, evaluateConditions } from './policy/conditions.js';
export type { ConditionCombine, ConditionContext, ConditionSettings } from './policy/conditions.js';
export type { Clock, ConditionOptions, RetryBudgetOptions, TokenCacheOptions } from './options.js';
export { createWebhookReceiver } from './webhooks/receiver.js';
export type { WebhookAnswer, WebhookInput, WebhookReceiver } from './webhooks/receiver.js';
export type { WebhookOptions } from './webhooks/options.js';
export type { WebhookAction } from './webhooks/events.js';
export type { WebhookBody } from './webhooks/body.js';
export type { WebhookHeaders } from './webhooks/secret.js';
export type { RevocationStore } from './token/revocations.js';
export type { WebhookEvent, WebhookIgnoredReason, WebhookInvalidationEvent, WebhookReceivedEvent, WebhookRejectedEvent, WebhookRejectReason } from './events.js';
export type { RevocationOptions } from './options.js';
