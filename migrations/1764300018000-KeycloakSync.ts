import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Following changes made in Keycloak: what Keysmith last saw of each account's client where it
 * differs from the spec (`keycloak_observed`, JSON text), accounts found by their client's UUID,
 * and per realm the admin-event cursor and the last sweep. Portable SQL (SQLite and PostgreSQL).
 */
export class KeycloakSync1764300018000 implements MigrationInterface {
  name = 'KeycloakSync1764300018000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "keycloak_observed" text`);
    await queryRunner.query(`CREATE INDEX "IDX_service_accounts_keycloak_id" ON "service_accounts" ("realm", "keycloak_id")`);
    await queryRunner.query(`
      CREATE TABLE "keycloak_sync_state" (
        "realm" varchar(100) PRIMARY KEY NOT NULL,
        "mode" varchar(10) NOT NULL,
        "event_cursor" text,
        "last_sweep_at" bigint,
        "updated_at" bigint NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "keycloak_sync_state"`);
    await queryRunner.query(`DROP INDEX "IDX_service_accounts_keycloak_id"`);
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "keycloak_observed"`);
  }
}
