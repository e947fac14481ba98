/**
 * `unguardedRoutes(app)` for Nest on real apps (both platforms): the global guard covers every route,
 * `globalGuard: false` leaves only `@UseGuards(GenAuthGuard)` and `@Public()` routes covered, and
 * `app.useGlobalGuards` counts as global. Paths as Nest serves them (prefix `api`, version `v1`).
 */
import 'reflect-metadata';
import { Controller, Get, Post, UseGuards, Version } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { GenAuthGuard, GenAuthGuardModule, GenAuthService, Public, RequirePermission, unguardedRoutes, warnUnguarded } from '../../src/adapters/nest/index.js';
import { useEmulator } from '../fixtures.js';
import { GuardedController, HealthController, ServersController, UnguardedController, startNestApp, type Platform, type StartedNestApp } from './app.js';

const emulator = useEmulator();

/** Every way a handler can be (un)guarded, on one controller with no guard of its own. */
@Controller('mixed')
class MixedController {
  @Get('open')
  open() {
    return 'open';
  }

  @Post(['a', 'b'])
  twoPaths() {
    return 'two';
  }

  @Get('public')
  @Public()
  publicOne() {
    return 'public';
  }

  @Get('guarded')
  @UseGuards(GenAuthGuard)
  @RequirePermission('reports', 'reports:Read')
  guarded() {
    return 'guarded';
  }

  @Get('v2')
  @Version('2')
  versioned() {
    return 'v2';
  }

  helper() {
    return 'not a route';
  }
}

let started: StartedNestApp | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

describe.each<Platform>(['express', 'fastify'])('Nest on %s', (platform) => {
  it('the global guard (GenAuthGuardModule) covers every route', async () => {
    started = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot(emulator().guardOptions()),
      handled: () => {},
      controllers: [ServersController, UnguardedController, MixedController],
    });
    expect(unguardedRoutes(started.app)).toEqual([]);
  });

  it('globalGuard: false lists what neither @UseGuards(GenAuthGuard) nor @Public() covers', async () => {
    started = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), globalGuard: false }),
      handled: () => {},
      controllers: [GuardedController, UnguardedController, HealthController, MixedController],
    });
    expect(unguardedRoutes(started.app)).toEqual([
      { method: 'GET', path: '/api/v1/health/deep' },
      { method: 'POST', path: '/api/v1/mixed/a' },
      { method: 'POST', path: '/api/v1/mixed/b' },
      { method: 'GET', path: '/api/v1/mixed/open' },
      { method: 'GET', path: '/api/v1/unguarded' },
      { method: 'GET', path: '/api/v2/mixed/v2' },
    ]);
    const lines: string[] = [];
    warnUnguarded(started.app, { warn: (line) => lines.push(line) });
    expect(lines).toEqual([
      'genauth-guard: 6 route(s) with no guard: GET /api/v1/health/deep, POST /api/v1/mixed/a, POST /api/v1/mixed/b, GET /api/v1/mixed/open, GET /api/v1/unguarded, GET /api/v2/mixed/v2',
    ]);
  });

  it('app.useGlobalGuards(GenAuthGuard) counts as global', async () => {
    started = await startNestApp({
      platform,
      genauth: GenAuthGuardModule.forRoot({ ...emulator().guardOptions(), globalGuard: false }),
      handled: () => {},
      controllers: [UnguardedController, MixedController],
      prefixed: false,
      beforeListen: (app) => app.useGlobalGuards(app.get(GenAuthGuard)),
    });
    expect(unguardedRoutes(started.app)).toEqual([]);
    expect(started.app.get(GenAuthService)).toBeDefined();
  });
});
