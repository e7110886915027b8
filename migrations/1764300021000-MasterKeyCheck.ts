import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `master_key_checks`: a value derived one way from the master key (HKDF), written by the first
 * instance that starts on the database. Every later start compares its own, so an instance given
 * another master key refuses to start instead of failing every key and stored secret.
 */
export class MasterKeyCheck1764300021000 implements MigrationInterface {
  name = 'MasterKeyCheck1764300021000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "master_key_checks" ("name" varchar(50) PRIMARY KEY NOT NULL, "value" varchar(128) NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "master_key_checks"`);
  }
}
