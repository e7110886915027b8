import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource } from 'typeorm';
import { loadMigrations } from '../migrations.loader.js';
import { DatabaseCopy, DatabaseCopyRefused } from './database-copy.js';

/** Another process's connection to the same SQLite file, with no busy timeout. */
function otherConnection(file: string) {
  const db = new sqlite3.Database(file);
  const run = (sql: string) => new Promise<void>((resolve, reject) => db.run(sql, (error) => (error ? reject(error) : resolve())));
  return { run, close: () => new Promise<void>((resolve) => db.close(() => resolve())) };
}

// The source's write lock on a real SQLite file (the project's migrations), with a second connection as another Keysmith.
describe('DatabaseCopy: the source is held for the whole copy', () => {
  let dir: string;
  let file: string;
  let source: DataSource;
  let copy: DatabaseCopy;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-copy-lock-'));
    file = join(dir, 'source.sqlite');
    source = await new DataSource({ type: 'sqlite', database: file, enableWAL: true, busyTimeout: 200, migrations: await loadMigrations(), migrationsRun: true }).initialize();
    copy = new DatabaseCopy(source, {} as DataSource);
  });
  afterEach(async () => {
    await source.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps another process from writing while the copy reads, and lets it in afterwards', async () => {
    const other = otherConnection(file);
    try {
      const read = await copy.whileSourceHeld(async () => {
        await expect(other.run(`INSERT INTO "leases" ("name", "holder", "token", "acquired_at", "heartbeat_at", "expires_at") VALUES ('x', 'y', 'z', 1, 1, 1)`)).rejects.toThrow(/SQLITE_BUSY/);
        return copy.sourceTables();
      });
      expect(read).toContain('api_keys');
      await other.run(`INSERT INTO "leases" ("name", "holder", "token", "acquired_at", "heartbeat_at", "expires_at") VALUES ('x', 'y', 'z', 1, 1, 1)`);
    } finally {
      await other.close();
    }
  });

  it('refuses, saying why, while another process is writing to the source', async () => {
    const other = otherConnection(file);
    try {
      await other.run('BEGIN IMMEDIATE');
      const body = jest.fn(async () => 'copied');
      await expect(copy.whileSourceHeld(body)).rejects.toThrow(DatabaseCopyRefused);
      await expect(copy.whileSourceHeld(body)).rejects.toThrow(/another process is writing to the source/);
      expect(body).not.toHaveBeenCalled();
      await other.run('ROLLBACK');
      expect(await copy.whileSourceHeld(body)).toBe('copied');
    } finally {
      await other.close();
    }
  });
});
