import { DataSource, type DataSourceOptions } from 'typeorm';
import { adaptDriver } from '../../src/database/dialect.js';

/**
 * The schema changes the entities would still need beyond the migrations ([] when they match),
 * read on a DataSource of its own over the same database.
 *
 * Not on the app's DataSource: on SQLite every caller of that one shares a single query runner,
 * and each `DataSource.query()` (the webhook dispatcher's poll, leases, start-up checks) ends with
 * `release()`, which empties the runner's loaded tables and the SQL the schema builder collects.
 * A release landing between the builder's read of the tables and its comparison makes it propose
 * CREATE TABLE for tables that exist. A DataSource of its own has a runner nothing else touches.
 */
export async function pendingSchemaChanges(app: DataSource): Promise<string[]> {
  if (app.options.type === 'sqlite' && app.options.database === ':memory:') {
    throw new Error('pendingSchemaChanges needs a database file: an in-memory database cannot be opened twice');
  }
  // Adapted like the app's (dialect.ts): entities' `datetime` is `timestamptz` on PostgreSQL.
  const own = adaptDriver(
    new DataSource({
      ...app.options,
      entities: app.entityMetadatas.map((metadata) => metadata.target),
      migrationsRun: false,
      synchronize: false,
      logging: false,
    } as DataSourceOptions),
  );
  await own.initialize();
  try {
    return (await own.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);
  } finally {
    await own.destroy();
  }
}
