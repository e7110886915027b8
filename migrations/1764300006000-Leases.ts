import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

/**
 * One lease table for every lock shared across instances: job runs (`job:<name>`, formerly
 * `job_locks`) and account changes (`account:<realm>/<clientId>`).
 */
export class Leases1764300006000 implements MigrationInterface {
  name = 'Leases1764300006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "leases" (
        "name" varchar(300) PRIMARY KEY NOT NULL,
        "holder" varchar(100) NOT NULL,
        "token" varchar(40) NOT NULL,
        "acquired_at" bigint NOT NULL,
        "heartbeat_at" bigint NOT NULL,
        "expires_at" bigint NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_leases_expires_at" ON "leases" ("expires_at")`);
    await queryRunner.query(
      `INSERT INTO "leases" ("name", "holder", "token", "acquired_at", "heartbeat_at", "expires_at")
       SELECT 'job:' || "job", "holder", "run_id", "expires_at", "expires_at", "expires_at" FROM "job_locks"`,
    );
    await queryRunner.query(`DROP TABLE "job_locks"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "job_locks" (
        "job" varchar(40) PRIMARY KEY NOT NULL,
        "holder" varchar(100) NOT NULL,
        "run_id" varchar(40) NOT NULL,
        "expires_at" ${t.epochMs} NOT NULL
      )`);
    await queryRunner.query(
      `INSERT INTO "job_locks" ("job", "holder", "run_id", "expires_at")
       SELECT substr("name", 5), "holder", "token", "expires_at" FROM "leases" WHERE "name" LIKE 'job:%'`,
    );
    await queryRunner.query(`DROP TABLE "leases"`);
  }
}
