/**
 * The Nest test app, on either platform: global prefix `api` and URI versioning (`v1`), so every path is
 * `/api/v1/...` as on the conformance apps, and the guard must see the full concrete path. Shared by
 * test/nest/*.test.ts and the conformance rows.
 */
import 'reflect-metadata';
import {
  All,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  UseGuards,
  VersioningType,
  type ArgumentsHost,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  Authenticated,
  GenAuth,
  GenAuthGuard,
  GenAuthService,
  Public,
  genauthFrameworkErrors,
  RequirePermission,
  type Decision,
  type GenAuthContext,
  type Identity,
} from '../../src/adapters/nest/index.js';

import type { WebhookOptions } from '../../src/webhooks/options.js';
import { WEBHOOK_OPTIONS, WebhookController } from './webhook-controller.js';

export type Platform = 'express' | 'fastify';

/** Token of the callback every protected handler calls when it runs. */
export const HANDLED = 'TEST_HANDLED';

type Handled = () => void;

function answer(auth: GenAuthContext | undefined): { ok: true; user: string | undefined; reason: string | undefined } {
  return { ok: true, user: auth?.identity.userId, reason: auth?.decision?.reason };
}

@Controller('servers')
export class ServersController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Post(':id/start')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
  start(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }

  /** No decorator: secure by default. */
  @Get(':id')
  show() {
    this.handled();
    return { ok: true };
  }
}

@Controller('reports')
@RequirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] })
export class ReportsController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  /** The class requirement applies. */
  @Get()
  list(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }

  /** The handler's requirement overrides the class's. */
  @Get('full')
  @RequirePermission('reports', { allOf: ['reports:Read', 'reports:Admin'] })
  full(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }

  /** The handler's @Public overrides the class requirement. */
  @Get('summary')
  @Public()
  summary(@GenAuth() auth: GenAuthContext | undefined) {
    this.handled();
    return { ok: true, user: auth?.identity.userId ?? null };
  }
}

@Controller('disks')
export class DisksController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Delete(':id')
  @RequirePermission(async (req) => `disk:${req.params.id}`, 'disk:Delete')
  remove(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }
}

@Controller('me')
export class MeController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  @Authenticated()
  me(@GenAuth('identity') identity: Identity, @GenAuth('decision') decision: Decision | undefined) {
    this.handled();
    return { ok: true, user: identity.userId, reason: decision?.reason };
  }
}

@Controller('health')
@Public()
export class HealthController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  health() {
    this.handled();
    return { ok: true };
  }

  /** The handler's requirement overrides the class's @Public. */
  @Get('deep')
  @RequirePermission('reports', 'reports:Admin')
  deep(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }
}

/** Uses the guard per controller, for `globalGuard: false`. */
@Controller('guarded')
@UseGuards(GenAuthGuard)
export class GuardedController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  @RequirePermission('reports', 'reports:Read')
  guarded(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return answer(auth);
  }
}

/** Not guarded when the guard is not global. */
@Controller('unguarded')
export class UnguardedController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  open() {
    this.handled();
    return { ok: true };
  }
}

/** API mode: one handler for every method and path (Express 5 wildcard syntax). */
@Controller()
export class CatchAllController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @All('{*path}')
  any(@GenAuth() auth: GenAuthContext | undefined) {
    this.handled();
    return { ok: true, user: auth?.identity.userId ?? null };
  }
}

/** The same on Fastify, whose router spells the wildcard `*`. */
@Controller()
export class FastifyCatchAllController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @All('*')
  any(@GenAuth() auth: GenAuthContext | undefined) {
    this.handled();
    return { ok: true, user: auth?.identity.userId ?? null };
  }
}

export const STANDARD_CONTROLLERS: Type[] = [ServersController, ReportsController, DisksController, MeController, HealthController];

export interface StartOptions {
  platform: Platform;
  /** Mounts {@link WebhookController} (POST `hooks/genauth`) with these options. */
  webhook?: WebhookOptions;
  /** `GenAuthGuardModule.forRoot(...)` or `forRootAsync(...)`. */
  genauth: DynamicModule;
  handled: Handled;
  controllers?: Type[];
  /** Global prefix `api` and URI version `v1`. @default true */
  prefixed?: boolean;
  /** Adjust the testing module (e.g. `useGenAuthEmulator`). */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Adjust the app before it listens (middleware, platform hooks). */
  beforeListen?: (app: INestApplication) => void;
  /** Fastify's router options. @default { ignoreTrailingSlash: true } */
  routerOptions?: Record<string, unknown>;
  /** Nest's logger. @default false */
  logger?: LoggerService | false;
  /** On Fastify, serve cleartext HTTP/2 (`http2: true`). @default false */
  http2?: boolean;
}

export interface StartedNestApp {
  app: INestApplication;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Compiles the module, starts the app on 127.0.0.1:0 on the chosen platform. */
export async function startNestApp(options: StartOptions): Promise<StartedNestApp> {
  const webhook = options.webhook;
  let builder = Test.createTestingModule({
    imports: [options.genauth],
    controllers: [...(options.controllers ?? STANDARD_CONTROLLERS), ...(webhook ? [WebhookController] : [])],
    providers: [{ provide: HANDLED, useValue: options.handled }, ...(webhook ? [{ provide: WEBHOOK_OPTIONS, useValue: webhook }] : [])],
  });
  if (options.configure) builder = options.configure(builder);
  const moduleRef = await builder.compile();
  const adapter =
    options.platform === 'express'
      ? new ExpressAdapter()
      : new FastifyAdapter({
          routerOptions: options.routerOptions ?? { ignoreTrailingSlash: true },
          frameworkErrors: genauthFrameworkErrors,
          ...(options.http2 ? { http2: true } : {}),
        } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const app = moduleRef.createNestApplication(adapter, { logger: options.logger ?? false });
  if (options.prefixed !== false) {
    app.setGlobalPrefix('api');
    app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  }
  options.beforeListen?.(app);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** What the suites may watch on a conformance app: the framework's log lines and the errors its exception layer gets. */
export interface Observers {
  log?(line: string): void;
  passed?(error: unknown): void;
  /** Also mount the webhook route with these options. */
  webhook?: WebhookOptions;
  /** Serve cleartext HTTP/2 (Fastify platform). */
  http2?: boolean;
}

/** A Nest logger that writes every message, whatever its level, to one function. */
function lineLogger(log: (line: string) => void): LoggerService {
  const write = (level: string) => (message: unknown, ...rest: unknown[]) => log([level, message, ...rest].map((part) => (part instanceof Error ? part.stack : typeof part === 'string' ? part : JSON.stringify(part))).join(' '));
  return { log: write('log'), error: write('error'), warn: write('warn'), debug: write('debug'), verbose: write('verbose'), fatal: write('fatal') };
}

/** A global filter that shows `passed` what reaches Nest's exception layer, then lets Nest's own filter answer. */
function observingFilter(app: INestApplication, passed: (error: unknown) => void): BaseExceptionFilter {
  class ObservingFilter extends BaseExceptionFilter {
    override catch(exception: unknown, host: ArgumentsHost): void {
      passed(exception);
      super.catch(exception, host);
    }
  }
  return new ObservingFilter(app.getHttpAdapter());
}

/** A conformance-suite app: `{ port, core, close }` over {@link startNestApp}. */
export async function conformanceApp(
  platform: Platform,
  genauth: DynamicModule,
  handled: Handled,
  api: boolean,
  observers: Observers = {},
): Promise<{ port: number; core: GenAuthService['core']; close(): Promise<void>; webhookPath?: string }> {
  const { log, passed, webhook, http2 } = observers;
  const started = await startNestApp({
    platform,
    ...(http2 ? { http2 } : {}),
    genauth,
    ...(webhook ? { webhook } : {}),
    handled,
    controllers: api ? [platform === 'express' ? CatchAllController : FastifyCatchAllController] : STANDARD_CONTROLLERS,
    // API mode judges the full path: the catch-all app has no prefix so every target reaches it.
    prefixed: !api,
    // Under API mode the router folds case like Express's, as the oracle assumes (ALLOW patterns and
    // public paths follow the router's rules).
    ...(api ? { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } } : {}),
    logger: log ? lineLogger(log) : false,
    beforeListen: passed === undefined ? undefined : (app) => app.useGlobalFilters(observingFilter(app, passed)),
  });
  const webhookPath = webhook === undefined ? undefined : api ? '/hooks/genauth' : '/api/v1/hooks/genauth';
  return { port: started.port, core: started.app.get(GenAuthService).core, close: started.close, ...(webhookPath === undefined ? {} : { webhookPath }) };
}
