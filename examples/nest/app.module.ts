import { Module } from '@nestjs/common';
// In your app: import { GenAuthGuardModule } from 'genauth-guard/nest';
import { GenAuthGuardModule } from '../../src/adapters/nest/index.js';
import { AppConfig, ConfigModule } from './config.js';
import { HealthController, ServersController } from './servers.controller.js';

@Module({
  imports: [
    // Registers the guard for every route (APP_GUARD); options come from the config provider.
    GenAuthGuardModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => config.genauth(),
    }),
  ],
  controllers: [ServersController, HealthController],
})
export class AppModule {}
