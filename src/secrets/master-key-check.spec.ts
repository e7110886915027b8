import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { loadMigrations } from '../database/migrations.loader.js';
import { Random } from '../common/random/random.js';
import { MasterKeyCheck, MasterKeyMismatchError, masterKeyCheckValue } from './master-key-check.js';
import { SecretVault } from './secret-vault.js';

const keyA = Buffer.alloc(32, 0xab);
const keyB = Buffer.alloc(32, 0xcd);
const vaultOf = (masterKey: Buffer) => new SecretVault({ masterKey } as AppConfig, new Random());
const checkWith = (db: DataSource, masterKey: Buffer) => new MasterKeyCheck(db, { masterKey } as AppConfig, vaultOf(masterKey));

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

  it('on a database written before the check, records a key only once it opens a stored client secret', async () => {
    await db.query(
      `INSERT INTO "service_accounts" ("id", "realm", "client_id", "owner", "realm_roles", "client_roles", "default_scopes", "optional_scopes", "created_at", "updated_at", "secret_ciphertext")
       VALUES ('sa_1', 'platform', 'billing', 'team-a', '[]', '{}', '[]', '[]', '2030-01-01 00:00:00.000', '2030-01-01 00:00:00.000', ?)`,
      [vaultOf(keyA).encrypt('the-client-secret', 'sa_1')],
    );
    // The wrong key starts first: refused, and it records nothing the right key would be judged by.
    await expect(checkWith(db, keyB).verify()).rejects.toThrow(MasterKeyMismatchError);
    expect(await db.query('SELECT "value" FROM "master_key_checks"')).toEqual([]);
    await checkWith(db, keyA).verify();
    expect(await db.query('SELECT "value" FROM "master_key_checks"')).toEqual([{ value: masterKeyCheckValue(keyA) }]);
    await expect(checkWith(db, keyB).verify()).rejects.toThrow(MasterKeyMismatchError);
  });

  it('of two instances starting together with different keys, the first write wins: exactly one passes', async () => {
    const results = await Promise.allSettled([checkWith(db, keyA).verify(), checkWith(db, keyB).verify()]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
