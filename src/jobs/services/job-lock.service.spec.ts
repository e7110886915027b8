import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { LeaseStore } from '../../common/leases/lease.store.js';
import { Clock } from '../../common/time/clock.js';
import { databaseOptions } from '../../database/database-options.js';
import { JobLockService } from './job-lock.service.js';

/** A clock the test sets. */
class ManualClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.ms);
  }
}

const LEASE_MS = 60_000;

// The lease is a conditional upsert: its state machine is the SQL, so it runs on the real schema
// (the project's migrations on a throwaway SQLite file), with the time from a manual clock.
describe('JobLockService (job lease state machine)', () => {
  let dir: string;
  let db: DataSource;
  let clock: ManualClock;
  let locks: JobLockService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-locks-'));
    db = await new DataSource(await databaseOptions({ type: 'sqlite', path: join(dir, 'locks.sqlite') })).initialize();
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await db.query('DELETE FROM leases');
    clock = new ManualClock();
    locks = new JobLockService(new LeaseStore(db, clock));
  });

  it('free → held: the first holder takes the lease', async () => {
    expect(await locks.acquire('drift', 'a', 'run-1', LEASE_MS)).toEqual({ acquired: true, takenOverRunId: undefined });
    expect(await locks.holderOf('drift')).toEqual({ runId: 'run-1', holder: 'a', expiresAt: clock.ms + LEASE_MS });
  });

  it('held: a second holder is refused while the lease runs, up to its last millisecond', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    clock.ms += LEASE_MS;
    expect(await locks.acquire('drift', 'b', 'run-2', LEASE_MS)).toEqual({ acquired: false, takenOverRunId: undefined });
    expect((await locks.holderOf('drift'))?.runId).toBe('run-1');
  });

  it('expired → taken over: a new holder takes a lease past its expiry and names the run it replaced', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    clock.ms += LEASE_MS + 1;
    expect(await locks.acquire('drift', 'b', 'run-2', LEASE_MS)).toEqual({ acquired: true, takenOverRunId: 'run-1' });
  });

  it('renewed: renewing moves the expiry, so the lease outlives its first term', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    clock.ms += LEASE_MS - 1;
    expect(await locks.renew('drift', 'run-1', LEASE_MS)).toBe(true);
    clock.ms += LEASE_MS - 1;
    expect((await locks.acquire('drift', 'b', 'run-2', LEASE_MS)).acquired).toBe(false);
  });

  it('lost: a holder whose lease was taken over cannot renew it, nor release the new holder', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    clock.ms += LEASE_MS + 1;
    await locks.acquire('drift', 'b', 'run-2', LEASE_MS);
    expect(await locks.renew('drift', 'run-1', LEASE_MS)).toBe(false);
    await locks.release('drift', 'run-1');
    expect((await locks.holderOf('drift'))?.runId).toBe('run-2');
  });

  it('released → free: after release another holder takes the lease at once', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    await locks.release('drift', 'run-1');
    expect(await locks.holderOf('drift')).toBeUndefined();
    expect(await locks.acquire('drift', 'b', 'run-2', LEASE_MS)).toEqual({ acquired: true, takenOverRunId: undefined });
  });

  it('keeps one lease per job: holding one job does not block another', async () => {
    await locks.acquire('drift', 'a', 'run-1', LEASE_MS);
    expect((await locks.acquire('key-expiry', 'b', 'run-2', LEASE_MS)).acquired).toBe(true);
  });

  it('gives a lease to exactly one of two holders racing for it', async () => {
    const results = await Promise.all([locks.acquire('drift', 'a', 'run-1', LEASE_MS), locks.acquire('drift', 'b', 'run-2', LEASE_MS)]);
    expect(results.filter((result) => result.acquired)).toHaveLength(1);
  });
});
