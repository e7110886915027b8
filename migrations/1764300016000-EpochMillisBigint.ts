import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The webhook outbox's times are epoch milliseconds: `bigint` in the entity, as PostgreSQL needs
 * (its `integer` is 32 bits; the outbox migration creates them as `bigint` there). SQLite stores
 * both the same way; the columns are renamed in type only, so the schema matches the entity.
 */
export class EpochMillisBigint1764300016000 implements MigrationInterface {
  name = 'EpochMillisBigint1764300016000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.retype(queryRunner, 'bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.retype(queryRunner, 'integer');
  }

  private async retype(queryRunner: QueryRunner, type: 'bigint' | 'integer'): Promise<void> {
    if (queryRunner.connection.driver.options.type === 'postgres') return;
    const table = await queryRunner.getTable('webhook_deliveries');
    const changes = ['next_attempt_at', 'claim_expires_at'].map((name) => ({
      oldColumn: table!.findColumnByName(name)!,
      newColumn: new TableColumn({ name, type, isNullable: true }),
    }));
    // One rebuild of the table (SQLite cannot change a column's type in place), indexes included.
    await queryRunner.changeColumns(table!, changes);
  }
}
