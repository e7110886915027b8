import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig, loadConfig } from './app-config.js';

/** Loads `.env` (if present) into the environment and provides the validated AppConfig. */
@Global()
@Module({
  imports: [NestConfigModule.forRoot({ cache: true })],
  providers: [{ provide: AppConfig, useFactory: () => loadConfig(process.env) }],
  exports: [AppConfig],
})
export class ConfigModule {}
