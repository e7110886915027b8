import sqlite3 from 'sqlite3';

/** Statements each SQLite connection keeps prepared, by SQL text; past it, the oldest is finalized. */
export const PREPARED_STATEMENTS = 256;

type RowsCallback = (this: sqlite3.Statement, error: Error | null, rows?: unknown[]) => void;
type Method = 'all' | 'run';

/**
 * A RETURNING clause makes a `run` stop at its first row, leaving the statement active (and its
 * transaction open) until it is reset or finalized: such statements are not kept.
 */
const RETURNING = /\breturning\b/i;

/**
 * An sqlite3 connection that keeps its statements prepared. sqlite3's `Database#all` and `#run`
 * prepare a new statement for every call and finalize it after: three trips to the thread pool,
 * and on a busy process most of a statement's cost (a `SELECT` by primary key took about 90 µs of
 * CPU that way against about 40 µs through a kept statement; a provisioning, with its dozen
 * statements, about a quarter less CPU in Keysmith's process).
 *
 * TypeORM calls `all(sql, parameters, callback)` and `run(sql, parameters, callback)`; those calls
 * go through a kept statement once the text has run once without error (a statement that fails to
 * prepare drops the calls queued on it without answering them, so none is queued on a statement
 * before it is known to prepare). Each call steps its statement to the end (`all` reads every row,
 * a `run` without RETURNING has none), which ends its implicit transaction as finalizing would.
 * The callback gets the same rows, and the same `lastID` and `changes` on `this`. SQLite
 * re-prepares a kept statement by itself after a schema change. `close` finalizes the kept
 * statements first (SQLite refuses to close a connection with statements left).
 */
export class PreparedStatementDatabase extends sqlite3.Database {
  private readonly prepared = new Map<string, sqlite3.Statement>();
  /** Texts being prepared, so that one is prepared once however many calls meet it. */
  private readonly preparing = new Set<string>();
  private closing = false;

  /** How many statements are kept (for tests and diagnostics). */
  get preparedCount(): number {
    return this.prepared.size;
  }

  /** Is a statement of `sql` kept? (for tests and diagnostics) */
  isKept(sql: string): boolean {
    return this.prepared.has(sql);
  }

  /** How many statements are being prepared to be kept (for tests and diagnostics). */
  get preparingCount(): number {
    return this.preparing.size;
  }

  override all(sql: string, ...args: unknown[]): this {
    return this.call('all', sql, args);
  }

  override run(sql: string, ...args: unknown[]): this {
    return this.call('run', sql, args);
  }

  override close(callback?: (error: Error | null) => void): void {
    this.closing = true;
    const statements = [...this.prepared.values()];
    this.prepared.clear();
    let left = statements.length;
    const closeNow = () => super.close(callback);
    if (left === 0) return closeNow();
    for (const statement of statements) {
      statement.finalize(() => {
        if (--left === 0) closeNow();
      });
    }
  }

  private call(method: Method, sql: string, args: unknown[]): this {
    const [parameters, callback] = args;
    if (args.length !== 2 || !Array.isArray(parameters) || typeof callback !== 'function' || (method === 'run' && RETURNING.test(sql))) {
      return super[method](sql, ...args) as this;
    }
    const kept = this.prepared.get(sql);
    if (kept !== undefined) {
      kept[method](parameters, callback as RowsCallback);
      return this;
    }
    const answer = callback as RowsCallback;
    const keep = (error: Error | null) => {
      if (!error) this.keep(sql);
    };
    // sqlite3 hands `lastID` and `changes` as the callback's `this`: a function, not an arrow.
    return super[method](sql, parameters, function (this: sqlite3.Statement, error: Error | null, rows?: unknown[]) {
      // Prepared from here, before the answer runs: the next use of the text may find it kept.
      keep(error);
      answer.call(this, error, rows);
    }) as this;
  }

  /** Prepares `sql` (which has just run without error) and keeps it once it is prepared. */
  private keep(sql: string): void {
    if (this.prepared.has(sql) || this.preparing.has(sql)) return;
    this.preparing.add(sql);
    const statement = this.prepare(sql, (error: Error | null) => {
      this.preparing.delete(sql);
      if (error || this.closing) {
        statement.finalize();
        return;
      }
      if (this.prepared.size >= PREPARED_STATEMENTS) {
        const [oldest, dropped] = this.prepared.entries().next().value as [string, sqlite3.Statement];
        this.prepared.delete(oldest);
        // Finalized after the calls already queued on it.
        dropped.finalize();
      }
      this.prepared.set(sql, statement);
    });
  }
}
