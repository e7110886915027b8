import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

export class KeyExpiry1764300004000 implements MigrationInterface {
  name = 'KeyExpiry1764300004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`ALTER TABLE "api_keys" ADD COLUMN "expired_at" ${t.time}`);
    await queryRunner.query(`ALTER TABLE "api_keys" ADD COLUMN "expiry_warnings" text NOT NULL DEFAULT ('[]')`);
    await queryRunner.query(`CREATE INDEX "IDX_api_keys_expires_at" ON "api_keys" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_api_keys_expires_at"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "expiry_warnings"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "expired_at"`);
  }
}
