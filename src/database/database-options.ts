import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { loadMigrations } from './migrations.loader.js';

/**
 * TypeORM options shared by the app and the TypeORM CLI. SQLite runs in WAL mode with a busy
 * timeout so that several Keysmith processes can share one database file.
 */
export async function databaseOptions(databasePath: string): Promise<DataSourceOptions> {
  const file = resolve(databasePath);
  mkdirSync(dirname(file), { recursive: true });
  return {
    type: 'sqlite',
    database: file,
    enableWAL: true,
    busyTimeout: 10_000,
    synchronize: false,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    migrations: await loadMigrations(),
    logging: ['error'],
  };
}
