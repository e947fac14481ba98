import type { OnApplicationShutdown } from '@nestjs/common';
import { instanceApiMode, type ApiModeOptions, type ApiModeSpec } from '../../core/enforce/api.js';
import { createGuard } from '../../core/guard.js';
import type { Explainer } from '../../core/explain.js';
import type { CacheStats, CheckInput, Guard } from '../../core/types.js';
import { splitAdapterOptions, type GuardOptions } from '../../options.js';
import { oneOf, optionalBoolean } from '../../options/checks.js';
import type { Decision } from '../../policy/decide.js';
import type { GuardControls } from '../guard-controls.js';
import type { WebhookOptions } from '../../webhooks/options.js';
import { createWebhookReceiver } from '../../webhooks/receiver.js';
import { nestWebhookHandler, type NestWebhookHandler } from './webhook.js';

/** What an undecorated route gets. */
export type DefaultPolicy = 'deny' | 'authenticate';

/** Options of {@link GenAuthGuardModule}: the guard options plus the Nest-specific ones. */
export interface GenAuthModuleOptions extends GuardOptions {
  /**
   * What a route with no `@RequirePermission`, `@Authenticated` or `@Public` gets: `'deny'` authenticates
   * the caller, then answers 403 (secure by default); `'authenticate'` only requires a valid token.
   * Ignored under `api`, which decides such routes.
   * @default 'deny'
   */
  defaultPolicy?: DefaultPolicy;
  /**
   * API mode: every route but `@Public()` ones is decided by the caller's API grants
   * (`apiIdentifier` patterns) against the method and the full request path, global prefix and version
   * segment included. A `@RequirePermission` on a route is checked on top of it.
   */
  api?: ApiModeOptions;
  /**
   * Throw a {@link GenAuthException} to Nest's exception layer without writing the answer, for your own
   * filter to answer. By default the guard writes the same problem+json answer as every other adapter.
   * @default false
   */
  passErrors?: boolean;
}

/** The module's own keys beside the guard's (`globalGuard` is read by `forRoot`). */
export const NEST_KEYS = ['defaultPolicy', 'api', 'passErrors', 'globalGuard'] as const;

/**
 * The guard's state in a Nest app: the core guard and the compiled module options. Injectable (by class
 * or `GENAUTH_SERVICE`) to decide outside HTTP or to invalidate cached grants. Closes the guard on
 * application shutdown.
 */
export class GenAuthService implements OnApplicationShutdown, GuardControls {
  /** The framework-neutral guard. */
  readonly core: Guard;
  /** The compiled API mode, when enabled. */
  readonly api: ApiModeSpec | undefined;
  readonly defaultPolicy: DefaultPolicy;
  readonly passErrors: boolean;

  /** @throws TypeError naming the option when the configuration is wrong (bootstrap fails). */
  constructor(options: GenAuthModuleOptions) {
    const { guard, own } = splitAdapterOptions(options, NEST_KEYS);
    this.defaultPolicy = oneOf(own.defaultPolicy, ['deny', 'authenticate'] as const, 'defaultPolicy', 'deny');
    this.passErrors = optionalBoolean(own.passErrors, 'passErrors', false);
    this.api = instanceApiMode(own);
    this.core = createGuard(guard);
  }

  /** A decision outside HTTP, with the same semantics as the guard. */
  check(input: CheckInput): Promise<Decision> {
    return this.core.check(input);
  }

  /** The decision and every grant behind it (see `Guard.explain`). Works when taken off the service. */
  get explain(): Explainer {
    return this.core.explain;
  }

  /** Forgets one user's cached grants; with `cache.redis`, on every instance (a promise: see Guard.invalidateUser). */
  invalidateUser(userId: string): void | Promise<void> {
    return this.core.invalidateUser(userId);
  }

  /** Forgets every cached grant; with `cache.redis`, on every instance. */
  invalidateAll(): void | Promise<void> {
    return this.core.invalidateAll();
  }

  /** Revokes a user's tokens issued until now (401 `revoked`) and forgets their cached grants. */
  revokeUser(userId: string): void | Promise<void> {
    return this.core.revokeUser(userId);
  }

  /**
   * The GenAuth webhook handler, for a `@Public()` POST route of a controller: it checks the secret,
   * reads the event and makes the invalidations it calls for, then writes the answer (204 once made).
   * @example
   * \@Post('hooks/genauth') \@Public()
   * hook(\@Req() req: unknown, \@Res() res: unknown) { return this.receive(req, res); }
   * // with, in the constructor: this.receive = genauth.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET });
   * @throws TypeError naming the option when `options` is malformed.
   */
  webhook(options: WebhookOptions): NestWebhookHandler {
    return nestWebhookHandler(createWebhookReceiver(this.core, options));
  }

  /**
   * Resolves once keys, management token, Redis and warmed grants are fetched; rejects with a
   * `GuardNotReadyError` naming the options to check (see `Guard.ready`). Works when taken off the
   * service (`await Promise.all(guards.map((g) => g.ready()))`, or passed as a callback).
   */
  readonly ready = (): Promise<void> => this.core.ready();

  /** Cached users and their estimated bytes (and the shared tier's counters). */
  cacheStats(): CacheStats {
    return this.core.cacheStats();
  }

  /** Closes the guard (see `Guard.close`: from then on it answers 503); done for you when the application shuts down. Idempotent. */
  close(): Promise<void> {
    // Closing twice (by hand, then at shutdown) must not fail the shutdown.
    this.closing ??= this.core.close();
    return this.closing;
  }

  /** @internal Nest lifecycle hook. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private closing: Promise<void> | undefined;
}
