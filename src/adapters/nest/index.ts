/**
 * `genauth-guard/nest`: the NestJS integration (Nest 11 and 12, platform-express and platform-fastify).
 * Also re-exports the core, so Nest users import everything from here.
 */
export * from '../../index.js';
export { GENAUTH_MODULE_OPTIONS, GENAUTH_OPTION_OVERRIDES, GENAUTH_ROUTE_POLICY, GENAUTH_SERVICE } from './constants.js';
export { Authenticated, GenAuth, Public, RequirePermission, genauthContextOf } from './decorators.js';
export type { ClassOrMethodDecorator, NestResourceRequest, RoutePolicy } from './decorators.js';
export { GenAuthException } from './exception.js';
export { GenAuthGuard } from './guard.js';
export { GenAuthGuardModule } from './module.js';
export type { GenAuthModuleAsyncOptions, GenAuthRegistration } from './module.js';
export { nestRequest } from './platform.js';
export { GenAuthService } from './service.js';
export { genauthFrameworkErrors } from './unrouted.js';
export type { FrameworkErrorReply, FrameworkErrorRequest } from './unrouted.js';
export type { DefaultPolicy, GenAuthModuleOptions } from './service.js';
export { genauthTestKit, useGenAuthEmulator } from './testing.js';
export type { EmulatorLike, GenAuthTestKit, ProviderOverridable } from './testing.js';
export type { ApiModeOptions } from '../../api-mode.js';
