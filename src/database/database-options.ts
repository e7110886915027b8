import { makeDirectories } from '../common/fs/directories.js';
import { dirname, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { postgresTlsOptions, type DatabaseConfig } from '../config/database-config.js';
import { adaptDriver } from './dialect.js';
import { loadMigrations } from './migrations.loader.js';
import { PreparedStatementDatabase } from './sqlite-prepared.js';

/**
 * TypeORM options shared by the app, the TypeORM CLI and the copy command. SQLite runs in WAL
 * mode with a busy timeout so that several Keysmith processes can share one database file;
 * PostgreSQL gets a pool of DATABASE_POOL_SIZE connections, TLS per DATABASE_SSL, and `bigint`
 * values (epoch milliseconds of leases and the webhook outbox) as numbers.
 */
export async function databaseOptions(database: DatabaseConfig): Promise<DataSourceOptions> {
  const shared = {
    synchronize: false,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    migrations: await loadMigrations(),
    logging: ['error' as const],
  };
  if (database.type === 'postgres') {
    return {
      ...shared,
      type: 'postgres',
      url: database.url,
      ssl: postgresTlsOptions(database.ssl),
      poolSize: database.poolSize,
      applicationName: 'keysmith',
      parseInt8: true,
      connectTimeoutMS: 10_000,
    };
  }
  const file = resolve(database.path);
  makeDirectories(dirname(file));
  return { ...shared, type: 'sqlite', database: file, enableWAL: true, busyTimeout: 10_000, driver: QUIET_SQLITE3 };
}

/**
 * The sqlite3 module as TypeORM's driver, minus its verbose mode, with connections that keep their
 * statements prepared (PreparedStatementDatabase). TypeORM calls `verbose()` on the module it
 * loads, which wraps every statement to capture a stack trace (an Error built per query, a visible
 * share of a provisioning's CPU time). Errors still carry the statement that failed.
 */
const QUIET_SQLITE3 = { verbose: () => Object.create(sqlite3, { Database: { value: PreparedStatementDatabase } }) as typeof sqlite3 };

/**
 * A connected data source for these options, with the dialect adaptations (see dialect.ts) and,
 * on SQLite, `synchronous = NORMAL`: with WAL, a crash of Keysmith loses nothing; only a power
 * loss may drop the last commits. It makes each write several times cheaper than the default FULL.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = adaptDriver(new DataSource(options));
  await dataSource.initialize();
  if (dataSource.options.type === 'sqlite') await dataSource.query('PRAGMA synchronous = NORMAL');
  return dataSource;
}
