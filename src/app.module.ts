import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream } from 'pino';
import { AccessLog, LOG_DESTINATION } from './common/logging/access-log.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { loggerOptions } from './common/logging/logger.options.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { KeycloakModule } from './keycloak/keycloak.module.js';
import { CoreModule } from './core.module.js';
import { ServiceAccountsModule } from './service-accounts/service-accounts.module.js';
import { SecretsModule } from './secrets/secrets.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { ScheduleModule } from '@nestjs/schedule';
import { GitopsModule } from './gitops/gitops.module.js';
import { TokenExchangeModule } from './token-exchange/token-exchange.module.js';

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
      ],
    };
  }
}
