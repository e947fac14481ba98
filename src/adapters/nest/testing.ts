/**
 * Test helpers: point a Nest `TestingModule` at the GenAuth emulator of `genauth-guard/testing` and
 * change a user's grants between requests. Structural types only, so importing `genauth-guard/nest`
 * loads neither `@nestjs/testing` nor the emulator.
 */
import type { GenAuthModuleOptions } from './service.js';
import { GenAuthService } from './service.js';
import { GENAUTH_OPTION_OVERRIDES } from './constants.js';

/** What the helpers need of the emulator (`GenAuthEmulator` of `genauth-guard/testing` fits). */
export interface EmulatorLike<G = unknown, M = unknown> {
  guardOptions(): Pick<GenAuthModuleOptions, 'genauth' | 'jwt'>;
  setGrants(userId: string, grants: G[]): void;
  mintToken(userId: string, options?: M): Promise<string>;
}

/** The part of `TestingModuleBuilder` used here. */
export interface ProviderOverridable<B> {
  overrideProvider(token: unknown): { useValue(value: unknown): B };
}

/**
 * Points the app's `GenAuthGuardModule` (forRoot or forRootAsync) at the emulator: its `genauth` and
 * `jwt` options replace yours, everything else (`defaultPolicy`, `api`, cache...) stays. `overrides`
 * are merged last.
 * @example
 * const moduleRef = await useGenAuthEmulator(Test.createTestingModule({ imports: [AppModule] }), emulator).compile();
 */
export function useGenAuthEmulator<B>(
  builder: ProviderOverridable<B>,
  emulator: EmulatorLike,
  overrides: Partial<GenAuthModuleOptions> = {},
): B {
  return builder.overrideProvider(GENAUTH_OPTION_OVERRIDES).useValue({ ...emulator.guardOptions(), ...overrides });
}

/** A handle on grants and tokens for a running test app. */
export interface GenAuthTestKit<G, M> {
  /** Replaces the user's grants at the emulator and drops the app's cached copy, so the next request sees them. */
  setGrants(userId: string, grants: G[]): void;
  /** An `Authorization` header value for the user. */
  bearer(userId: string, options?: M): Promise<string>;
  /** The app's guard service. */
  readonly service: GenAuthService;
}

/**
 * Grants and tokens for a compiled test module or a created app.
 * @example
 * const kit = genauthTestKit(app, emulator);
 * kit.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
 * await request(app.getHttpServer()).get('/reports').set('authorization', await kit.bearer('alice')).expect(200);
 */
export function genauthTestKit<G, M>(
  app: { get(token: typeof GenAuthService, options?: { strict: boolean }): GenAuthService },
  emulator: EmulatorLike<G, M>,
): GenAuthTestKit<G, M> {
  const service = app.get(GenAuthService, { strict: false });
  return {
    setGrants(userId, grants) {
      emulator.setGrants(userId, grants);
      service.invalidateUser(userId);
    },
    bearer: async (userId, options) => `Bearer ${await emulator.mintToken(userId, options)}`,
    service,
  };
}
