import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GitOps sets: each account remembers the set of definitions that applies it, so that `--prune`
 * deletes only accounts of its own set. Accounts GitOps made before sets existed keep a null set
 * (unassigned) until an operator assigns one explicitly; they are never pruned.
 */
export class GitopsSets1764300005300 implements MigrationInterface {
  name = 'GitopsSets1764300005300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "gitops_set" varchar(63)`);
    await queryRunner.query(`CREATE INDEX "IDX_service_accounts_gitops_set" ON "service_accounts" ("realm", "gitops_set")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_service_accounts_gitops_set"`);
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "gitops_set"`);
  }
}
