import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revokes every unrevoked key whose account has no live row (realm and clientId, not deleted).
 *
 * Deletes used to mark the account's row deleted before revoking its keys, so a delete interrupted
 * between the two left live keys behind. Verification refused them (no live account), but an
 * account made again with the same clientId would have given them back their standing. Deletes now
 * revoke first; this finishes the ones interrupted before that. `changed_at` tells the other
 * instances' key indexes, as a revocation does.
 */
export class RevokeKeysOfDeletedAccounts1764300020000 implements MigrationInterface {
  name = 'RevokeKeysOfDeletedAccounts1764300020000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const now = new Date();
    // As `Sql.time` and `placeholders` (src/database/sql.ts) do; migrations compile on their own
    // (rootDir migrations/), so they cannot import them. SQLite's datetime columns hold UTC text.
    const revokedAt = postgres ? now : now.toISOString().replace('T', ' ').replace('Z', '');
    const first = postgres ? '$1' : '?';
    // `changed_at` on the database's clock, as `Sql.epochMs` writes it.
    const changedAt = postgres ? 'CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS bigint)' : "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
    await queryRunner.query(
      `UPDATE "api_keys" SET "revoked_at" = ${first}, "changed_at" = ${changedAt}
       WHERE "revoked_at" IS NULL
         AND NOT EXISTS (
           SELECT 1 FROM "service_accounts" "s"
           WHERE "s"."realm" = "api_keys"."realm" AND "s"."client_id" = "api_keys"."client_id" AND "s"."deleted_at" IS NULL
         )`,
      [revokedAt],
    );
  }

  /** A revocation is not undone. */
  async down(): Promise<void> {}
}
