import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

/** Opt-in per account: its keys may be traded for a Keycloak access token (POST /v1/token). */
export class TokenExchange1764300014000 implements MigrationInterface {
  name = 'TokenExchange1764300014000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD COLUMN "key_token_exchange" boolean NOT NULL DEFAULT ${t.false}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "key_token_exchange"`);
  }
}
