import 'reflect-metadata';
import { Controller, HttpCode, Inject, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GenAuthGuardModule,
  GenAuthService,
  genauthTestKit,
  RequirePermission,
  useGenAuthEmulator,
  type GenAuthModuleOptions,
} from '../../src/adapters/nest/index.js';
import { GuardedController, STANDARD_CONTROLLERS, UnguardedController, startNestApp, type Platform, type StartedNestApp } from './app.js';
import { bearerFor, RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';
import type { MintOptions } from '../../src/testing/index.js';


const emulator = useEmulator();

const seed = (): void => seedStandardTenant(emulator());
const bearer = (user: string, options?: MintOptions) => bearerFor(emulator(), user, options);

/** A resource named by the request body. */
@Controller('orders')
class OrdersController {
  @Post()
  @HttpCode(200)
  @RequirePermission((req) => `order:${String((req as { body?: { id?: unknown } }).body?.id)}`, 'order:Create')
  create() {
    return { ok: true };
  }
}

/** A ConfigModule-like provider, as apps feed `forRootAsync` from their configuration. */
@Injectable()
class FakeConfigService {
  constructor(@Inject('CONFIG_SOURCE') private readonly source: Record<string, unknown>) {}
  get<T>(key: string): T {
    return this.source[key] as T;
  }
}

function configModule(source: Record<string, unknown>) {
  @Module({ providers: [{ provide: 'CONFIG_SOURCE', useValue: source }, FakeConfigService], exports: [FakeConfigService] })
  class FakeConfigModule {}
  return FakeConfigModule;
}

/** forRootAsync reading the emulator's options from the config provider. */
function asyncModule(extra: Partial<GenAuthModuleOptions> = {}) {
  return GenAuthGuardModule.forRootAsync({
    imports: [configModule({ genauth: { ...emulator().guardOptions(), ...extra } })],
    inject: [FakeConfigService],
    useFactory: (config: FakeConfigService) => config.get<GenAuthModuleOptions>('genauth'),
  });
}

const PLATFORMS: Platform[] = ['express', 'fastify'];

describe.each(PLATFORMS)('Nest on platform-%s', (platform) => {
  let started: StartedNestApp;
  let handled: number;
  const apps: StartedNestApp[] = [];

  async function start(options: Omit<Parameters<typeof startNestApp>[0], 'platform' | 'handled'>): Promise<StartedNestApp> {
    const app = await startNestApp({ platform, handled: () => void handled++, ...options });
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    seed();
    handled = 0;
    started = await start({ genauth: asyncModule() });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  const http = () => request(started.url);

  function expectProblem(res: request.Response, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['cache-control']).toBe('no-store');
    if (res.text !== '' && res.text !== undefined) expect(JSON.parse(res.text)).toMatchObject({ status, code, type: 'about:blank' });
    expect(handled).toBe(0);
  }

  describe('decisions', () => {
    it('allows a granted action; @GenAuth() gives identity and decision', async () => {
      const res = await http().post('/api/v1/servers/1/start').set('authorization', await bearer('alice'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
      expect(handled).toBe(1);
    });

    it('denies with 403 insufficient_scope and problem+json', async () => {
      const res = await http().post('/api/v1/servers/2/start').set('authorization', await bearer('alice'));
      expectProblem(res, 403, 'ERR_PERMISSION_DENIED');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"');
    });

    it('DENY overrides a wildcard ALLOW; the wildcard allows the rest', async () => {
      const token = await bearer('alice');
      expectProblem(await http().delete('/api/v1/disks/9').set('authorization', token), 403, 'ERR_PERMISSION_DENIED');
      const allowed = await http().delete('/api/v1/disks/8').set('authorization', token);
      expect(allowed.status).toBe(200);
      expect(allowed.body).toMatchObject({ user: 'alice', reason: 'allowed' });
    });

    it('anyOf on the class: either action is enough', async () => {
      expect((await http().get('/api/v1/reports').set('authorization', await bearer('alice'))).status).toBe(200);
      expect((await http().get('/api/v1/reports').set('authorization', await bearer('bob'))).status).toBe(200);
      expect(handled).toBe(2);
    });

    it('allOf on the handler overrides the class requirement', async () => {
      emulator().setGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read', 'reports:Admin'] }]);
      expectProblem(await http().get('/api/v1/reports/full').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
      expect((await http().get('/api/v1/reports/full').set('authorization', await bearer('carol'))).status).toBe(200);
    });

    it('a user GenAuth does not know is denied, not an outage', async () => {
      expectProblem(await http().get('/api/v1/reports').set('authorization', await bearer('nobody')), 403, 'ERR_PERMISSION_DENIED');
    });

    it('@Authenticated only verifies the token; @GenAuth(field) picks one part', async () => {
      const res = await http().get('/api/v1/me').set('authorization', await bearer('nobody'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, user: 'nobody' }); // no decision: reason absent
    });
  });

  describe('request bodies', () => {
    it('Nest parses the body before any guard: a resource function reads it; a malformed body is the platform 400 before the 401', async () => {
      emulator().setGrants('carol', [{ resourceCode: 'order:7', actions: ['order:Create'] }]);
      const app = await start({ genauth: asyncModule(), controllers: [OrdersController] });
      const carol = await bearer('carol');
      expect((await request(app.url).post('/api/v1/orders').set('authorization', carol).send({ id: 7 })).status).toBe(200);
      expectProblem(await request(app.url).post('/api/v1/orders').set('authorization', carol).send({ id: 8 }), 403, 'ERR_PERMISSION_DENIED');
      // No token, a body the platform cannot parse: refused by the platform, the guard never runs.
      const malformed = await request(app.url).post('/api/v1/orders').set('content-type', 'application/json').send('{bad');
      expect(malformed.status).toBe(400);
      expect(malformed.headers['www-authenticate']).toBeUndefined();
    });
  });

  describe('secure by default', () => {
    it('an undecorated route is denied to an authenticated caller (403)', async () => {
      const res = await http().get('/api/v1/servers/1').set('authorization', await bearer('alice'));
      expectProblem(res, 403, 'ERR_PERMISSION_DENIED');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"');
    });

    it('an undecorated route still authenticates first (401 without a token)', async () => {
      const res = await http().get('/api/v1/servers/1');
      expectProblem(res, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it("defaultPolicy 'authenticate' lets any valid token through undecorated routes", async () => {
      const lenient = await start({ genauth: asyncModule({ defaultPolicy: 'authenticate' }) });
      expect((await request(lenient.url).get('/api/v1/servers/1').set('authorization', await bearer('nobody'))).status).toBe(200);
      expect((await request(lenient.url).get('/api/v1/servers/1')).status).toBe(401);
    });

    it('@Public() on a class opens its handlers without a token', async () => {
      const res = await http().get('/api/v1/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
    });

    it('@Public() on a handler overrides the class requirement, and reads no token', async () => {
      const res = await http().get('/api/v1/reports/summary').set('authorization', 'Bearer not.a.jwt');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, user: null });
    });

    it('@RequirePermission on a handler overrides a public class', async () => {
      expectProblem(await http().get('/api/v1/health/deep'), 401, 'ERR_MISSING_TOKEN');
      expectProblem(await http().get('/api/v1/health/deep').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
      expect((await http().get('/api/v1/health/deep').set('authorization', await bearer('bob'))).status).toBe(200);
    });

    it('an unknown route is still a 404, not a guard answer', async () => {
      const res = await http().get('/api/v1/nowhere');
      expect(res.status).toBe(404);
    });
  });

  describe('tokens', () => {
    it('no token: 401 with a bare challenge', async () => {
      const res = await http().get('/api/v1/reports');
      expectProblem(res, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it.each([
      ['malformed', async () => 'Bearer not.a.jwt', 'The token is malformed'],
      ['expired', async () => bearer('alice', { expiresIn: -120 }), 'The token has expired'],
      ['another audience', async () => bearer('alice', { audience: 'other-app' }), undefined],
    ])('%s token: 401 invalid_token', async (_label, make, description) => {
      const res = await http().post('/api/v1/servers/1/start').set('authorization', await make());
      expectProblem(res, 401, 'ERR_INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
      if (description) expect(res.headers['www-authenticate']).toContain(`error_description="${description}"`);
    });

    it('a malformed Bearer header: 400 invalid_request', async () => {
      const res = await http().get('/api/v1/reports').set('authorization', 'Bearer a b');
      expectProblem(res, 400, 'ERR_INVALID_REQUEST');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    });

    it('HEAD on a protected GET route: the same 401 headers, no body', async () => {
      const res = await http().head('/api/v1/reports');
      expectProblem(res, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(res.text ?? '').toBe('');
    });

    it('HEAD with a token is decided like GET', async () => {
      expectProblem(await http().head('/api/v1/health/deep').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
      expect((await http().head('/api/v1/reports').set('authorization', await bearer('alice'))).status).toBe(200);
      expect(handled).toBe(1);
    });

    it('a trailing slash reaches the same route and the same check', async () => {
      expectProblem(await http().post('/api/v1/servers/2/start/').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
      expectProblem(await http().get('/api/v1/servers/1/'), 401, 'ERR_MISSING_TOKEN');
      const allowed = await http().post('/api/v1/servers/1/start/').set('authorization', await bearer('alice'));
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
    });
  });

  describe('upstream outage', () => {
    it.each([
      ['HTTP 500', { kind: 'status', status: 500 }],
      ['HTTP 429', { kind: 'status', status: 429, retryAfter: 7 }],
      ['200 with an error body', { kind: 'body-error', statusCode: 500, message: 'internal upstream detail' }],
      ['dropped connection', { kind: 'drop' }],
    ] as const)('%s -> 503 with Retry-After, never 401/403', async (_label, fault) => {
      emulator().fault({ ...fault, path: RESOURCES } as never);
      const res = await http().get('/api/v1/reports').set('authorization', await bearer('alice'));
      expectProblem(res, 503, 'ERR_PERMISSIONS_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.text + JSON.stringify(res.headers)).not.toMatch(/upstream detail|emulator-secret/);
      expect(res.text).not.toContain(emulator().accessKeySecret);
    });

    it('an undecorated route during an outage: still 401 without a token, 403 with one (no upstream call)', async () => {
      emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
      expectProblem(await http().get('/api/v1/servers/1').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
      expect(emulator().callCount(RESOURCES)).toBe(0);
    });

    it('JWKS unreachable is 503, not 401', async () => {
      emulator().setJwksAvailable(false);
      const res = await http().get('/api/v1/reports').set('authorization', await bearer('alice'));
      expectProblem(res, 503, 'ERR_KEYS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
    });
  });

  describe('API mode (module option), on the full path with global prefix and version', () => {
    let api: StartedNestApp;
    beforeEach(async () => {
      emulator().setGrants('alice', [
        { resourceCode: 'ecs:1', actions: ['ecs:Start'] },
        { resourceCode: 'server', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers/:id' },
        { resourceCode: 'server-9', resourceType: 'API', actions: ['*'], apiIdentifier: '/api/v1/servers/9', effect: 'DENY' },
        { resourceCode: 'start', resourceType: 'API', actions: ['create'], apiIdentifier: '/api/v1/servers/:id/start' },
      ]);
      // Bob's grant omits the prefix and version Nest adds: it must not match.
      emulator().setGrants('bob', [{ resourceCode: 'server', resourceType: 'API', actions: ['read'], apiIdentifier: '/servers/:id' }]);
      api = await start({ genauth: asyncModule({ api: { publicPaths: ['/api/v1/me'] } }) });
    });

    it('decides an undecorated route by the API grant instead of denying it', async () => {
      const res = await request(api.url).get('/api/v1/servers/1').set('authorization', await bearer('alice'));
      expect(res.status).toBe(200);
      expect(handled).toBe(1);
    });

    it('matches the concrete path: a grant without the prefix and version does not apply', async () => {
      expectProblem(await request(api.url).get('/api/v1/servers/1').set('authorization', await bearer('bob')), 403, 'ERR_PERMISSION_DENIED');
    });

    it('an API DENY overrides the pattern ALLOW', async () => {
      expectProblem(await request(api.url).get('/api/v1/servers/9').set('authorization', await bearer('alice')), 403, 'ERR_PERMISSION_DENIED');
    });

    it('no token: 401 before any grant lookup', async () => {
      const res = await request(api.url).get('/api/v1/servers/1');
      expectProblem(res, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('@RequirePermission is checked on top of the API grant', async () => {
      const token = await bearer('alice');
      expectProblem(await request(api.url).post('/api/v1/servers/2/start').set('authorization', token), 403, 'ERR_PERMISSION_DENIED');
      const res = await request(api.url).post('/api/v1/servers/1/start').set('authorization', token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
    });

    it('@Public() skips API mode; a publicPaths entry skips it but not @Authenticated', async () => {
      expectProblem(await request(api.url).get('/api/v1/me'), 401, 'ERR_MISSING_TOKEN');
      expect((await request(api.url).get('/api/v1/health')).status).toBe(200);
      expect((await request(api.url).get('/api/v1/me').set('authorization', await bearer('bob'))).status).toBe(200);
      expect(handled).toBe(2);
    });

    it('a parameter the router cannot decode gets the core\'s 400, not the platform\'s', async () => {
      const res = await request(api.url).get('/api/v1/servers/%ZZ').set('authorization', await bearer('alice'));
      expectProblem(res, 400, 'ERR_INVALID_REQUEST');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    });

    it('without API mode such a target stays the platform\'s 400 and reaches no handler', async () => {
      const res = await http().get('/api/v1/servers/%ZZ').set('authorization', await bearer('alice'));
      expect(res.status).toBe(400);
      expect(handled).toBe(0);
    });

    it('outage in API mode: 503', async () => {
      emulator().fault({ kind: 'status', status: 500, path: RESOURCES });
      expectProblem(await request(api.url).get('/api/v1/servers/1').set('authorization', await bearer('alice')), 503, 'ERR_PERMISSIONS_UNAVAILABLE');
    });

    it('a misspelt api option fails at bootstrap', async () => {
      await expect(start({ genauth: asyncModule({ api: { publicPath: ['/x'] } as never }) })).rejects.toThrow(/api\.publicPath/);
    });
  });

  describe('module wiring', () => {
    it('forRoot plus useGenAuthEmulator: the emulator replaces the configured tenant, the kit overrides grants', async () => {
      const app = await start({
        genauth: GenAuthGuardModule.forRoot({
          genauth: { host: 'http://127.0.0.1:9', userPoolId: 'prod-pool', accessKeySecret: 'prod-secret-not-used' },
          jwt: { secret: 'a-production-secret-of-enough-length!!', algorithms: ['HS256'] },
          defaultPolicy: 'deny',
        }),
        configure: (builder) => useGenAuthEmulator(builder, emulator()),
      });
      const kit = genauthTestKit(app.app, emulator());
      const token = await kit.bearer('dave');
      expect((await request(app.url).get('/api/v1/reports').set('authorization', token)).status).toBe(403);
      kit.setGrants('dave', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
      expect((await request(app.url).get('/api/v1/reports').set('authorization', token)).status).toBe(200);
      // defaultPolicy survived the override: undecorated is still denied.
      expect((await request(app.url).get('/api/v1/servers/1').set('authorization', token)).status).toBe(403);
    });

    it("the platform's middleware and async onSend hooks still apply to the guard's answer", async () => {
      const app = await start({
        genauth: asyncModule(),
        beforeListen: (nest) => {
          nest.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
            res.setHeader('x-before', '1');
            next();
          });
          if (platform === 'fastify') {
            const fastify = nest.getHttpAdapter().getInstance() as import('fastify').FastifyInstance;
            fastify.addHook('onSend', async (_request, reply, payload) => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              reply.header('x-on-send', '1');
              return payload;
            });
          }
        },
      });
      for (let i = 0; i < 3; i++) {
        const res = await request(app.url).get('/api/v1/reports');
        expectProblem(res, 401, 'ERR_MISSING_TOKEN');
        expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
        expect(res.headers['x-before']).toBe('1');
        if (platform === 'fastify') expect(res.headers['x-on-send']).toBe('1');
      }
      expect((await request(app.url).get('/api/v1/reports').set('authorization', await bearer('alice'))).status).toBe(200);
    });

    it('closing the service by hand, then shutting the app down, is fine', async () => {
      const app = await start({ genauth: asyncModule() });
      await app.app.get(GenAuthService).close();
      await expect(app.close()).resolves.toBeUndefined();
    });

    it('GenAuthService is injectable and decides outside HTTP', async () => {
      const service = started.app.get(GenAuthService);
      await expect(service.check({ userId: 'alice', resource: 'ecs:1', action: 'ecs:Start' })).resolves.toMatchObject({ allowed: true });
      await expect(service.check({ userId: 'alice', resource: 'disk:9', action: 'disk:Delete' })).resolves.toMatchObject({
        allowed: false,
        reason: 'denied',
      });
    });

    it('globalGuard: false leaves routes alone unless @UseGuards(GenAuthGuard)', async () => {
      const app = await start({
        genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), globalGuard: false }),
        controllers: [GuardedController, UnguardedController],
      });
      expect((await request(app.url).get('/api/v1/unguarded')).status).toBe(200);
      const denied = await request(app.url).get('/api/v1/guarded');
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect((await request(app.url).get('/api/v1/guarded').set('authorization', await bearer('alice'))).status).toBe(200);
    });

    it('forRootAsync: a factory globalGuard that disagrees with the registration fails at bootstrap, never ignored', async () => {
      // Nest builds the providers (APP_GUARD or not) before the factory runs: its value cannot count.
      const contradicting = GenAuthGuardModule.forRootAsync({
        globalGuard: false,
        useFactory: () => ({ ...emulator().guardOptions(), globalGuard: true }),
      });
      await expect(start({ genauth: contradicting, controllers: [UnguardedController] })).rejects.toThrow(/globalGuard/);
      expect(handled).toBe(0);
      // Agreeing with the registration (or left out) is fine.
      const agreeing = GenAuthGuardModule.forRootAsync({ useFactory: () => ({ ...emulator().guardOptions(), globalGuard: true }) });
      const app = await start({ genauth: agreeing, controllers: [UnguardedController] });
      expect((await request(app.url).get('/api/v1/unguarded').set('authorization', await bearer('alice'))).status).toBe(403);
    });

    it('passErrors hands a GenAuthException (real status) to Nest instead of writing the answer', async () => {
      const app = await start({ genauth: asyncModule({ passErrors: true }) });
      const res = await request(app.url).get('/api/v1/reports');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ status: 401, code: 'ERR_MISSING_TOKEN' });
    });

    it('api: undefined (an unset variable) fails at bootstrap naming api, never runs without API mode', async () => {
      // Without API mode an @Authenticated route, or any route under defaultPolicy 'authenticate', needs a token only.
      await expect(start({ genauth: asyncModule({ api: undefined, defaultPolicy: 'authenticate' }) })).rejects.toThrow(/option "api" is set to undefined/);
      await expect(start({ genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), api: undefined }) })).rejects.toThrow(TypeError);
    });

    it('a configuration mistake fails at bootstrap with a TypeError naming the option', async () => {
      await expect(start({ genauth: asyncModule({ defaultPolicy: 'allow' as never }) })).rejects.toThrow(/defaultPolicy/);
      await expect(start({ genauth: asyncModule({ jwt: { algorithms: [] } as never }) })).rejects.toThrow(TypeError);
    });
  });
});

describe('Nest on platform-fastify, tested with app.inject()', () => {
  it('light-my-request, whose request is no IncomingMessage, is checked like a request over the network', async () => {
    seed();
    let handled = 0;
    const started = await startNestApp({ platform: 'fastify', handled: () => void handled++, genauth: asyncModule() });
    try {
      const app = started.app as INestApplication & { inject(options: object): Promise<{ statusCode: number; json(): unknown }> };
      const allowed = await app.inject({ method: 'POST', url: '/api/v1/servers/1/start', headers: { authorization: await bearer('alice') } });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json()).toEqual({ ok: true, user: 'alice', reason: 'allowed' });
      const denied = await app.inject({ method: 'POST', url: '/api/v1/servers/2/start', headers: { authorization: await bearer('alice') } });
      expect(denied.statusCode).toBe(403);
      const anonymous = await app.inject({ method: 'POST', url: '/api/v1/servers/1/start' });
      expect(anonymous.statusCode).toBe(401);
      expect(handled).toBe(1);
    } finally {
      await started.close();
    }
  });
});

describe('decorators', () => {
  it('two policies on one handler are refused at definition', async () => {
    const { Public, RequirePermission } = await import('../../src/adapters/nest/index.js');
    expect(() => {
      class Twice {
        @Public()
        @RequirePermission('reports', 'reports:Read')
        handler() {}
      }
      return Twice;
    }).toThrow(TypeError);
  });

  it('a malformed requirement is refused at definition', async () => {
    const { RequirePermission } = await import('../../src/adapters/nest/index.js');
    expect(() => RequirePermission('reports', { allOf: [] })).toThrow(TypeError);
    expect(() => RequirePermission('', 'reports:Read')).toThrow(TypeError);
  });
});

void STANDARD_CONTROLLERS;
