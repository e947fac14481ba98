/**
 * How the Nest policy decorators compose, on real apps over both platforms: class and handler policies,
 * two policies on one target, policies on a base controller's methods, and the guard applied twice
 * (global and `@UseGuards(GenAuthGuard)`). Every outcome is the documented one and fails closed.
 */
import 'reflect-metadata';
import { Catch, Controller, Get, Inject, Injectable, Next, Param, ParseIntPipe, Req, SetMetadata, UseGuards, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import diagnostics from 'node:diagnostics_channel';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Authenticated, GENAUTH_ROUTE_POLICY, GenAuth, GenAuthException, GenAuthGuard, GenAuthGuardModule, GenAuthService, Public, genauthContextOf, RequirePermission, type GenAuthContext } from '../../src/adapters/nest/index.js';
import type { RoutePolicy } from '../../src/adapters/nest/decorators.js';
import { PermissionDeniedError } from '../../src/errors.js';
import type { RequestLike } from '../../src/request.js';
import { HANDLED, startNestApp, type Platform, type StartedNestApp } from './app.js';
import { bearerFor, RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

type Handled = () => void;

/** A base class with routes and policies of its own (not itself a controller). */
class BaseReports {
  constructor(@Inject(HANDLED) protected readonly handled: Handled) {}

  /** Inherited as is by the subclasses: route and requirement alike. */
  @Get('admin')
  @RequirePermission('reports', 'reports:Admin')
  admin(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return { ok: true, user: auth.identity.userId };
  }

  /** Overridden below without a policy. */
  @Get('read')
  @RequirePermission('reports', 'reports:Read')
  read() {
    this.handled();
    return { ok: true };
  }
}

/** A public subclass: the base handler's own requirement still wins over the subclass's @Public(). */
@Controller('inherited-public')
@Public()
class PublicSubclass extends BaseReports {}

/** An override re-declares the route but no policy: it has the class's policy, here the default (deny). */
@Controller('inherited-override')
class OverridingSubclass extends BaseReports {
  @Get('read')
  override read() {
    this.handled();
    return { ok: true, overridden: true };
  }
}

/** The guard is global and also applied to this controller. */
@Controller('twice')
@UseGuards(GenAuthGuard)
class TwiceGuardedController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  @RequirePermission('reports', 'reports:Read')
  read(@GenAuth() auth: GenAuthContext) {
    this.handled();
    return { ok: true, user: auth.identity.userId };
  }
}

/** A subclass that asks more than GenAuthGuard (only bob passes): applied beside the global guard, it must still run. */
@Injectable()
class BobOnlyGuard extends GenAuthGuard {
  protected override async evaluate(policy: RoutePolicy | undefined, request: RequestLike, native: unknown): Promise<GenAuthContext | null> {
    const context = await super.evaluate(policy, request, native);
    if (context?.identity.userId !== 'bob') throw new PermissionDeniedError('', [], 'api');
    return context;
  }
}

/** The global guard, then a subclass of it on the handler. */
@Controller('stricter')
class StricterGuardedController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  @Get()
  @UseGuards(BobOnlyGuard)
  @RequirePermission('reports', 'reports:Read')
  read() {
    this.handled();
    return { ok: true };
  }
}

/**
 * Policies written under the decorators' key by app code (Nest's `SetMetadata`, a hand-made decorator),
 * not by `@RequirePermission`/`@Public`/`@Authenticated`: each malformed one, on a `@Public()` class.
 */
const MALFORMED_POLICIES: Array<[string, unknown]> = [
  ['a permission without a spec', { kind: 'permission' }],
  ['a permission whose spec asks for no action', { kind: 'permission', spec: { resolve: () => 'reports', requirement: { mode: 'allOf', actions: [] }, route: {} } }],
  ['a permission whose spec has no resource function', { kind: 'permission', spec: { resolve: 'reports', requirement: { mode: 'allOf', actions: ['reports:Admin'] }, route: {} } }],
  ['an unknown kind', { kind: 'Permission' }],
  ['a bare string', 'public'],
  ['null', null],
];

@Controller('malformed')
@Public()
class MalformedPolicyController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}
}
MALFORMED_POLICIES.forEach(([, policy], i) => {
  const handler = function (this: MalformedPolicyController) {
    (this as unknown as { handled: Handled }).handled();
    return { ok: true };
  };
  Object.defineProperty(MalformedPolicyController.prototype, `h${i}`, { value: handler, configurable: true, writable: true });
  const descriptor = Object.getOwnPropertyDescriptor(MalformedPolicyController.prototype, `h${i}`)!;
  Get(String(i))(MalformedPolicyController.prototype, `h${i}`, descriptor);
  SetMetadata(GENAUTH_ROUTE_POLICY, policy)(MalformedPolicyController.prototype, `h${i}`, descriptor);
});

const PLATFORMS: Platform[] = ['express', 'fastify'];

describe.each(PLATFORMS)('Nest on platform-%s', (platform) => {
  let app: StartedNestApp;
  let handled = 0;
  const decisions: unknown[] = [];
  const onDecision = (event: unknown) => void decisions.push(event);
  const records: unknown[] = [];

  beforeAll(async () => {
    diagnostics.subscribe('genauth-guard:decision', onDecision);
    app = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), onDecision: (record) => void records.push(record) }),
      handled: () => void handled++,
      controllers: [PublicSubclass, OverridingSubclass, TwiceGuardedController, StricterGuardedController, MalformedPolicyController],
    });
  });
  afterAll(async () => {
    diagnostics.unsubscribe('genauth-guard:decision', onDecision);
    await app?.close();
  });
  beforeEach(async () => {
    seedStandardTenant(emulator());
    await app.app.get(GenAuthService).invalidateAll();
    handled = 0;
    decisions.length = 0;
    records.length = 0;
    emulator().resetCalls();
  });

  const get = async (path: string, user?: string) => {
    const req = request(app.url).get(`/api/v1${path}`);
    return user === undefined ? req : req.set('authorization', await bearerFor(emulator(), user));
  };

  describe('a base controller method', () => {
    it("keeps its route and requirement in a @Public() subclass (the handler's policy wins)", async () => {
      expect((await get('/inherited-public/admin')).status).toBe(401);
      expect((await get('/inherited-public/admin', 'alice')).status).toBe(403);
      expect(handled).toBe(0);
      emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Admin'] }]);
      await app.app.get(GenAuthService).invalidateUser('alice');
      const ok = await get('/inherited-public/admin', 'alice');
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ ok: true, user: 'alice' });
    });

    it("an override without a policy has the class's (here none: the default deny), not the base method's", async () => {
      expect((await get('/inherited-override/read')).status).toBe(401);
      // alice holds reports:Read, which the base method asked for: the override is closed regardless.
      expect((await get('/inherited-override/read', 'alice')).status).toBe(403);
      expect(handled).toBe(0);
      // The inherited, not overridden, handler keeps its own requirement.
      expect((await get('/inherited-override/admin', 'alice')).status).toBe(403);
    });
  });

  describe('a policy under the decorators\' key that none of them wrote (SetMetadata by app code)', () => {
    it.each(MALFORMED_POLICIES.map(([label], i) => [label, i] as const))('%s: refused with 500, with or without a token, never let through', async (_label, i) => {
      const answers = [];
      for (const user of [undefined, 'alice', 'bob']) {
        const res = await get(`/malformed/${i}`, user);
        answers.push([res.status, res.headers['content-type'], res.status === 500 ? JSON.parse(res.text).code : undefined]);
      }
      expect({ answers, handled }).toEqual({ answers: Array(3).fill([500, 'application/problem+json', 'ERR_INTERNAL']), handled: 0 });
    });
  });

  describe('the guard applied globally and with @UseGuards(GenAuthGuard)', () => {
    it('a refusal is answered once, by the first run; the handler does not run', async () => {
      const res = await get('/twice');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.text)).toMatchObject({ status: 401, code: 'ERR_MISSING_TOKEN' });
      const denied = await get('/twice', 'bob');
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.text)).toMatchObject({ status: 403 });
      expect(decisions).toHaveLength(1);
      expect(records).toHaveLength(1);
      expect(handled).toBe(0);
    });

    it('an allowed request is decided once: one onDecision record, one decision event, the grants fetched once', async () => {
      for (let i = 1; i <= 2; i++) {
        const res = await get('/twice', 'alice');
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: true, user: 'alice' });
        expect(handled).toBe(i);
        expect(records).toHaveLength(i);
        expect(decisions).toHaveLength(i);
      }
      expect(records).toEqual([expect.objectContaining({ userId: 'alice', allowed: true }), expect.objectContaining({ userId: 'alice', allowed: true })]);
      expect(emulator().callCount(RESOURCES)).toBe(1);
    });

    it('a subclass of GenAuthGuard on the handler still runs after the global guard allowed: its own refusal stands', async () => {
      const res = await get('/stricter', 'alice');
      expect(res.status).toBe(403);
      expect(handled).toBe(0);
      expect(records).toHaveLength(2); // the global guard's, then the subclass's own check
    });
  });
});

/**
 * Express only: a handler that calls `next()` (`@Next()`) hands the request to the next matching route,
 * another Nest route with its own params, which Nest guards again. One class policy covers both.
 */
@Controller('chain')
@RequirePermission((req) => `disk:${req.params.id}`, 'disk:Delete')
class ChainController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  /** Matches /chain/8/9 with id 8, and passes on. */
  @Get(':id/:other')
  first(@Next() next: () => void) {
    next();
  }

  /** Matches /chain/8/9 with id 9. */
  @Get(':other/:id')
  second(@Req() req: { params: Record<string, string> }) {
    this.handled();
    return { ok: true, id: req.params.id };
  }
}

describe('Nest on platform-express: a route reached through next() from another', () => {
  let app: StartedNestApp;
  let handled = 0;
  beforeAll(async () => {
    app = await startNestApp({ platform: 'express', genauth: GenAuthGuardModule.forRoot(emulator().guardOptions()), handled: () => void handled++, controllers: [ChainController] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is checked with its own params: the first route\'s allowed resource does not carry over', async () => {
    seedStandardTenant(emulator()); // alice: disk:* but DENY disk:9
    const token = await bearerFor(emulator(), 'alice');
    const denied = await request(app.url).get('/api/v1/chain/8/9').set('authorization', token);
    expect(denied.status).toBe(403);
    expect(handled).toBe(0);
    const allowed = await request(app.url).get('/api/v1/chain/9/8').set('authorization', token);
    expect(allowed.status).toBe(403); // the first route (disk:9) refuses already
    const both = await request(app.url).get('/api/v1/chain/7/8').set('authorization', token);
    expect(both.status).toBe(200);
    expect(both.body).toEqual({ ok: true, id: '8' });
    expect(handled).toBe(1);
  });
});

/** What `@GenAuth()` hands a public handler and a protected one. */
@Controller('whoami')
class WhoamiController {
  @Get('public')
  @Public()
  open(@GenAuth() auth: GenAuthContext | undefined, @GenAuth('identity') identity: unknown) {
    return { auth: auth ?? null, identity: identity ?? null };
  }

  @Get('public-by-function')
  @Public()
  openByFunction(@Req() req: unknown) {
    return { auth: genauthContextOf(req) ?? null };
  }

  @Get('protected')
  @RequirePermission('reports', 'reports:Read')
  guarded(@GenAuth('identity') identity: { userId: string }) {
    return { user: identity.userId };
  }
}

describe.each(PLATFORMS)('Nest on platform-%s: a `genauth` set on the request before the guard', (platform) => {
  let app: StartedNestApp;
  const forged = { identity: { userId: 'admin', claims: {} }, decision: { allowed: true, reason: 'allowed' } };
  beforeAll(async () => {
    app = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot(emulator().guardOptions()),
      handled: () => undefined,
      controllers: [WhoamiController],
      // App code ahead of the guard (an Express middleware, a Fastify hook) writing `genauth` on the
      // request Nest hands the handler, e.g. copied from client input.
      beforeListen: (nest) => {
        if (platform === 'express') {
          nest.use((req: { genauth?: unknown }, _res: unknown, next: () => void) => {
            req.genauth = forged;
            next();
          });
        } else {
          const fastify = nest.getHttpAdapter().getInstance() as import('fastify').FastifyInstance;
          fastify.addHook('onRequest', async (req) => {
            (req as { genauth?: unknown }).genauth = forged;
          });
        }
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is not what @GenAuth() gives a @Public() handler: only what the guard attached counts', async () => {
    const res = await request(app.url).get('/api/v1/whoami/public');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ auth: null, identity: null });
  });

  it('is not what genauthContextOf(request) returns on a @Public() route either', async () => {
    const res = await request(app.url).get('/api/v1/whoami/public-by-function');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ auth: null });
  });

  it('is replaced by the verified identity on a protected route', async () => {
    seedStandardTenant(emulator());
    const res = await request(app.url).get('/api/v1/whoami/protected').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: 'alice' });
  });
});

/** Guards run before pipes: a resource function reads the raw params, the handler the piped ones. */
@Controller('disks')
class PipedDisksController {
  constructor(@Inject(HANDLED) private readonly handled: Handled) {}

  /** The resource from the raw param: `09` names `disk:09`, while ParseIntPipe hands the handler 9. */
  @Get('raw/:id')
  @RequirePermission((req) => `disk:${req.params.id}`, 'disk:Delete')
  raw(@Param('id', ParseIntPipe) id: number) {
    this.handled();
    return { id };
  }

  /** As docs/nest.md advises: the resource function reads the param as the pipe does. */
  @Get('parsed/:id')
  @RequirePermission((req) => `disk:${/^-?\d+$/.test(req.params.id ?? '') ? Number.parseInt(req.params.id!, 10) : req.params.id}`, 'disk:Delete')
  parsed(@Param('id', ParseIntPipe) id: number) {
    this.handled();
    return { id };
  }
}

/** A filter that answers 200 to every GenAuthException. */
@Catch(GenAuthException)
class SwallowingFilter implements ExceptionFilter {
  catch(_exception: GenAuthException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ code?: (s: number) => { send(b: unknown): void }; status?: (s: number) => { json(b: unknown): void } }>();
    if (typeof response.code === 'function') response.code(200).send({ swallowed: true });
    else response.status!(200).json({ swallowed: true });
  }
}

describe.each(PLATFORMS)('Nest on platform-%s: pipes and exception filters around the guard', (platform) => {
  let handled = 0;
  const apps: StartedNestApp[] = [];
  const start = async (passErrors: boolean) => {
    const app = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), passErrors }),
      handled: () => void handled++,
      controllers: [PipedDisksController],
      beforeListen: (nest) => nest.useGlobalFilters(new SwallowingFilter()),
    });
    apps.push(app);
    return app;
  };
  beforeEach(() => {
    seedStandardTenant(emulator()); // alice: disk:* but DENY disk:9
    handled = 0;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('a resource function reads the raw params: normalise as the pipe does, or `09` escapes a DENY on disk:9', async () => {
    const app = await start(false);
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app.url).get('/api/v1/disks/raw/9').set('authorization', token)).status).toBe(403);
    // The documented pitfall: disk:09 is not disk:9, and the handler gets 9.
    expect((await request(app.url).get('/api/v1/disks/raw/09').set('authorization', token)).body).toEqual({ id: 9 });
    for (const id of ['9', '09', '009']) expect((await request(app.url).get(`/api/v1/disks/parsed/${id}`).set('authorization', token)).status).toBe(403);
    expect((await request(app.url).get('/api/v1/disks/parsed/08').set('authorization', token)).body).toEqual({ id: 8 });
  });

  it("a filter cannot turn the guard's written refusal into a 200; with passErrors it answers, and the handler never runs", async () => {
    const written = await start(false);
    const res = await request(written.url).get('/api/v1/disks/raw/9').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const passed = await start(true);
    const swallowed = await request(passed.url).get('/api/v1/disks/raw/9');
    expect(swallowed.status).toBe(200);
    expect(swallowed.body).toEqual({ swallowed: true });
    expect(handled).toBe(0);
  });
});

describe('two policies on one target are refused at definition, in either order', () => {
  const cases: Array<[string, () => unknown]> = [
    ['@Authenticated + @RequirePermission on a handler', () => {
      class C {
        @Authenticated()
        @RequirePermission('reports', 'reports:Read')
        h() {}
      }
      return C;
    }],
    ['@RequirePermission + @Authenticated on a handler', () => {
      class C {
        @RequirePermission('reports', 'reports:Read')
        @Authenticated()
        h() {}
      }
      return C;
    }],
    ['two @RequirePermission on a handler', () => {
      class C {
        @RequirePermission('reports', 'reports:Read')
        @RequirePermission('reports', 'reports:Admin')
        h() {}
      }
      return C;
    }],
    ['two @RequirePermission on a class', () => {
      @RequirePermission('reports', 'reports:Read')
      @RequirePermission('reports', 'reports:Admin')
      class C {}
      return C;
    }],
    ['@Public + @Authenticated on a class', () => {
      @Public()
      @Authenticated()
      class C {}
      return C;
    }],
  ];
  it.each(cases)('%s', (_name, define) => {
    expect(define).toThrow(TypeError);
    expect(define).toThrow(/more than one of @RequirePermission\/@Public\/@Authenticated/);
  });

  it('a subclass may have its own class policy over its base class\'s (it overrides, as on a handler)', () => {
    @RequirePermission('reports', 'reports:Read')
    class Base {}
    expect(() => {
      @Public()
      class Sub extends Base {}
      return Sub;
    }).not.toThrow();
  });
});
