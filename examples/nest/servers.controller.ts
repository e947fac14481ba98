import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
// In your app: import { ... } from 'genauth-guard/nest';
import { GenAuth, Public, RequirePermission, type GenAuthContext, type Identity } from '../../src/adapters/nest/index.js';

@Controller('servers')
export class ServersController {
  /** Needs `ecs:Start` on the resource `ecs:<id>`. */
  @Post(':id/start')
  @HttpCode(200)
  @RequirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start')
  start(@Param('id') id: string, @GenAuth() auth: GenAuthContext) {
    return { started: id, by: auth.identity.userId };
  }

  /** Either action is enough. */
  @Get()
  @RequirePermission('servers', { anyOf: ['ecs:List', 'ecs:Admin'] })
  list(@GenAuth('identity') identity: Identity) {
    return { servers: [], for: identity.userId };
  }

  /** No decorator: denied (403) to everyone, because the guard is secure by default. */
  @Get('forgotten')
  forgotten() {
    return { oops: true };
  }
}

@Controller('health')
@Public()
export class HealthController {
  @Get()
  health() {
    return { ok: true };
  }
}
