// A Nest app whose start fails after GenAuthService was built: another provider's onModuleInit throws
// (with abortOnError: false, app.init() rejects instead of exiting). Nest runs no shutdown hook then,
// so the guard stays open: with cache.redis its subscription (a duplicate of the app's client) stays
// connected, and a warm-up it began goes on. This pins the trap docs/nest.md describes, and the pattern
// it recommends: app.close() in the catch runs the shutdown hooks, which close the guard.
import 'reflect-metadata';
import { Injectable, Module, type INestApplication, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { afterEach, describe, expect, it } from 'vitest';
import { GenAuthGuardModule, GenAuthService } from '../../src/adapters/nest/index.js';
import { resetToAliceReading, useEmulator } from '../fixtures.js';
import { clients, freshPrefix, sharedOptions, until } from '../redis/harness.js';
import { ask, redisTestsRun, startRedisServer, type RedisServer } from '../redis/server.js';

const run = redisTestsRun('test/nest/failed-init.test.ts');

/** Connections redis-server has open besides the one asking. */
async function connections(port: number): Promise<number> {
  const list = await ask(port, 'CLIENT LIST');
  return list.split('\n').filter((line) => line.includes('id=')).length - 1;
}

@Injectable()
class FailingStart implements OnModuleInit {
  onModuleInit(): void {
    throw new Error('the database is down');
  }
}

describe.skipIf(!run)('a Nest app whose init fails after the guard was built', () => {
  const emulator = useEmulator();
  const open = clients();
  let redis: RedisServer | undefined;
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close().catch(() => {});
    app = undefined;
    open.closeAll();
    await redis?.stop();
    redis = undefined;
  });

  /** The app with the guard (cache.redis on the app's own client) and a provider whose onModuleInit throws; not started. */
  async function appFailingToStart(): Promise<{ app: INestApplication; service: GenAuthService }> {
    resetToAliceReading(emulator());
    redis = await startRedisServer();
    const client = await open.client(redis.url);
    const options = sharedOptions(emulator(), client, { redisPrefix: freshPrefix() });
    @Module({ imports: [GenAuthGuardModule.forRoot(options as never)], providers: [FailingStart] })
    class AppModule {}
    app = await NestFactory.create(AppModule, new ExpressAdapter(), { abortOnError: false, logger: false });
    return { app, service: app.get(GenAuthService) };
  }

  it('without app.close(): the guard stays open, its Redis subscription connected (the trap)', async () => {
    const { app, service } = await appFailingToStart();
    await expect(app.init()).rejects.toThrow('the database is down');
    await until(() => service.cacheStats().redis?.subscribed === true, 10_000, 'the subscription');
    expect(await connections(redis!.port)).toBe(2); // the app's client and the guard's subscription
  });

  it("app.close() in the catch closes the guard: only the app's own client stays connected, and the guard answers 503", async () => {
    const { app, service } = await appFailingToStart();
    const port = 0;
    const started = (async () => {
      // #region failed-start
      try {
        await app.listen(port);
      } catch (error) {
        await app.close(); // Nest closes nothing by itself when the start fails: this closes the guard
        throw error;
      }
      // #endregion failed-start
    })();
    await expect(started).rejects.toThrow('the database is down');
    await until(async () => (await connections(redis!.port)) === 1, 5000, 'the subscription closed');
    const refused = await service.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' }).then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });
});
