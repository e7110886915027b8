import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { CliUsageError, requireOption, type CliCommand, type CliIo } from '../../common/cli/cli-command.js';
import { databaseConfigFromEnv, type PostgresDatabaseConfig } from '../../config/database-config.js';
import { databaseOptions, openDataSource } from '../database-options.js';
import { DatabaseCopy, DatabaseCopyRefused } from './database-copy.js';

/**
 * `keysmith database copy --from sqlite:PATH`: moves a Keysmith SQLite database into the empty
 * PostgreSQL database of DATABASE_URL (with DATABASE_SSL*), every table, then checks the counts,
 * the key hashes and the stored secrets. Needs no Keycloak. The source gets its pending migrations
 * first (as a start of Keysmith would give it); the target gets the same migrations.
 */
export const databaseCopyCommand: CliCommand = {
  name: 'database copy',
  summary: 'copy a SQLite database into the empty PostgreSQL database of DATABASE_URL, then verify it',
  usage: 'database copy --from sqlite:PATH   (target: DATABASE_URL=postgres://..., DATABASE_SSL...)',
  async run(args, io) {
    const from = requireOption(args, 'from').replace(/^sqlite:/, '');
    if (!existsSync(from)) throw new CliUsageError(`--from: no SQLite database at ${resolve(from)}`);
    const target = databaseConfigFromEnv(process.env);
    if (target.type !== 'postgres') throw new CliUsageError('DATABASE_URL must name the target PostgreSQL database (postgres://user:password@host:5432/database)');
    const source = await openDataSource(await databaseOptions({ type: 'sqlite', path: from }));
    let destination: DataSource | undefined;
    try {
      destination = await openTarget(target);
      return await copyInto(new DatabaseCopy(source, destination), destination, target, io);
    } catch (error) {
      if (!(error instanceof DatabaseCopyRefused)) throw error;
      io.err(`refused: ${error.message}; nothing was written`);
      return 1;
    } finally {
      await destination?.destroy();
      await source.destroy();
    }
  },
};

async function openTarget(target: PostgresDatabaseConfig): Promise<DataSource> {
  // Opened without migrations: an unknown non-empty database is refused before anything is created in it.
  return openDataSource({ ...(await databaseOptions(target)), migrationsRun: false, poolSize: 2 } as Awaited<ReturnType<typeof databaseOptions>>);
}

async function copyInto(copy: DatabaseCopy, destination: DataSource, target: PostgresDatabaseConfig, io: CliIo): Promise<number> {
  const report = await copy.whileSourceHeld(async () => {
    const tables = await copy.sourceTables();
    const live = await copy.liveLeases(Date.now());
    if (live.length > 0) throw new DatabaseCopyRefused(`a Keysmith process is working on the source (live leases: ${live.join(', ')}): stop every instance first`);
    await copy.checkTargetEmpty(tables);
    await destination.runMigrations({ transaction: 'each' });
    return copy.copy(tables);
  });
  for (const { table, rows } of report.tables) io.out(`${table.padEnd(24)} ${rows} rows`);
  io.out(`verified on ${target.display}: row counts of ${report.tables.length} tables, ${report.keyHashesMatched} API key hashes, ${report.secretsMatched} stored secrets match`);
  io.err('Start Keysmith with this DATABASE_URL and the same KEYSMITH_MASTER_KEY (or master.key file): stored client secrets are encrypted with it.');
  return 0;
}
