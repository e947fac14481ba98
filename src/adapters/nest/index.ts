/**
 * `genauth-guard/nest`: the NestJS integration (Nest 11 and 12, platform-express and platform-fastify).
 * Also re-exports the errors and types Nest users need, so they import everything from here.
 */
export * from '../exports.js';
export { GENAUTH_MODULE_OPTIONS, GENAUTH_OPTION_OVERRIDES, GENAUTH_ROUTE_POLICY, GENAUTH_SERVICE } from './constants.js';
export { Authenticated, GenAuth, Public, RequirePermission, genauthContextOf } from './decorators.js';
export type { ClassOrMethodDecorator, NestResourceRequest, RoutePolicy } from './decorators.js';
export { GenAuthException } from './exception.js';
export { GenAuthGuard } from './guard.js';
export { GenAuthGuardModule } from './module.js';
export type { GenAuthModuleAsyncOptions, GenAuthRegistration } from './module.js';
export { nestRequest } from './platform.js';
export { GenAuthService } from './service.js';
export { unguardedRoutes, warnUnguarded } from './routes.js';
export type { NestAppLike } from './routes.js';
export type { UnguardedReason, UnguardedRoute, WarnLogger } from '../report/routes.js';
export { genauthFrameworkErrors } from '../framework-errors.js';
export type { FrameworkErrorReply, FrameworkErrorRequest } from '../framework-errors.js';
export type { DefaultPolicy, GenAuthModuleOptions } from './service.js';
export type { NestWebhookHandler } from './webhook.js';
export { genauthTestKit, useGenAuthEmulator } from './testing.js';
export type { EmulatorLike, GenAuthTestKit, ProviderOverridable } from './testing.js';
