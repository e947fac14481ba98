// A minimal ConfigModule: reads the environment once, explicitly. In a real app this is usually
// @nestjs/config's ConfigModule/ConfigService; GenAuthGuardModule.forRootAsync works the same with it.
import { Inject, Injectable, Module } from '@nestjs/common';
// In your app: import type { GenAuthModuleOptions } from 'genauth-guard/nest';
import type { GenAuthModuleOptions } from '../../src/adapters/nest/index.js';

export const ENV = 'APP_ENV';

@Injectable()
export class AppConfig {
  constructor(@Inject(ENV) private readonly env: Record<string, string | undefined>) {}

  private required(name: string): string {
    const value = this.env[name];
    if (!value) throw new Error(`Set ${name}`);
    return value;
  }

  /** The guard options, from GENAUTH_* variables. */
  genauth(): GenAuthModuleOptions {
    return {
      genauth: {
        host: this.env.GENAUTH_HOST ?? 'https://api.genauth.ai',
        userPoolId: this.required('GENAUTH_USER_POOL_ID'),
        accessKeyId: this.env.GENAUTH_ACCESS_KEY_ID,
        accessKeySecret: this.required('GENAUTH_ACCESS_KEY_SECRET'),
      },
      jwt: {
        jwksUri: this.required('GENAUTH_JWKS_URI'),
        issuer: this.required('GENAUTH_ISSUER'),
        audience: this.required('GENAUTH_AUDIENCE'),
        algorithms: ['RS256'],
      },
    };
  }
}

@Module({ providers: [{ provide: ENV, useValue: process.env }, AppConfig], exports: [AppConfig] })
export class ConfigModule {}
