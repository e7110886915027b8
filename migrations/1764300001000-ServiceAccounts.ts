import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

export class ServiceAccounts1764300001000 implements MigrationInterface {
  name = 'ServiceAccounts1764300001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "service_accounts" (
        "id" varchar(40) PRIMARY KEY NOT NULL,
        "realm" varchar(100) NOT NULL,
        "client_id" varchar(63) NOT NULL,
        "keycloak_id" varchar(64),
        "description" varchar(500) NOT NULL DEFAULT (''),
        "owner" varchar(100) NOT NULL,
        "enabled" boolean NOT NULL DEFAULT ${t.true},
        "realm_roles" text NOT NULL,
        "client_roles" text NOT NULL,
        "default_scopes" text NOT NULL,
        "optional_scopes" text NOT NULL,
        "rotation_every_days" integer NOT NULL DEFAULT (90),
        "rotation_grace_hours" integer NOT NULL DEFAULT (24),
        "last_rotated_at" ${t.time},
        "next_rotation_at" ${t.time},
        "key_default_ttl_days" integer NOT NULL DEFAULT (90),
        "key_max_ttl_days" integer NOT NULL DEFAULT (90),
        "key_rate_limit" text,
        "managed_by" varchar(10) NOT NULL DEFAULT ('api'),
        "source" varchar(200),
        "spec_hash" varchar(64) NOT NULL DEFAULT (''),
        "state" varchar(16) NOT NULL DEFAULT ('provisioning'),
        "created_at" ${t.time} NOT NULL,
        "updated_at" ${t.time} NOT NULL,
        "deleted_at" ${t.time}
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_service_accounts_realm_client" ON "service_accounts" ("realm", "client_id")`);
    await queryRunner.query(`CREATE INDEX "IDX_service_accounts_owner" ON "service_accounts" ("owner")`);
    // One live account per realm and clientId; deleted rows stay for history.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_service_accounts_live" ON "service_accounts" ("realm", "client_id") WHERE "deleted_at" IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "service_accounts"`);
  }
}
