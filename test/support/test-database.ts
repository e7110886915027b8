import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { databaseConfigFromEnv } from '../../src/config/database-config.js';
import { databaseOptions, openDataSource } from '../../src/database/database-options.js';
import { Sql } from '../../src/database/sql.js';

/**
 * The e2e suites run on SQLite (default) or PostgreSQL: with `DATABASE_URL=postgres://...` in the
 * environment (scripts/postgres.sh prints one; its role may create databases), every data
 * directory gets a database of its own on that server, created on first use, so suites and apps
 * never see each other's rows. Several apps or processes given the same data directory share it,
 * as they share one SQLite file.
 */
export function serverUrl(): string | undefined {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

/**
 * A PostgreSQL server for suites that need one whatever the engine of the run (the SQLite-to-
 * PostgreSQL copy): DATABASE_URL when it names one, else KEYSMITH_TEST_POSTGRES_URL (scripts/test.sh
 * sets it for both runs). Without either, such a suite fails saying how to start one.
 */
export function postgresServerUrl(): string {
  const url = serverUrl() ?? process.env.KEYSMITH_TEST_POSTGRES_URL;
  if (!url) throw new Error('this suite needs PostgreSQL: eval "$(bash scripts/postgres.sh start)" and export KEYSMITH_TEST_POSTGRES_URL=$DATABASE_URL');
  return url;
}

export function onPostgres(): boolean {
  return serverUrl() !== undefined;
}

/** The engine the suites run on, for test names and messages. */
export function engineName(): 'PostgreSQL' | 'SQLite' {
  return onPostgres() ? 'PostgreSQL' : 'SQLite';
}

function databaseName(dataDir: string): string {
  return `ks_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 20)}`;
}

/** `psql` on the server as the test role; statements that cannot run in a transaction go one per call. */
export function psql(admin: string, statement: string): string {
  return execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qtA'], { input: statement, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A URL of the same server with another database. */
export function withDatabase(url: string, database: string): string {
  const copy = new URL(url);
  copy.pathname = `/${database}`;
  return copy.toString();
}

/** Creates an empty database on the test server (a fresh target for a copy, for example); returns its URL. */
export function createDatabase(name: string): string {
  const admin = postgresServerUrl();
  psql(admin, `SELECT 'CREATE DATABASE "${name}"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${name}')\\gexec\n`);
  return withDatabase(admin, name);
}

export function dropDatabase(name: string): void {
  psql(postgresServerUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)\n`);
}

/** DATABASE_URL for the database of a data directory (created when missing). */
export function testDatabaseUrl(dataDir: string): string {
  return onPostgres() ? createDatabase(databaseName(dataDir)) : `sqlite:${join(dataDir, 'keysmith.sqlite')}`;
}

/** Drops the PostgreSQL database of a data directory (nothing to do on SQLite: the folder goes). */
export function dropTestDatabase(dataDir: string): void {
  if (onPostgres()) dropDatabase(databaseName(dataDir));
}

/**
 * Raw access to the database of a data directory, beside the processes using it: for a test that
 * reads rows behind Keysmith's back or moves a row's time. Write SQL for `Sql` (`?` placeholders).
 */
export async function withTestDatabase<T>(dataDir: string, body: (sql: Sql) => Promise<T>): Promise<T> {
  const options = await databaseOptions(databaseConfigFromEnv({ DATABASE_URL: testDatabaseUrl(dataDir) }));
  const db: DataSource = await openDataSource({ ...options, migrationsRun: false, migrations: [], poolSize: 2 } as typeof options);
  try {
    return await body(new Sql(db));
  } finally {
    await db.destroy();
  }
}
