/**
 * Injection tokens and metadata keys of the Nest integration. Plain strings, so two copies of the
 * package (ESM and CJS) still agree on them.
 */

/** Injection token of the module options ({@link GenAuthModuleOptions}). */
export const GENAUTH_MODULE_OPTIONS = 'GENAUTH_GUARD_MODULE_OPTIONS';

/**
 * Injection token of option overrides merged over the module options. `null` in production; the
 * testing helper overrides it to point the guard at the emulator.
 */
export const GENAUTH_OPTION_OVERRIDES = 'GENAUTH_GUARD_OPTION_OVERRIDES';

/** Injection token of the {@link GenAuthService} (also injectable by its class). */
export const GENAUTH_SERVICE = 'GENAUTH_GUARD_SERVICE';

/** Metadata key of the route policy written by `@RequirePermission`, `@Public` and `@Authenticated`. */
export const GENAUTH_ROUTE_POLICY = 'genauth-guard:route-policy';

/**
 * Where the guard keeps the context it attached, beside `request.genauth`, for `@GenAuth()` to read: a
 * `genauth` property can also be written by app code ahead of the guard (a middleware, a Fastify hook,
 * input copied onto the request), and on a `@Public()` route, which the guard does not touch, that value
 * stood as the verified identity. A symbol key comes from no client input. `Symbol.for`, so two copies
 * of the package (ESM and CJS) agree on it.
 */
export const GENAUTH_ATTACHED = Symbol.for('genauth-guard.nest.attached');
