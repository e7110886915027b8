import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import type { AuditService } from '../../audit/index.js';
import type { InstanceId } from '../../common/leases/instance-id.js';
import { LeaseStore } from '../../common/leases/lease.store.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { Clock } from '../../common/time/clock.js';
import type { AppConfig } from '../../config/app-config.js';
import { loadMigrations } from '../../database/migrations.loader.js';
import { JobRunEntity } from '../entities/job-run.entity.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobLockService } from './job-lock.service.js';
import { JobsService } from './jobs.service.js';

/** A clock the test sets; the leases go by it (it stands in for the database's). */
class ManualClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.ms);
  }
}

/** Shortest lease whose heartbeat (every third of it, at least a second) comes each second. */
const LEASE_SECONDS = 3;

/**
 * A job whose runs go item by item until told to finish, checking the run's lease signal before
 * each item as the real jobs do; `items` counts what each run got through.
 */
class SteppingJob implements JobDefinition {
  readonly name = 'drift' as const;
  readonly description = 'test job';
  readonly items = new Map<string, number>();
  private finishing = false;

  async run(run: JobRunContext): Promise<void> {
    while (!this.finishing) {
      run.signal.throwIfAborted();
      this.items.set(run.runId, (this.items.get(run.runId) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  finish(): void {
    this.finishing = true;
  }
}

// The runs and leases are rows on the real schema (the project's migrations, in-memory SQLite);
// two JobsService instances on it stand for two Keysmith processes, with one manual clock.
describe('JobsService (a run that loses its lease)', () => {
  let db: DataSource;
  let clock: ManualClock;
  let job: SteppingJob;

  const instance = (holder: string) => {
    const config = { jobs: { schedulerEnabled: false, leaseSeconds: LEASE_SECONDS, crons: {} } } as unknown as AppConfig;
    const audit = { record: async () => undefined } as unknown as AuditService;
    const jobs = new JobsService(
      db.getRepository(JobRunEntity),
      new JobLockService(new LeaseStore(db, clock)),
      new SchedulerRegistry(),
      clock,
      config,
      new MetricsRegistry(),
      { value: holder } as InstanceId,
      audit,
    );
    jobs.register(job);
    return jobs;
  };

  beforeEach(async () => {
    db = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [JobRunEntity], migrations: await loadMigrations(), migrationsRun: true }).initialize();
    clock = new ManualClock();
    job = new SteppingJob();
  });
  afterEach(() => db.destroy());

  it('stops at its next item once another instance took the job over, and leaves the record the taker marked abandoned', async () => {
    const paused = instance('instance-a');
    const taker = instance('instance-b');
    const first = await paused.start('drift');
    // The first run's holder is paused past its lease (the clock moves on without a heartbeat):
    // the other instance takes the job over and marks the first run abandoned.
    clock.ms += LEASE_SECONDS * 1000 + 1;
    const second = await taker.start('drift');
    expect(await paused.getRun('drift', first.runId)).toMatchObject({ outcome: 'abandoned' });

    // The paused holder's next heartbeat finds the lease gone: its run stops at its next item.
    const stopped = await first.done;
    expect(stopped).toMatchObject({ outcome: 'abandoned', errors: [expect.stringContaining('lease lost')] });
    const itemsWhenStopped = job.items.get(first.runId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(job.items.get(first.runId)).toBe(itemsWhenStopped);
    expect(await paused.getRun('drift', first.runId)).toMatchObject({ outcome: 'abandoned', errors: ['lease expired: the process running it stopped'] });

    // The run that took over goes on and ends as usual, still holding the lease.
    expect(await taker.getRun('drift', second.runId)).toMatchObject({ outcome: 'running' });
    job.finish();
    expect(await second.done).toMatchObject({ outcome: 'success' });
    expect(await taker.getRun('drift', second.runId)).toMatchObject({ outcome: 'success', errors: [] });
    expect(job.items.get(second.runId)).toBeGreaterThan(0);
  });

  it('records a run abandoned when its lease expired with nobody taking it over', async () => {
    const jobs = instance('instance-a');
    const run = await jobs.start('drift');
    clock.ms += LEASE_SECONDS * 1000 + 1;
    expect(await run.done).toMatchObject({ outcome: 'abandoned' });
    expect(await jobs.getRun('drift', run.runId)).toMatchObject({ outcome: 'abandoned', errors: [expect.stringContaining('lease lost')] });
    // The job is free again: a new run takes the lease at once.
    clock.ms += 1;
    job.finish();
    const next = await jobs.start('drift');
    expect(await next.done).toMatchObject({ outcome: 'success' });
  });
});
