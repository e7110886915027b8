import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/time/clock.js';

/**
 * A lease per job in the database, so that one run of a job happens at a time across every
 * process sharing the database. The holder renews the lease while the run lasts; a lease whose
 * holder died expires and is taken over.
 */
@Injectable()
export class JobLockService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Takes the lease if it is free or expired. Returns the run id of the previous holder taken over, or undefined. */
  async acquire(job: string, holder: string, runId: string, leaseMs: number): Promise<{ acquired: boolean; takenOverRunId?: string }> {
    const now = this.clock.nowMs();
    const previous = (await this.db.query(`SELECT run_id AS runId, expires_at AS expiresAt FROM job_locks WHERE job = ?`, [job])) as { runId: string; expiresAt: number }[];
    await this.db.query(
      `INSERT INTO job_locks (job, holder, run_id, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(job) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id, expires_at = excluded.expires_at
       WHERE job_locks.expires_at < ?`,
      [job, holder, runId, now + leaseMs, now],
    );
    const [current] = (await this.db.query(`SELECT run_id AS runId FROM job_locks WHERE job = ?`, [job])) as { runId: string }[];
    const acquired = current?.runId === runId;
    const takenOverRunId = acquired && previous[0] && previous[0].runId !== runId ? previous[0].runId : undefined;
    return { acquired, takenOverRunId };
  }

  /** Extends the lease; false when it was lost (expired and taken over). */
  async renew(job: string, runId: string, leaseMs: number): Promise<boolean> {
    await this.db.query(`UPDATE job_locks SET expires_at = ? WHERE job = ? AND run_id = ?`, [this.clock.nowMs() + leaseMs, job, runId]);
    const [current] = (await this.db.query(`SELECT run_id AS runId FROM job_locks WHERE job = ?`, [job])) as { runId: string }[];
    return current?.runId === runId;
  }

  async release(job: string, runId: string): Promise<void> {
    await this.db.query(`DELETE FROM job_locks WHERE job = ? AND run_id = ?`, [job, runId]);
  }

  async holderOf(job: string): Promise<{ runId: string; holder: string; expiresAt: number } | undefined> {
    const [row] = (await this.db.query(`SELECT run_id AS runId, holder, expires_at AS expiresAt FROM job_locks WHERE job = ?`, [job])) as {
      runId: string;
      holder: string;
      expiresAt: number;
    }[];
    return row;
  }
}
