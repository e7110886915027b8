import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

export class Init1764300000000 implements MigrationInterface {
  name = 'Init1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" varchar(40) PRIMARY KEY NOT NULL,
        "at" ${t.time} NOT NULL,
        "actor_type" varchar(16) NOT NULL,
        "actor_id" varchar(200),
        "action" varchar(80) NOT NULL,
        "realm" varchar(100),
        "client_id" varchar(100),
        "target" varchar(200),
        "outcome" varchar(10) NOT NULL,
        "detail" text,
        "request_id" varchar(128)
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_action" ON "audit_events" ("action", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_realm_client" ON "audit_events" ("realm", "client_id", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
