import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { loadMigrations } from '../database/migrations.loader.js';
import { MasterKeyCheck, MasterKeyMismatchError, masterKeyCheckValue } from './master-key-check.js';

const keyA = Buffer.alloc(32, 0xab);
const keyB = Buffer.alloc(32, 0xcd);
const checkWith = (db: DataSource, masterKey: Buffer) => new MasterKeyCheck(db, { masterKey } as AppConfig);

// On the real schema (the project's migrations on an in-memory SQLite database).
describe('MasterKeyCheck', () => {
  let db: DataSource;
  beforeEach(async () => {
    db = await new DataSource({ type: 'sqlite', database: ':memory:', migrations: await loadMigrations(), migrationsRun: true }).initialize();
  });
  afterEach(() => db.destroy());

  it('records the first key, passes it again, and refuses another key naming what to do', async () => {
    await checkWith(db, keyA).verify();
    await checkWith(db, keyA).verify();
    await expect(checkWith(db, keyB).verify()).rejects.toThrow(MasterKeyMismatchError);
    await expect(checkWith(db, keyB).verify()).rejects.toThrow(/Start every instance on this database with the same master key/);
    // The stored value is the first key's, and reveals neither key.
    const rows = await db.query('SELECT "name", "value" FROM "master_key_checks"');
    expect(rows).toEqual([{ name: 'master-key/v1', value: masterKeyCheckValue(keyA) }]);
    expect(JSON.stringify(rows)).not.toContain(keyA.toString('hex'));
    expect(masterKeyCheckValue(keyA)).not.toBe(masterKeyCheckValue(keyB));
  });

  it('of two instances starting together with different keys, exactly one passes', async () => {
    const results = await Promise.allSettled([checkWith(db, keyA).verify(), checkWith(db, keyB).verify()]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
