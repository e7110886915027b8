import { Injectable } from '@nestjs/common';
import { LeaseStore } from '../../common/leases/lease.store.js';

/**
 * A lease per job (`job:<name>` in the shared lease table), so that one run of a job happens at a
 * time across every process sharing the database. The holder renews the lease while the run
 * lasts; a lease whose holder died expires and is taken over. The run id is the lease's token.
 */
@Injectable()
export class JobLockService {
  constructor(private readonly leases: LeaseStore) {}

  /** Takes the lease if it is free or expired. Returns the run id of the previous holder taken over, or undefined. */
  async acquire(job: string, holder: string, runId: string, leaseMs: number): Promise<{ acquired: boolean; takenOverRunId?: string }> {
    const { acquired, takenOver } = await this.leases.acquire(leaseName(job), holder, runId, leaseMs);
    return { acquired, takenOverRunId: takenOver?.token };
  }

  /** Extends the lease; false when it was lost (expired, or taken over). */
  renew(job: string, runId: string, leaseMs: number): Promise<boolean> {
    return this.leases.renew(leaseName(job), runId, leaseMs);
  }

  release(job: string, runId: string): Promise<void> {
    return this.leases.release(leaseName(job), runId);
  }

  async holderOf(job: string): Promise<{ runId: string; holder: string; expiresAt: number } | undefined> {
    const row = await this.leases.read(leaseName(job));
    return row ? { runId: row.token, holder: row.holder, expiresAt: row.expiresAt } : undefined;
  }
}

function leaseName(job: string): string {
  return `job:${job}`;
}
