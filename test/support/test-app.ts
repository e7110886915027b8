import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { configureApp, createFastifyAdapter } from '../../src/app.setup.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { Clock } from '../../src/common/time/clock.js';
import { TokenClock } from '../../src/auth/token-clock.js';
import { keycloakEnv } from './keycloak-env.js';
import { accountsMadeBy, removeClientsOf } from './keycloak-cleanup.js';
import { keysmithEnv } from './keysmith-env.js';
import { LogCapture } from './log-capture.js';
import { TestClock } from './test-clock.js';
import { dropTestDatabase } from './test-database.js';
import { httpRequest, type TestRequest, type TestResponse } from './http.js';
import { registerLogCapture, rememberSecret, suiteSecrets } from './secret-scan.js';
import { Random } from '../../src/common/random/random.js';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  clock: TestClock;
  logs: LogCapture;
  dataDir: string;
  /**
   * Every secret this suite saw (shared by all apps of the test file; see secret-scan.ts):
   * checked against all captured logs at the end of the suite.
   */
  secrets: Set<string>;
  baseUrl: string;
  /** A real HTTP request to this app over loopback. */
  inject(request: TestRequest): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (and so a database file), for several instances on one database. */
  dataDir?: string;
  clock?: TestClock;
  /**
   * Which clock judges the expiry of bearer tokens: `real` (default) keeps real Keycloak tokens
   * valid when a suite moves `clock` days ahead; `test` makes them expire with it.
   */
  tokenClock?: 'real' | 'test';
  /** The randomness source (sampling decisions); the real one by default. */
  randomness?: Random;
  /** Extra modules, such as test-only controllers, booted beside AppModule. */
  imports?: NonNullable<ModuleMetadata['imports']>;
}

/**
 * Boots the whole AppModule as production does (Fastify, filters, logging) against the real
 * Keycloak and a fresh database: a SQLite file, or a PostgreSQL database of its own when
 * DATABASE_URL names a server. Only the clock is replaced, so tests can move time.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keysmith-e2e-'));
  const seeded = keycloakEnv();
  const env = {
    ...process.env,
    // keysmithEnv turns the scheduler off: jobs run when a test starts them, not on their crons.
    ...keysmithEnv(dataDir, {
      KEYCLOAK_RETRY_BASE_MS: '20',
      LOG_LEVEL: 'debug',
      ...options.env,
    }),
  };
  const config = loadConfig(env);
  const clock = options.clock ?? new TestClock();
  const logs = new LogCapture();
  registerLogCapture(logs);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ logStream: logs }), ...(options.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(TokenClock)
    .useValue(options.tokenClock === 'test' ? clock : new Clock())
    .overrideProvider(Random)
    .useValue(options.randomness ?? new Random())
    .compile();
  const app = await configureApp(moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config.trustedProxies), { bufferLogs: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = await app.getUrl();
  rememberSecret(seeded.KEYCLOAK_CLIENT_SECRET, seeded.KEYSMITH_TEST_CLIENT_SECRET, config.masterKey.toString('hex'), config.masterKey.toString('base64'));
  const secrets = suiteSecrets();
  return {
    app,
    config,
    clock,
    logs,
    dataDir,
    secrets,
    baseUrl,
    inject: (request) => httpRequest(baseUrl, request),
    async close() {
      // The app that made the data directory removes what its accounts made in Keycloak too.
      const made = options.dataDir ? [] : await accountsMadeBy(app).catch(() => []);
      await app.close();
      if (!options.dataDir) {
        await removeClientsOf(made);
        dropTestDatabase(dataDir);
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
