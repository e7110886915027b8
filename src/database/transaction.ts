import type { DataSource, EntityManager } from 'typeorm';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * A transaction on either engine. PostgreSQL gives each one a pooled connection of its own. SQLite
 * has one connection per process, on which a second BEGIN fails ("cannot start a transaction
 * within a transaction"), so this process's transactions on it run one after the other. Keep them
 * short: statements issued elsewhere meanwhile share SQLite's one connection.
 */
export function inTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (db.options.type === 'postgres') return db.transaction(work);
  const previous = sqliteQueues.get(db) ?? Promise.resolve();
  const run = previous.then(() => db.transaction(work));
  sqliteQueues.set(db, run.catch(() => undefined));
  return run;
}
