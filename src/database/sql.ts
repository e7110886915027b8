import type { DataSource } from 'typeorm';
import type { Clock } from '../common/time/clock.js';

export type SqlDialect = 'sqlite' | 'postgres';

export function dialectOf(db: DataSource): SqlDialect {
  return db.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * Rewrites `?` placeholders as PostgreSQL's `$1, $2, ...`, leaving `?` inside quoted strings and
 * identifiers alone. SQLite takes the text as it is.
 */
export function placeholders(sql: string, dialect: SqlDialect): string {
  if (dialect === 'sqlite') return sql;
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      out += `$${++n}`;
      continue;
    }
    out += char;
  }
  return out;
}

/** A time read from a raw row: SQLite's datetime text (UTC `YYYY-MM-DD HH:MM:SS.SSS`) or PostgreSQL's Date. */
export function readTime(value: string | Date): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}

/**
 * Raw SQL that runs the same on SQLite and PostgreSQL, for the few statements TypeORM's query
 * builder cannot say (conditional upserts, INSERT ... SELECT, batched updates). Write it with `?`
 * placeholders, quoted identifiers and portable SQL; where a parameter's type cannot be inferred
 * by PostgreSQL (a VALUES list, a SELECT list), cast it with `CAST(? AS integer)` / `bigint`, or
 * `timeParam` for a time. `rows` returns records; `run` the number of rows it changed. Each call
 * is one statement, atomic on its own.
 */
export class Sql {
  readonly dialect: SqlDialect;

  constructor(private readonly db: DataSource) {
    this.dialect = dialectOf(db);
  }

  async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return ((await this.execute(sql, params)).records ?? []) as T[];
  }

  /** Runs an INSERT, UPDATE or DELETE; returns how many rows it changed. */
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.execute(sql, params)).affected ?? 0;
  }

  /** A time as a parameter for a time column: SQLite stores UTC text, PostgreSQL a timestamptz. */
  time(date: Date): string | Date {
    return this.dialect === 'postgres' ? date : date.toISOString().replace('T', ' ').replace('Z', '');
  }

  /** Seconds from one time expression to another (`later - earlier`), for WHERE clauses and query builders. */
  secondsBetween(later: string, earlier: string): string {
    return this.dialect === 'postgres' ? `EXTRACT(EPOCH FROM (${later} - ${earlier}))` : `((julianday(${later}) - julianday(${earlier})) * 86400)`;
  }

  /**
   * The database server's current time in epoch milliseconds, as an SQL expression. Stamps that
   * several instances compare (a change feed's cursor) use it, so no instance's clock decides.
   */
  get epochMs(): string {
    return this.dialect === 'postgres' ? 'CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS bigint)' : "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
  }

  /** The database server's current time in epoch milliseconds (see `epochMs`). */
  async nowMs(): Promise<number> {
    const [row] = await this.rows<{ now: string | number }>(`SELECT ${this.epochMs} AS "now"`);
    return Number(row.now);
  }

  /**
   * "Now" where instances must agree (leases, Keycloak sweeps): the database's clock, or a test
   * clock standing in for it (see `Clock.isSystem`), so unit tests move time without waiting. As
   * SQL text, with the parameters it takes (none for the database's clock).
   */
  sharedNow(clock: Clock): { sql: string; params: number[] } {
    return clock.isSystem ? { sql: `(${this.epochMs})`, params: [] } : { sql: 'CAST(? AS bigint)', params: [clock.nowMs()] };
  }

  /** `sharedNow` as a number of epoch milliseconds. */
  sharedNowMs(clock: Clock): Promise<number> {
    return clock.isSystem ? this.nowMs() : Promise.resolve(clock.nowMs());
  }

  /** A time parameter whose type the statement does not give (VALUES, SELECT lists). */
  get timeParam(): string {
    return this.dialect === 'postgres' ? 'CAST(? AS timestamptz)' : '?';
  }

  private async execute(sql: string, params: unknown[]): Promise<{ records?: unknown[]; affected?: number }> {
    const runner = this.db.createQueryRunner();
    try {
      // TypeORM's SQLite runner reports changed rows only for statements that start with the verb.
      return (await runner.query(placeholders(sql.trim(), this.dialect), params, true)) as { records?: unknown[]; affected?: number };
    } finally {
      await runner.release();
    }
  }
}
