/**
 * Nest handlers reached outside HTTP: microservice (`rpc`), WebSocket (`ws`) and GraphQL contexts. The
 * guard has no HTTP request to verify there, so anything not `@Public()` is refused, even when the
 * payload, the socket's handshake or the GraphQL context carries a valid token; nothing is fetched
 * (keys or grants) and nothing leaks into the exception. The handlers run through Nest's own
 * `ExternalContextCreator`, the pipeline GraphQL resolvers and WebSocket gateways (providers) use:
 * guards, interceptors, filters. Both platforms, with the global guard and with `@UseGuards(GenAuthGuard)`.
 */
import 'reflect-metadata';
import { ForbiddenException, Injectable, Module, UseGuards, type DynamicModule, type Type } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Authenticated, GenAuth, GenAuthGuard, GenAuthGuardModule, Public, RequirePermission, type GenAuthContext } from '../../src/adapters/nest/index.js';
import { seedStandardTenant } from '../fixtures.js';
import { startNestApp, type Platform, type StartedNestApp } from '../nest/app.js';
import { capture, describeError, expectNoLeak, forbiddenStrings, optionsFor, useAdversarialEnv } from './harness.js';

const emulator = useAdversarialEnv();
const JWKS = '/oidc/.well-known/jwks.json';
let token = '';

beforeAll(async () => {
  seedStandardTenant(emulator());
  token = await emulator().mintToken('alice');
});

/** Counts a handler run. */
function ran(): string {
  capture.handled++;
  return 'ran';
}

/** Handlers as a gateway or resolver would have them. */
@Injectable()
class EventsGateway {
  @RequirePermission('reports', 'reports:Read')
  permission(): string {
    return ran();
  }

  @Authenticated()
  authenticated(): string {
    return ran();
  }

  undecorated(): string {
    return ran();
  }

  @Public()
  open(): string {
    return ran();
  }

  /** What `@GenAuth()` hands a public handler outside HTTP. */
  @Public()
  whoami(@GenAuth() auth: GenAuthContext | undefined, @GenAuth('identity') identity: unknown): unknown {
    ran();
    return { auth, identity };
  }
}

/** A public class whose handler asks for a permission: the handler's requirement wins. */
@Injectable()
@Public()
class PublicClassGateway {
  @RequirePermission('reports', 'reports:Read')
  permission(): string {
    return ran();
  }
}

/** The guard applied per class (globalGuard: false). */
@Injectable()
@UseGuards(GenAuthGuard)
class GuardedEventsGateway {
  @RequirePermission('reports', 'reports:Read')
  permission(): string {
    return ran();
  }
}

@Module({})
class EventsModule {}

/** The gateways' module, importing the guard module (as `startNestApp`'s `genauth`). */
function eventsModule(genauth: DynamicModule, providers: Type[]): DynamicModule {
  return { module: EventsModule, imports: [genauth], providers };
}

const bearerHeaders = () => ({ authorization: `Bearer ${token}` });

/** Arguments of each context type, carrying a valid token where a naive guard might look for one. */
const CONTEXTS: Array<[string, () => unknown[]]> = [
  ['rpc', () => [{ authorization: `Bearer ${token}`, headers: bearerHeaders() }, { getHeaders: bearerHeaders, headers: bearerHeaders() }]],
  ['ws', () => [{ handshake: { headers: bearerHeaders() }, headers: bearerHeaders(), upgradeReq: { headers: bearerHeaders() } }, { token }]],
  ['graphql', () => [{ headers: bearerHeaders() }, {}, { req: { method: 'POST', url: '/graphql', headers: bearerHeaders(), rawHeaders: ['authorization', `Bearer ${token}`] } }, {}]],
];

const PLATFORMS: Platform[] = ['express', 'fastify'];

describe.each(PLATFORMS)('Nest on platform-%s', (platform) => {
  let global: StartedNestApp;
  let perClass: StartedNestApp;

  beforeAll(async () => {
    const handled = () => void capture.handled++;
    global = await startNestApp({
      platform,
      genauth: eventsModule(GenAuthGuardModule.forRoot(optionsFor(emulator())), [EventsGateway, PublicClassGateway]),
      handled,
      controllers: [],
    });
    perClass = await startNestApp({
      platform,
      genauth: eventsModule(GenAuthGuardModule.forRoot({ ...optionsFor(emulator()), globalGuard: false }), [GuardedEventsGateway]),
      handled,
      controllers: [],
    });
  });
  afterAll(async () => {
    await Promise.all([global?.close(), perClass?.close()]);
  });

  /** Runs `method` of the app's `gateway` as Nest runs a non-HTTP handler of that context type. */
  function invoke(app: StartedNestApp, gateway: Type, method: string, contextType: string, args: unknown[]): Promise<unknown> {
    const instance = app.app.get(gateway, { strict: false }) as Record<string, (...a: unknown[]) => unknown>;
    const creator = app.app.get(ExternalContextCreator);
    // Parameter metadata under Nest's key (as @nestjs/microservices, websockets and graphql read it);
    // the built-in parameter types answer the payload, as RpcParamsFactory's @Payload() does.
    const params = { exchangeKeyForValue: (_type: number, _data: unknown, args: unknown[]) => args[0] };
    const run = creator.create(instance, instance[method] as (...a: unknown[]) => unknown, method, ROUTE_ARGS_METADATA, params, undefined, undefined, undefined, contextType);
    return run(...args);
  }

  async function expectRefusedOutsideHttp(run: Promise<unknown>): Promise<void> {
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ForbiddenException);
    expect((error as ForbiddenException).getStatus()).toBe(403);
    expect(capture.handled).toBe(0);
    // Nothing was verified or fetched: no key set, no grants.
    expect(emulator().callCount(JWKS)).toBe(0);
    expect(emulator().callCount()).toBe(0);
    capture.errors.push(error);
    expect(describeError(error)).not.toContain('WWW-Authenticate');
    expectNoLeak(undefined, forbiddenStrings(emulator(), token));
  }

  describe.each(CONTEXTS)('%s context', (contextType, args) => {
    it.each(['permission', 'authenticated', 'undecorated'])('refuses a %s handler, a valid token in the payload notwithstanding', async (method) => {
      await expectRefusedOutsideHttp(invoke(global, EventsGateway, method, contextType, args()));
    });

    it('refuses a handler that requires a permission under a @Public() class', async () => {
      await expectRefusedOutsideHttp(invoke(global, PublicClassGateway, 'permission', contextType, args()));
    });

    it('refuses with the guard applied per class (globalGuard: false)', async () => {
      await expectRefusedOutsideHttp(invoke(perClass, GuardedEventsGateway, 'permission', contextType, args()));
    });

    it('@GenAuth() gives a public handler nothing, even when the payload carries a `genauth` field', async () => {
      // Outside HTTP the first argument is the message payload (rpc), the socket (ws) or the parent
      // value (graphql): a forged `genauth` in it must not read as a verified identity.
      const forged = { genauth: { identity: { userId: 'admin', claims: {} }, decision: { allowed: true, reason: 'allowed' } } };
      const rest = args().slice(1);
      await expect(invoke(global, EventsGateway, 'whoami', contextType, [forged, ...rest])).resolves.toEqual({ auth: undefined, identity: undefined });
      expect(capture.handled).toBe(1);
    });

    it('runs a @Public() handler', async () => {
      await expect(invoke(global, EventsGateway, 'open', contextType, args())).resolves.toBe('ran');
      expect(capture.handled).toBe(1);
      expect(emulator().callCount()).toBe(0);
    });
  });

  /**
   * `ExternalContextCreator.create` labels a handler 'http' unless told otherwise, so a library that
   * runs its message or job handlers through it without a context type hands the guard an 'http'
   * context whose arguments are a payload, not a platform request and response.
   */
  describe("a third-party handler labelled 'http' whose arguments are not an HTTP request", () => {
    const NOT_REQUESTS: Array<[string, () => unknown[]]> = [
      ['a message and its channel', () => [{ pattern: 'reports', data: {} }, { ack() {} }]],
      ['a string payload', () => ['reports']],
      ['no arguments', () => []],
      // Shaped like a request, with a valid token: a payload is the sender's, never a verified request.
      ['a payload shaped like a request, with a valid token', () => [
        { method: 'GET', url: '/reports', params: {}, query: {}, headers: bearerHeaders(), rawHeaders: ['authorization', `Bearer ${token}`] },
        { statusCode: 200, headersSent: false, setHeader() {}, end() {} },
      ]],
    ];
    const CASES = NOT_REQUESTS.flatMap(([label, args]) => ['permission', 'authenticated', 'undecorated'].map((method) => [label, method, args] as const));

    it.each(CASES)('%s, %s handler: refused (403 Forbidden resource), never a TypeError, never run', async (_label, method, args) => {
      await expectRefusedOutsideHttp(invoke(global, EventsGateway, method, 'http', args()));
    });

    it.each(NOT_REQUESTS)('%s, with the guard applied per class: refused the same', async (_label, args) => {
      await expectRefusedOutsideHttp(invoke(perClass, GuardedEventsGateway, 'permission', 'http', args()));
    });

    it('a @Public() handler still runs', async () => {
      await expect(invoke(global, EventsGateway, 'open', 'http', ['reports'])).resolves.toBe('ran');
      expect(capture.handled).toBe(1);
    });

    it('@GenAuth() gives a @Public() handler nothing from a payload that carries a `genauth` field', async () => {
      const forged = { genauth: { identity: { userId: 'admin', claims: {} }, decision: { allowed: true, reason: 'allowed' } } };
      await expect(invoke(global, EventsGateway, 'whoami', 'http', [forged, {}])).resolves.toEqual({ auth: undefined, identity: undefined });
    });
  });
});
