import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl } from './support/dialect.js';

/**
 * Webhook deliveries become an outbox: each row is one attempt to deliver one event to one URL,
 * written `pending` when the event is published (with its body and the time it may be sent) and
 * sent by a background worker that claims it with a conditional UPDATE. Rows written before are
 * finished attempts (`done`).
 */
export class WebhookOutbox1764300015000 implements MigrationInterface {
  name = 'WebhookOutbox1764300015000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = ddl(queryRunner);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD COLUMN "state" varchar(10) NOT NULL DEFAULT ('done')`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD COLUMN "body" text`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD COLUMN "next_attempt_at" ${t.epochMs}`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD COLUMN "claimed_by" varchar(40)`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD COLUMN "claim_expires_at" ${t.epochMs}`);
    await queryRunner.query(`CREATE INDEX "IDX_webhook_deliveries_due" ON "webhook_deliveries" ("state", "next_attempt_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_webhook_deliveries_due"`);
    for (const column of ['claim_expires_at', 'claimed_by', 'next_attempt_at', 'body', 'state']) {
      await queryRunner.query(`ALTER TABLE "webhook_deliveries" DROP COLUMN "${column}"`);
    }
  }
}
