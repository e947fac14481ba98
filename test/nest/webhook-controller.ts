/** The Nest test app's webhook route: a `@Public()` POST handing the request to `GenAuthService.webhook()`. */
import 'reflect-metadata';
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { GenAuthService, Public, type NestWebhookHandler } from '../../src/adapters/nest/index.js';
import type { WebhookOptions } from '../../src/webhooks/options.js';

/** Token of the webhook options the controller is built with. */
export const WEBHOOK_OPTIONS = 'TEST_WEBHOOK_OPTIONS';

@Controller('hooks')
export class WebhookController {
  private readonly receive: NestWebhookHandler;

  constructor(@Inject(GenAuthService) genauth: GenAuthService, @Inject(WEBHOOK_OPTIONS) options: WebhookOptions) {
    this.receive = genauth.webhook(options);
  }

  @Post('genauth')
  @Public()
  hook(@Req() request: unknown, @Res() response: unknown): Promise<void> {
    return this.receive(request, response);
  }
}
