import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit events carry the owner they belong to, so owner-bound callers see only theirs (rows from
 * before have none and stay hidden from them); keys remember which scope excess was last reported.
 */
export class CallerBoundaries1764300005500 implements MigrationInterface {
  name = 'CallerBoundaries1764300005500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" ADD COLUMN "owner" varchar(100)`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_owner" ON "audit_events" ("owner", "id")`);
    await queryRunner.query(`ALTER TABLE "api_keys" ADD COLUMN "reported_scope_excess" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_keys" DROP COLUMN "reported_scope_excess"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_owner"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "owner"`);
  }
}
