import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

export class JobsAndSecrets1764300003000 implements MigrationInterface {
  name = 'JobsAndSecrets1764300003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "job_runs" (
        "id" varchar(40) PRIMARY KEY NOT NULL,
        "job" varchar(40) NOT NULL,
        "trigger" varchar(16) NOT NULL,
        "dry_run" boolean NOT NULL DEFAULT ${t.false},
        "holder" varchar(100) NOT NULL,
        "started_at" ${t.time} NOT NULL,
        "finished_at" ${t.time},
        "outcome" varchar(16) NOT NULL,
        "counts" text NOT NULL DEFAULT ('{}'),
        "errors" text NOT NULL DEFAULT ('[]'),
        "details" text NOT NULL DEFAULT ('[]')
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_job_runs_job" ON "job_runs" ("job", "id")`);
    await queryRunner.query(`
      CREATE TABLE "job_locks" (
        "job" varchar(40) PRIMARY KEY NOT NULL,
        "holder" varchar(100) NOT NULL,
        "run_id" varchar(40) NOT NULL,
        "expires_at" ${t.epochMs} NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" varchar(40) PRIMARY KEY NOT NULL,
        "event_id" varchar(40) NOT NULL,
        "event" varchar(60) NOT NULL,
        "url" varchar(500) NOT NULL,
        "attempt" integer NOT NULL,
        "status" integer,
        "error" varchar(200),
        "delivered" boolean NOT NULL,
        "at" ${t.time} NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_webhook_deliveries_event" ON "webhook_deliveries" ("event_id")`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_ciphertext" text`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_rotation_step" varchar(16)`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_rotation_grace_hours" integer`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "previous_secret_valid_until" ${t.time}`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_rotation_failures" integer NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_rotation_error" varchar(200)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "job_locks"`);
    await queryRunner.query(`DROP TABLE "job_runs"`);
    for (const column of ['secret_ciphertext', 'secret_rotation_step', 'secret_rotation_grace_hours', 'previous_secret_valid_until', 'secret_rotation_failures', 'secret_rotation_error']) {
      await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "${column}"`);
    }
  }
}
