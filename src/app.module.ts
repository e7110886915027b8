import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream } from 'pino';
import { AccessLog, LOG_DESTINATION } from './common/logging/access-log.js';
import { ApiKeysModule } from './api-keys/index.js';
import { AuditModule } from './audit/index.js';
import { AuthModule } from './auth/index.js';
import { loggerOptions } from './common/logging/logger.options.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/index.js';
import { KeycloakModule } from './keycloak/index.js';
import { CoreModule } from './core.module.js';
import { ChangesModule } from './common/changes/index.js';
import { RedisModule } from './common/redis/redis.module.js';
import { ServiceAccountsModule } from './service-accounts/index.js';
import { SecretsModule } from './secrets/index.js';
import { WebhooksModule } from './webhooks/index.js';
import { JobsModule } from './jobs/index.js';
import { ScheduleModule } from '@nestjs/schedule';
import { GitopsModule } from './gitops/index.js';
import { TokenExchangeModule } from './token-exchange/index.js';
import { PortBindingsModule } from './app.ports.js';

export interface AppModuleOptions {
  /** Where log lines go; tests capture them to check that no secret is ever logged. */
  logStream?: DestinationStream;
}

/** The whole Keysmith service. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions = {}): DynamicModule {
    // One destination for the application logger and the access log, so their lines never interleave.
    const destination = options.logStream ?? pino.destination(1);
    return {
      module: AppModule,
      providers: [{ provide: LOG_DESTINATION, useValue: destination }, AccessLog],
      exports: [AccessLog],
      imports: [
        ConfigModule,
        CoreModule,
        LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: (config: AppConfig) => loggerOptions(config, destination) }),
        DatabaseModule,
        RedisModule,
        ChangesModule,
        HealthModule,
        KeycloakModule,
        AuditModule,
        SecretsModule,
        WebhooksModule,
        ScheduleModule.forRoot(),
        JobsModule,
        ServiceAccountsModule,
        GitopsModule,
        ApiKeysModule,
        TokenExchangeModule,
        AuthModule,
        PortBindingsModule,
      ],
    };
  }
}
