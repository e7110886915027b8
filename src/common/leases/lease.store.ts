import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
 * would interleave with other features' transactions), and each is plain SQL that PostgreSQL runs
 * the same way: a lease changes hands only `WHERE token = ? OR expires_at < ?`.
 */
@Injectable()
export class LeaseStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Takes the lease if it is free, expired, or already ours (same token). */
  async acquire(name: string, holder: string, token: string, ttlMs: number): Promise<AcquireResult> {
    const now = this.clock.nowMs();
    const previous = await this.read(name);
    await this.db.query(
      `INSERT INTO leases (name, holder, token, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, acquired_at = excluded.acquired_at,
         heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
       WHERE leases.token = ? OR leases.expires_at < ?`,
      [name, holder, token, now, now, now + ttlMs, token, now],
    );
    const current = await this.read(name);
    const acquired = current?.token === token;
    const takenOver = acquired && previous && previous.token !== token ? { holder: previous.holder, token: previous.token } : undefined;
    return { acquired, takenOver };
  }

  /**
   * Extends a lease still held: false when it expired (even if nobody took it yet) or changed
   * hands. An expired lease is never revived, so a process that was paused past its lease stops.
   */
  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.nowMs();
    const runner = this.db.createQueryRunner();
    try {
      const result = (await runner.query(
        `UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND token = ? AND expires_at >= ?`,
        [now, now + ttlMs, name, token, now],
        true,
      )) as { affected?: number };
      return (result.affected ?? 0) > 0;
    } finally {
      await runner.release();
    }
  }

  /** True while `token` holds the lease and it has not expired. */
  async holds(name: string, token: string): Promise<boolean> {
    const row = await this.read(name);
    return row !== undefined && row.token === token && row.expiresAt >= this.clock.nowMs();
  }

  async release(name: string, token: string): Promise<void> {
    await this.db.query(`DELETE FROM leases WHERE name = ? AND token = ?`, [name, token]);
  }

  async read(name: string): Promise<LeaseRow | undefined> {
    const [row] = (await this.db.query(
      `SELECT name, holder, token, acquired_at AS acquiredAt, heartbeat_at AS heartbeatAt, expires_at AS expiresAt FROM leases WHERE name = ?`,
      [name],
    )) as LeaseRow[];
    return row ? { ...row, acquiredAt: Number(row.acquiredAt), heartbeatAt: Number(row.heartbeatAt), expiresAt: Number(row.expiresAt) } : undefined;
  }

  /** Names (with a prefix) whose lease is held and not expired: rows a live instance is working on. */
  async liveNames(prefix: string): Promise<Set<string>> {
    const rows = (await this.db.query(`SELECT name FROM leases WHERE name LIKE ? AND expires_at >= ?`, [`${prefix}%`, this.clock.nowMs()])) as { name: string }[];
    return new Set(rows.map((row) => row.name));
  }
}
