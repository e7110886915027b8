import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `api_keys.changed_at`: when a key was issued or last changed in a way verification sees
 * (revoked, rotated, expiry shortened), in epoch milliseconds. Every instance's in-memory key
 * index reads the keys changed since its last read, on the index below. Older rows stay NULL:
 * the index loads them at start-up.
 */
export class ApiKeyChanges1764300017000 implements MigrationInterface {
  name = 'ApiKeyChanges1764300017000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_keys" ADD COLUMN "changed_at" bigint`);
    await queryRunner.query(`CREATE INDEX "IDX_api_keys_changed_at" ON "api_keys" ("changed_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_api_keys_changed_at"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "changed_at"`);
  }
}
