// The NestJS snippets of docs/nest.md, run by test/docs/examples.test.ts on the Express platform
// against the emulator. Constructor parameters name their token with @Inject, so the file needs no
// emitDecoratorMetadata (vitest's esbuild emits none).
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { GenAuthEmulator } from 'genauth-guard/testing';
// #region nest-imports
import { Controller, Get, HttpCode, Inject, Module, Post, Req, Res } from '@nestjs/common';
import { GenAuth, GenAuthGuardModule, GenAuthService, Public, RequirePermission, type GenAuthContext, type NestWebhookHandler } from 'genauth-guard/nest';
// #endregion nest-imports

// #region nest-controller
@Controller('servers')
export class ServersController {
  @Post(':id/start')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
  start(@GenAuth() auth: GenAuthContext) {
    return { by: auth.identity.userId };
  }

  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }
}
// #endregion nest-controller

// #region nest-webhook
@Controller('hooks')
export class HooksController {
  private readonly receive: NestWebhookHandler;
  constructor(@Inject(GenAuthService) genauth: GenAuthService) {
    this.receive = genauth.webhook({ secret: process.env.GENAUTH_WEBHOOK_SECRET! });
  }

  @Post('genauth')
  @Public()
  hook(@Req() req: unknown, @Res() res: unknown) {
    return this.receive(req, res);
  }
}
// #endregion nest-webhook

// #region nest-module
@Module({
  imports: [
    GenAuthGuardModule.forRootAsync({
      useFactory: () => ({
        genauth: {
          host: process.env.GENAUTH_HOST,
          userPoolId: process.env.GENAUTH_USER_POOL_ID!,
          accessKeySecret: process.env.GENAUTH_ACCESS_KEY_SECRET!,
        },
        jwt: {
          issuer: process.env.GENAUTH_ISSUER!,
          audience: process.env.GENAUTH_AUDIENCE!,
          jwksUri: process.env.GENAUTH_JWKS_URI!,
          algorithms: ['RS256'],
        },
      }),
    }),
  ],
  controllers: [ServersController, HooksController],
})
export class AppModule {}
// #endregion nest-module

/** The docs' test of the module above: the emulator replaces `genauth` and `jwt`, the rest stays. */
export async function nestTestingExample(emulator: GenAuthEmulator): Promise<INestApplication> {
  const { useGenAuthEmulator, genauthTestKit } = await import('genauth-guard/nest');
  // #region nest-testing
  const moduleRef = await useGenAuthEmulator(Test.createTestingModule({ imports: [AppModule] }), emulator).compile();
  const app = moduleRef.createNestApplication();
  await app.init();

  const kit = genauthTestKit(app, emulator);
  kit.setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]); // also drops the cached grants
  await request(app.getHttpServer()).post('/servers/1/start').set('authorization', await kit.bearer('alice')).expect(200);
  // #endregion nest-testing
  return app;
}
