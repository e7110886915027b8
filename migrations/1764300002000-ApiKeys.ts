import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

export class ApiKeys1764300002000 implements MigrationInterface {
  name = 'ApiKeys1764300002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" varchar(40) PRIMARY KEY NOT NULL,
        "realm" varchar(100) NOT NULL,
        "client_id" varchar(63) NOT NULL,
        "name" varchar(100) NOT NULL,
        "environment" varchar(4) NOT NULL,
        "hint" varchar(40) NOT NULL,
        "key_hash" varchar(64) NOT NULL,
        "pepper_version" integer NOT NULL,
        "scopes" text NOT NULL,
        "ttl_days" integer NOT NULL,
        "created_at" ${t.time} NOT NULL,
        "expires_at" ${t.time} NOT NULL,
        "last_used_at" ${t.time},
        "use_count" integer NOT NULL DEFAULT (0),
        "revoked_at" ${t.time},
        "rotated_from_id" varchar(40),
        "rotated_to_id" varchar(40)
      )`);
    // Verification is one lookup by this index.
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_api_keys_hash" ON "api_keys" ("key_hash")`);
    await queryRunner.query(`CREATE INDEX "IDX_api_keys_account" ON "api_keys" ("realm", "client_id", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
