import { Module, type DynamicModule, type OnModuleInit, type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { GENAUTH_MODULE_OPTIONS, GENAUTH_OPTION_OVERRIDES, GENAUTH_SERVICE } from './constants.js';
import { GenAuthGuard } from './guard.js';
import { NEST_KEYS, GenAuthService, type GenAuthModuleOptions } from './service.js';
import { splitAdapterOptions } from '../../options.js';
import { fail, optionalBoolean, optionObject, refuseUnknownKeys } from '../../options/checks.js';
import { bindPlatform, type AdapterHostLike } from './unrouted.js';

/** Binds the service to the app's HTTP platform once the routes exist (see unrouted.ts). */
class GenAuthPlatformBinding implements OnModuleInit {
  constructor(
    private readonly service: GenAuthService,
    private readonly host: AdapterHostLike | undefined,
  ) {}

  onModuleInit(): void {
    bindPlatform(this.service, this.host);
  }
}

/** How the module registers itself. */
export interface GenAuthRegistration {
  /**
   * Register {@link GenAuthGuard} as a global guard (`APP_GUARD`), so every route is covered and
   * undecorated ones are denied. With `false`, apply it yourself with `@UseGuards(GenAuthGuard)`.
   * @default true
   */
  globalGuard?: boolean;
}

/** Options of {@link GenAuthGuardModule.forRootAsync}. */
export interface GenAuthModuleAsyncOptions extends GenAuthRegistration, Pick<ModuleMetadata, 'imports'> {
  /** Builds the options; receives the `inject` providers in order. */
  useFactory: (...args: any[]) => GenAuthModuleOptions | Promise<GenAuthModuleOptions>;
  /** Providers passed to `useFactory`. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
}

/** Options with the testing overrides merged over them (see `useGenAuthEmulator`). */
function merged(options: GenAuthModuleOptions, overrides: Partial<GenAuthModuleOptions> | null): GenAuthModuleOptions {
  if (overrides === null || overrides === undefined) return options;
  return {
    ...options,
    ...overrides,
    genauth: { ...options?.genauth, ...overrides.genauth } as GenAuthModuleOptions['genauth'],
    // The token modes exclude each other: the override's jwt replaces the whole block.
    jwt: overrides.jwt ?? options?.jwt,
  };
}

function providers(options: Provider, registration: GenAuthRegistration): Provider[] {
  const list: Provider[] = [
    options,
    { provide: GENAUTH_OPTION_OVERRIDES, useValue: null },
    {
      provide: GenAuthService,
      useFactory: (opts: GenAuthModuleOptions, overrides: Partial<GenAuthModuleOptions> | null) => new GenAuthService(merged(opts, overrides)),
      inject: [GENAUTH_MODULE_OPTIONS, GENAUTH_OPTION_OVERRIDES],
    },
    { provide: GENAUTH_SERVICE, useExisting: GenAuthService },
    {
      provide: GenAuthPlatformBinding,
      useFactory: (service: GenAuthService, host: AdapterHostLike | undefined) => new GenAuthPlatformBinding(service, host),
      inject: [GenAuthService, { token: HttpAdapterHost, optional: true }],
    },
    GenAuthGuard,
  ];
  if (registration.globalGuard !== false) list.push({ provide: APP_GUARD, useExisting: GenAuthGuard });
  return list;
}

/** `forRootAsync`'s own keys: a `useClass` or `useExisting` given here would be ignored, so it is refused. */
const ASYNC_KEYS = ['useFactory', 'inject', 'imports', 'globalGuard'];

function checkRegistration(registration: GenAuthRegistration): boolean {
  return optionalBoolean(registration.globalGuard, 'globalGuard', true);
}

/**
 * `forRootAsync`'s factory, whose options may not contradict the registration: the guard is (or is not)
 * `APP_GUARD` before the factory runs, so a `globalGuard` it returns could only be ignored, and one
 * that asks for the global guard the registration left out would leave every route open.
 */
function checkedFactory(options: GenAuthModuleAsyncOptions, globalGuard: boolean): GenAuthModuleAsyncOptions['useFactory'] {
  return async (...args: unknown[]) => {
    const built = await options.useFactory(...args);
    const asked = (built as { globalGuard?: unknown } | null | undefined)?.globalGuard;
    if (asked !== undefined && asked !== globalGuard) {
      fail('globalGuard', `is ${String(asked)} in the useFactory options but ${String(globalGuard)} for forRootAsync: set it beside useFactory, which is where it is read`);
    }
    return built;
  };
}

const EXPORTS = [GenAuthService, GENAUTH_SERVICE, GenAuthGuard, GENAUTH_MODULE_OPTIONS];

/**
 * The genauth-guard Nest module (Nest 11 and 12). Global: `GenAuthService` and `GenAuthGuard` are injectable
 * everywhere. Registers the guard for every route unless `globalGuard: false`.
 * @example
 * \@Module({ imports: [GenAuthGuardModule.forRoot({ genauth: { userPoolId, accessKeySecret }, jwt: { jwksUri, issuer, audience, algorithms: ['RS256'] } })] })
 * export class AppModule {}
 * @throws TypeError naming the option when the configuration is wrong (bootstrap fails).
 */
@Module({})
export class GenAuthGuardModule {
  /** Registers the module with static options. */
  static forRoot(options: GenAuthModuleOptions & GenAuthRegistration): DynamicModule {
    // The keys now (the values when the service is built, after any testing override).
    splitAdapterOptions(options, NEST_KEYS);
    checkRegistration(options);
    return {
      module: GenAuthGuardModule,
      global: true,
      providers: providers({ provide: GENAUTH_MODULE_OPTIONS, useValue: options }, options),
      exports: EXPORTS,
    };
  }

  /**
   * Registers the module with options built by a factory (e.g. from a `ConfigService`).
   * @example GenAuthGuardModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config: ConfigService) => config.get('genauth') })
   */
  static forRootAsync(options: GenAuthModuleAsyncOptions): DynamicModule {
    refuseUnknownKeys(optionObject(options, 'options'), ASYNC_KEYS, '');
    if (typeof options.useFactory !== 'function') fail('useFactory', 'must be a function returning the module options');
    const globalGuard = checkRegistration(options);
    return {
      module: GenAuthGuardModule,
      global: true,
      imports: options.imports ?? [],
      providers: providers({ provide: GENAUTH_MODULE_OPTIONS, useFactory: checkedFactory(options, globalGuard), inject: options.inject ?? [] }, options),
      exports: EXPORTS,
    };
  }
}
