import type { DataSource, QueryRunner } from 'typeorm';
import { placeholders, readTime, Sql } from '../sql.js';

/** Why a copy was refused before anything was written. */
export class DatabaseCopyRefused extends Error {}

export interface TableCopy {
  table: string;
  rows: number;
}

export interface CopyReport {
  tables: TableCopy[];
  /** API keys whose hash (and pepper version) was read back from the target and matched the source. */
  keyHashesMatched: number;
  /** Stored client secrets (ciphertext) read back and matched. */
  secretsMatched: number;
}

interface TargetColumn {
  name: string;
  type: string;
}

const BATCH_ROWS = 500;
/** Tables the copy leaves out: TypeORM's record of migrations (the target runs its own). */
const NOT_COPIED = new Set(['migrations', 'typeorm_metadata']);

/**
 * Copies every Keysmith table of a SQLite database into an empty PostgreSQL database that has the
 * same migrations, in one transaction, then reads the target back: the row count of every table
 * and every API key hash and stored secret must match the source, or nothing is committed.
 * Values are converted by the target column's type (SQLite's datetime text and 0/1 booleans).
 */
export class DatabaseCopy {
  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
  ) {}

  /** Keysmith's tables in the source, in a stable order. */
  async sourceTables(): Promise<string[]> {
    const rows = await new Sql(this.source).rows<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    );
    return rows.map((row) => row.name).filter((name) => !NOT_COPIED.has(name));
  }

  /** Refuses a target with rows in any table (its migrations table aside) or with tables Keysmith does not know. */
  async checkTargetEmpty(known: string[]): Promise<void> {
    const sql = new Sql(this.target);
    const tables = (await sql.rows<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)).map((row) => row.name);
    const foreign = tables.filter((name) => !known.includes(name) && !NOT_COPIED.has(name));
    if (foreign.length > 0) throw new DatabaseCopyRefused(`the target database is not empty: it has tables Keysmith does not know (${foreign.sort().join(', ')})`);
    for (const table of tables.filter((name) => known.includes(name))) {
      const [{ n }] = await sql.rows<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "${table}"`);
      if (Number(n) > 0) throw new DatabaseCopyRefused(`the target database is not empty: table ${table} has ${n} rows`);
    }
  }

  /**
   * Runs `body` holding the source's write lock (`BEGIN IMMEDIATE`; SQLite has one connection per
   * process, so every read of the copy is inside it): what the copy reads is one state of the
   * source, and a Keysmith still writing to it waits, and fails past its busy timeout, instead of
   * changing rows already copied. Refused when another process holds the lock past this one's
   * busy timeout.
   */
  async whileSourceHeld<T>(body: () => Promise<T>): Promise<T> {
    try {
      await this.source.query('BEGIN IMMEDIATE');
    } catch (error) {
      if (/SQLITE_BUSY|database is locked/i.test((error as Error).message)) {
        throw new DatabaseCopyRefused('another process is writing to the source (it stayed locked past the busy timeout): stop every instance first');
      }
      throw error;
    }
    try {
      return await body();
    } finally {
      // Nothing was written to the source: ending the transaction only lets writers in again.
      await this.source.query('ROLLBACK');
    }
  }

  /** Leases still running in the source: a Keysmith process is working on it. */
  async liveLeases(nowMs: number): Promise<string[]> {
    const rows = await new Sql(this.source).rows<{ name: string }>(`SELECT name FROM leases WHERE expires_at >= ?`, [nowMs]);
    return rows.map((row) => row.name);
  }

  /** Copies and verifies in one transaction of the target; rolls back on any difference. */
  async copy(tables: string[]): Promise<CopyReport> {
    const runner = this.target.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const copied: TableCopy[] = [];
      for (const table of tables) copied.push({ table, rows: await this.copyTable(runner, table) });
      const report = { tables: copied, ...(await this.verify(runner, copied)) };
      await runner.commitTransaction();
      return report;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async targetColumns(runner: QueryRunner, table: string): Promise<TargetColumn[]> {
    const rows = (await runner.query(
      placeholders(`SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, 'postgres'),
      [table],
    )) as TargetColumn[];
    if (rows.length === 0) throw new DatabaseCopyRefused(`table ${table} of the source does not exist in the target: are both on the same Keysmith version?`);
    return rows;
  }

  private async copyTable(runner: QueryRunner, table: string): Promise<number> {
    const columns = await this.targetColumns(runner, table);
    const sourceColumns = new Set((await new Sql(this.source).rows<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [table])).map((row) => row.name));
    const missing = [...sourceColumns].filter((name) => !columns.some((column) => column.name === name));
    if (missing.length > 0) throw new DatabaseCopyRefused(`columns ${missing.join(', ')} of ${table} do not exist in the target`);
    const list = columns.map((column) => `"${column.name}"`).join(', ');
    let copied = 0;
    for (let offset = 0; ; offset += BATCH_ROWS) {
      const rows = await new Sql(this.source).rows<Record<string, unknown>>(`SELECT * FROM "${table}" ORDER BY rowid LIMIT ? OFFSET ?`, [BATCH_ROWS, offset]);
      if (rows.length === 0) break;
      const values = rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      const params = rows.flatMap((row) => columns.map((column) => convert(row[column.name], column.type)));
      await runner.query(placeholders(`INSERT INTO "${table}" (${list}) VALUES ${values}`, 'postgres'), params);
      copied += rows.length;
      if (rows.length < BATCH_ROWS) break;
    }
    await this.advanceSequences(runner, table, columns);
    return copied;
  }

  /**
   * Moves the sequence of each serial column (the change feed's `seq`) past the values copied in
   * with it: rows inserted with their numbers leave the sequence at its start, and the target's
   * next row would take a number already used.
   */
  private async advanceSequences(runner: QueryRunner, table: string, columns: TargetColumn[]): Promise<void> {
    for (const column of columns.filter((c) => c.type === 'integer' || c.type === 'bigint')) {
      const [row] = (await runner.query(placeholders('SELECT pg_get_serial_sequence(?, ?) AS sequence', 'postgres'), [`"${table}"`, column.name])) as { sequence: string | null }[];
      if (!row?.sequence) continue;
      await runner.query(placeholders(`SELECT setval(CAST(? AS regclass), COALESCE((SELECT MAX("${column.name}") FROM "${table}"), 0) + 1, false)`, 'postgres'), [row.sequence]);
    }
  }

  private async verify(runner: QueryRunner, copied: TableCopy[]): Promise<Omit<CopyReport, 'tables'>> {
    const source = new Sql(this.source);
    for (const { table } of copied) {
      const [{ n: before }] = await source.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`);
      const [{ n: after }] = (await runner.query(`SELECT COUNT(*) AS n FROM "${table}"`)) as { n: string | number }[];
      if (Number(before) !== Number(after)) throw new Error(`verification failed: ${table} has ${before} rows in the source and ${after} in the target; nothing was committed`);
    }
    const keyHashesMatched = await this.compare(runner, 'api_keys', ['key_hash', 'pepper_version'], 'key hashes');
    const secretsMatched = await this.compare(runner, 'service_accounts', ['secret_ciphertext'], 'stored secrets');
    return { keyHashesMatched, secretsMatched };
  }

  /** Compares some columns of every row by id; returns how many rows matched. */
  private async compare(runner: QueryRunner, table: string, columns: string[], what: string): Promise<number> {
    const select = `SELECT "id", ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" ORDER BY "id"`;
    const key = (row: Record<string, unknown>) => JSON.stringify([row.id, ...columns.map((c) => (row[c] === null ? null : String(row[c])))]);
    const before = (await new Sql(this.source).rows<Record<string, unknown>>(select)).map(key);
    const after = ((await runner.query(select)) as Record<string, unknown>[]).map(key);
    const afterSet = new Set(after);
    const differing = before.filter((row) => !afterSet.has(row)).length;
    if (differing > 0 || before.length !== after.length) throw new Error(`verification failed: ${differing} ${what} differ between the source and the target; nothing was committed`);
    return before.length;
  }
}

/** A SQLite value as the PostgreSQL column type wants it. */
function convert(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'boolean') return value === 1 || value === '1' || value === true || value === 'true';
  if (type.startsWith('timestamp')) return readTime(value as string);
  return value;
}
