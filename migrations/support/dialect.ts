import type { QueryRunner } from 'typeorm';

/**
 * The few pieces of DDL that differ between SQLite and PostgreSQL. The SQLite texts are the ones
 * the migrations always used, so SQLite databases are created exactly as before.
 *
 * - `time`: SQLite's `datetime` (UTC text) is PostgreSQL's `timestamptz`.
 * - `true` / `false`: boolean defaults; SQLite stores booleans as 1 / 0.
 * - `epochMs`: epoch milliseconds; SQLite's `integer` holds 64 bits, PostgreSQL's needs `bigint`.
 */
export function ddl(queryRunner: QueryRunner): { time: string; true: string; false: string; epochMs: string } {
  return queryRunner.connection.driver.options.type === 'postgres'
    ? { time: 'timestamptz', true: 'true', false: 'false', epochMs: 'bigint' }
    : { time: 'datetime', true: '(1)', false: '(0)', epochMs: 'integer' };
}
