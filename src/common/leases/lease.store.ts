import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Sql } from '../../database/sql.js';
import { Clock } from '../time/clock.js';

export interface LeaseRow {
  name: string;
  holder: string;
  token: string;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

export interface AcquireResult {
  acquired: boolean;
  /** The lease this acquisition replaced, when it took over an expired one. */
  takenOver?: Pick<LeaseRow, 'holder' | 'token'>;
}

/**
 * Named leases in the `leases` table, shared by every process on the database. Each statement is
 * one conditional write on its own (no explicit transaction, which on SQLite's single connection
 * would interleave with other features' transactions), and each runs the same on PostgreSQL: a
 * lease changes hands only `WHERE token = ? OR expires_at < now`, decided by the row lock the
 * upsert or UPDATE takes. No session-level advisory lock is ever held, so nothing depends on which
 * pooled connection a statement runs on, and a holder that dies leaves a row that simply expires.
 *
 * "Now" is the database server's clock (`Sql.sharedNow`), so instances whose clocks disagree still
 * agree on who holds a lease and until when; a test clock stands in for it.
 */
@Injectable()
export class LeaseStore {
  private readonly sql: Sql;

  constructor(
    @InjectDataSource() db: DataSource,
    private readonly clock: Clock,
  ) {
    this.sql = new Sql(db);
  }

  /**
   * Takes the lease if it is free, expired, or already ours (same token): one statement. With
   * `reportTakeover` (the default) the holder it replaced is read first, and `takenOver` names it.
   */
  async acquire(name: string, holder: string, token: string, ttlMs: number, { reportTakeover = true } = {}): Promise<AcquireResult> {
    const now = this.sql.sharedNow(this.clock);
    const previous = reportTakeover ? await this.read(name) : undefined;
    // One row changed (inserted, or updated past the WHERE) means the lease is now ours: the
    // upsert is one atomic statement, so no read is needed to learn the outcome.
    const changed = await this.sql.run(
      `INSERT INTO leases (name, holder, token, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ${now.sql}, ${now.sql}, ${now.sql} + CAST(? AS bigint))
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, acquired_at = excluded.acquired_at,
         heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
       WHERE leases.token = ? OR leases.expires_at < ${now.sql}`,
      [name, holder, token, ...now.params, ...now.params, ...now.params, ttlMs, token, ...now.params],
    );
    const acquired = changed > 0;
    const takenOver = acquired && previous && previous.token !== token ? { holder: previous.holder, token: previous.token } : undefined;
    return { acquired, takenOver };
  }

  /**
   * Extends a lease still held: false when it expired (even if nobody took it yet) or changed
   * hands. An expired lease is never revived, so a process that was paused past its lease stops.
   */
  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    const now = this.sql.sharedNow(this.clock);
    const changed = await this.sql.run(
      `UPDATE leases SET heartbeat_at = ${now.sql}, expires_at = ${now.sql} + CAST(? AS bigint) WHERE name = ? AND token = ? AND expires_at >= ${now.sql}`,
      [...now.params, ...now.params, ttlMs, name, token, ...now.params],
    );
    return changed > 0;
  }

  /** True while `token` holds the lease and it has not expired. */
  async holds(name: string, token: string): Promise<boolean> {
    const now = this.sql.sharedNow(this.clock);
    const rows = await this.sql.rows(`SELECT 1 AS "held" FROM leases WHERE name = ? AND token = ? AND expires_at >= ${now.sql}`, [name, token, ...now.params]);
    return rows.length > 0;
  }

  async release(name: string, token: string): Promise<void> {
    await this.sql.run(`DELETE FROM leases WHERE name = ? AND token = ?`, [name, token]);
  }

  async read(name: string): Promise<LeaseRow | undefined> {
    const [row] = await this.sql.rows<LeaseRow>(
      `SELECT name, holder, token, acquired_at AS "acquiredAt", heartbeat_at AS "heartbeatAt", expires_at AS "expiresAt" FROM leases WHERE name = ?`,
      [name],
    );
    return row ? { ...row, acquiredAt: Number(row.acquiredAt), heartbeatAt: Number(row.heartbeatAt), expiresAt: Number(row.expiresAt) } : undefined;
  }
}
