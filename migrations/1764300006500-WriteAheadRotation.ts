import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A rotation records its intent with an id before Keycloak is asked for anything. */
export class WriteAheadRotation1764300006500 implements MigrationInterface {
  name = 'WriteAheadRotation1764300006500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "secret_rotation_id" varchar(40)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "secret_rotation_id"`);
  }
}
