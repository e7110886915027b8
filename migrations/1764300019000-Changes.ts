import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change feed (src/common/changes): every event that makes cached verifications or exchanged
 * tokens stale is a row, read by every instance (`WHERE seq > last`) when notified or polled.
 */
export class Changes1764300019000 implements MigrationInterface {
  name = 'Changes1764300019000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const seq = postgres ? `"seq" SERIAL NOT NULL PRIMARY KEY` : `"seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
    await queryRunner.query(`
      CREATE TABLE "changes" (
        ${seq},
        "kind" varchar(10) NOT NULL,
        "realm" varchar(100) NOT NULL,
        "client_id" varchar(63) NOT NULL,
        "key_id" varchar(40),
        "key_hash" varchar(64),
        "origin" varchar(100) NOT NULL,
        "at" bigint NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_changes_at" ON "changes" ("at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_changes_at"`);
    await queryRunner.query(`DROP TABLE "changes"`);
  }
}
