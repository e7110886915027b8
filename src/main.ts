import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { configureApp, createFastifyAdapter } from './app.setup.js';
import { armShutdownDeadline } from './common/lifecycle/shutdown-deadline.js';
import { AppConfig, ConfigValidationError, loadConfig } from './config/app-config.js';

async function bootstrap(): Promise<void> {
  // Validate the configuration before anything else so a bad variable stops the start plainly.
  let trustedProxies: string[];
  try {
    trustedProxies = loadConfig().trustedProxies;
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(), createFastifyAdapter(trustedProxies), { bufferLogs: true });
  await configureApp(app);
  const config = app.get(AppConfig);
  const logger = new Logger('Keysmith');
  armShutdownDeadline(app, { timeoutMs: config.shutdownTimeoutMs, logger: new Logger('Shutdown') });
  if (config.masterKeySource !== 'env') {
    logger.warn(
      `KEYSMITH_MASTER_KEY is not set: using the local key file in ${config.dataDir}. Production must set KEYSMITH_MASTER_KEY.`,
    );
  }
  await app.listen({ port: config.port, host: config.host });
  logger.log(`Keysmith listening on http://${config.host}:${config.port} (Swagger UI at /docs)`);
}

void bootstrap();
