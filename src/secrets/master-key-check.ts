import { hkdfSync } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { Sql } from '../database/sql.js';
import { SecretVault } from './secret-vault.js';

const CHECK_NAME = 'master-key/v1';

/** The master key does not match the one the database was written with. */
export class MasterKeyMismatchError extends Error {
  constructor() {
    super(
      'The master key (KEYSMITH_MASTER_KEY, or master.key in KEYSMITH_DATA_DIR) is not the one this database was written with: ' +
        'its API keys would not verify and its stored client secrets would not decrypt. Start every instance on this database with the same master key.',
    );
    this.name = 'MasterKeyMismatchError';
  }
}

/** The value stored for a master key: HKDF-SHA256 of it with its own label, which reveals nothing of the key. */
export function masterKeyCheckValue(masterKey: Buffer): string {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.from('keysmith'), Buffer.from('keysmith/master-key-check/v1'), 32)).toString('hex');
}

/**
 * At start-up, before anything reads a key or a secret: the first instance on a database records
 * its master key's check value (`master_key_checks`), and every start compares its own with it.
 * Two replicas given different keys, or a data directory whose generated `master.key` was lost,
 * stop at start-up with `MasterKeyMismatchError` rather than refusing every key later. On a
 * database written before the check existed, the first value is recorded only once the key opens
 * a stored client secret (when there is one), so a replica with the wrong key that happens to
 * start first cannot make its key the one the others are judged by.
 */
@Injectable()
export class MasterKeyCheck implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly vault: SecretVault,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.verify();
  }

  async verify(): Promise<void> {
    const sql = new Sql(this.db);
    const value = masterKeyCheckValue(this.config.masterKey);
    const [recorded] = await sql.rows<{ value: string }>(`SELECT "value" FROM "master_key_checks" WHERE "name" = ?`, [CHECK_NAME]);
    if (recorded) {
      if (recorded.value !== value) throw new MasterKeyMismatchError();
      return;
    }
    await this.openStoredSecret(sql);
    // One statement: of two instances starting together, the first write wins and both compare with it.
    await sql.run(`INSERT INTO "master_key_checks" ("name", "value") VALUES (?, ?) ON CONFLICT ("name") DO NOTHING`, [CHECK_NAME, value]);
    const [row] = await sql.rows<{ value: string }>(`SELECT "value" FROM "master_key_checks" WHERE "name" = ?`, [CHECK_NAME]);
    if (row?.value !== value) throw new MasterKeyMismatchError();
  }

  /** Decrypts one stored client secret, if any: only the key it was written with opens it. */
  private async openStoredSecret(sql: Sql): Promise<void> {
    const [stored] = await sql.rows<{ id: string; secret: string }>(
      `SELECT "id", "secret_ciphertext" AS "secret" FROM "service_accounts" WHERE "secret_ciphertext" IS NOT NULL ORDER BY "id" LIMIT 1`,
    );
    if (!stored) return;
    try {
      this.vault.decrypt(stored.secret, stored.id);
    } catch {
      throw new MasterKeyMismatchError();
    }
  }
}
