import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { CronJob, CronTime } from 'cron';
import { In, LessThan, Repository } from 'typeorm';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { AuditService } from '../../audit/index.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { InstanceId } from '../../common/leases/instance-id.js';
import { decodeCursor, toPage, type Page } from '../../common/http/pagination.js';
import { sortableId } from '../../common/ids/ids.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { JobRunEntity, type JobTrigger } from '../entities/job-run.entity.js';
import type { JobDefinition, JobName, JobRunContext } from '../job-definition.js';
import { JobLockService } from './job-lock.service.js';
import type { JobRunView, JobView } from '../job.views.js';


const MAX_DETAILS = 500;

/**
 * Runs the registered jobs: on their cron schedules (with @nestjs/schedule), on demand, and at
 * start-up when a job's last success is older than its interval. Each run takes the job's lease
 * in the database and leaves a run record.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly definitions = new Map<JobName, JobDefinition>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The start-up catch-up; shutdown waits for it so it never queries a closed database. */
  private catchingUp?: Promise<unknown>;
  readonly holder: string;

  constructor(
    @InjectRepository(JobRunEntity) private readonly runs: Repository<JobRunEntity>,
    private readonly locks: JobLockService,
    private readonly scheduler: SchedulerRegistry,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
    instance: InstanceId,
    private readonly audit: AuditService,
  ) {
    this.holder = instance.value;
  }

  register(definition: JobDefinition): void {
    this.definitions.set(definition.name, definition);
  }

  onApplicationBootstrap(): void {
    this.metrics.gauge('keysmith_job_seconds_since_last_success', 'Seconds since the last successful run of each job', ['job_name'], async (gauge) => {
      gauge.reset();
      for (const name of this.definitions.keys()) {
        const last = await this.lastSuccess(name);
        if (last) gauge.set({ job_name: name }, (this.clock.nowMs() - last.startedAt.getTime()) / 1000);
      }
    });
    if (!this.config.jobs.schedulerEnabled) return;
    for (const definition of this.definitions.values()) {
      const cron = this.config.jobs.crons[definition.name];
      if (cron === 'off') continue;
      const job = CronJob.from({ cronTime: cron, onTick: () => void this.trigger(definition.name, 'schedule'), start: true });
      this.scheduler.addCronJob(`keysmith:${definition.name}`, job);
    }
    this.catchingUp = this.catchUp().catch((error: unknown) => this.logger.error({ err: error }, 'catch-up at start-up failed'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const name of this.definitions.keys()) {
      if (this.scheduler.doesExist('cron', `keysmith:${name}`)) {
        await this.scheduler.getCronJob(`keysmith:${name}`).stop();
        this.scheduler.deleteCronJob(`keysmith:${name}`);
      }
    }
    await this.catchingUp;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Runs every enabled job whose last successful run is older than its interval. */
  async catchUp(): Promise<JobName[]> {
    const started: JobName[] = [];
    for (const name of this.definitions.keys()) {
      const cron = this.config.jobs.crons[name];
      if (cron === 'off') continue;
      const last = await this.lastSuccess(name);
      if (last && this.clock.nowMs() - last.startedAt.getTime() <= intervalMs(cron)) continue;
      try {
        await this.start(name, { trigger: 'catch-up' });
        started.push(name);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === ErrorCode.JobRunning)) throw error;
      }
    }
    return started;
  }

  list(): Promise<JobView[]> {
    return Promise.all(
      [...this.definitions.values()].map(async (definition) => {
        const cron = this.config.jobs.crons[definition.name];
        const [lastRun] = await this.runs.find({ where: { job: definition.name }, order: { id: 'DESC' }, take: 1 });
        const lastSuccess = await this.lastSuccess(definition.name);
        const enabled = cron !== 'off' && this.config.jobs.schedulerEnabled;
        let nextRunAt: string | null = null;
        if (enabled) nextRunAt = new CronTime(cron).getNextDateFrom(this.clock.now()).toISO();
        return {
          name: definition.name,
          description: definition.description,
          schedule: cron,
          enabled,
          lastRun: lastRun ? withoutDetails(toView(lastRun)) : null,
          lastSuccessAt: lastSuccess?.startedAt.toISOString() ?? null,
          nextRunAt,
        };
      }),
    );
  }

  async history(name: string, limit: number, cursor?: string): Promise<Page<JobRunView>> {
    this.definition(name);
    const before = decodeCursor(cursor);
    const rows = await this.runs.find({ where: { job: name, ...(before ? { id: LessThan(before) } : {}) }, order: { id: 'DESC' }, take: limit + 1 });
    return toPage(rows, limit, (row) => row.id, toView);
  }

  async getRun(name: string, runId: string): Promise<JobRunView> {
    this.definition(name);
    const row = await this.runs.findOne({ where: { job: name, id: runId } });
    if (!row) throw new DomainError(ErrorCode.NotFound, `No run ${runId} of job ${name}.`);
    return toView(row);
  }

  /**
   * Starts a run now in the background. Throws 409 JOB_RUNNING when a run of the job holds the
   * lease anywhere. `done` settles with the finished run record. The start is audited (`job.run`)
   * as the caller's (`context`; the job itself for the scheduler and the catch-up); what the run
   * does to accounts and keys is audited item by item.
   */
  async start(name: string, options: { dryRun?: boolean; trigger?: JobTrigger; context?: OperationContext } = {}): Promise<{ runId: string; done: Promise<JobRunView> }> {
    const definition = this.definition(name);
    const runId = sortableId('run', this.clock.now());
    const leaseMs = this.config.jobs.leaseSeconds * 1000;
    const { acquired, takenOverRunId } = await this.locks.acquire(name, this.holder, runId, leaseMs);
    if (!acquired) {
      const holder = await this.locks.holderOf(name);
      throw new DomainError(ErrorCode.JobRunning, `Job ${name} is running (run ${holder?.runId ?? 'unknown'}).`, { runId: holder?.runId ?? null });
    }
    if (takenOverRunId) {
      await this.runs.update({ id: takenOverRunId, outcome: 'running' }, { outcome: 'abandoned', finishedAt: this.clock.now(), errors: ['lease expired: the process running it stopped'] });
    }
    const row = this.runs.create({
      id: runId,
      job: name,
      trigger: options.trigger ?? 'manual',
      dryRun: options.dryRun ?? false,
      holder: this.holder,
      startedAt: this.clock.now(),
      finishedAt: null,
      outcome: 'running',
      counts: {},
      errors: [],
      details: [],
    });
    await this.runs.save(row);
    const done = this.execute(definition, row, leaseMs);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    // The run goes on if the event cannot be written (the run record stays); the failure is logged.
    await this.audit
      .record(options.context ?? systemContext('job', definition.name), {
        action: 'job.run',
        target: definition.name,
        detail: { runId, trigger: row.trigger, dryRun: row.dryRun, ...(takenOverRunId ? { tookOverRunId: takenOverRunId } : {}) },
      })
      .catch((error: unknown) => this.logger.error({ err: error, job: definition.name, runId }, `could not audit the start of job ${definition.name}`));
    return { runId, done };
  }

  private async trigger(name: JobName, trigger: JobTrigger): Promise<void> {
    try {
      await this.start(name, { trigger });
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.JobRunning) return;
      this.logger.error({ err: error }, `could not start job ${name}`);
    }
  }

  private async execute(definition: JobDefinition, row: JobRunEntity, leaseMs: number): Promise<JobRunView> {
    const lease = new AbortController();
    const heartbeat = setInterval(() => {
      void this.locks
        .renew(definition.name, row.id, leaseMs)
        .then((held) => {
          if (held || lease.signal.aborted) return;
          this.logger.warn({ job: definition.name, runId: row.id }, `job ${definition.name} lost its lease (paused past it, or taken over); the run stops at its next item`);
          lease.abort(new DomainError(ErrorCode.LeaseLost, `The lease of job ${definition.name} expired or was taken over; the run stopped.`));
        })
        .catch(() => undefined);
    }, Math.max(1_000, leaseMs / 3));
    const run: JobRunContext = {
      signal: lease.signal,
      runId: row.id,
      dryRun: row.dryRun,
      context: systemContext('job', definition.name),
      count: (name, by = 1) => {
        row.counts[name] = (row.counts[name] ?? 0) + by;
      },
      error: (message, item) => {
        row.errors.push(message);
        if (item) this.logger.warn({ job: definition.name, runId: row.id, ...item }, `job ${definition.name} item failed: ${item.code}`);
      },
      detail: (item) => {
        if (row.details.length < MAX_DETAILS) row.details.push(item);
      },
    };
    try {
      await definition.run(run);
      row.outcome = row.errors.length === 0 ? 'success' : 'partial';
    } catch (error) {
      if (lease.signal.aborted && error === lease.signal.reason) {
        row.outcome = 'abandoned';
      } else {
        row.outcome = 'failure';
        const code = error instanceof DomainError ? error.code : ErrorCode.Internal;
        row.errors.push(error instanceof DomainError ? `${error.code}: ${error.detail}` : 'unexpected error (see logs)');
        this.logger.error({ err: error, job: definition.name, runId: row.id, code }, `job ${definition.name} failed: ${code}`);
      }
    } finally {
      clearInterval(heartbeat);
    }
    if (row.outcome === 'abandoned') row.errors.push('lease lost: the process running it was paused past its lease; the run stopped');
    else if (lease.signal.aborted) row.errors.push('lease lost while the run went on: another run may have overlapped it');
    row.finishedAt = this.clock.now();
    // Only a record still running: the instance that took the job over has marked it abandoned.
    await this.runs.update({ id: row.id, outcome: 'running' }, { outcome: row.outcome, finishedAt: row.finishedAt, counts: row.counts, errors: row.errors, details: row.details as never });
    await this.locks.release(definition.name, row.id);
    this.metrics.counter('keysmith_job_runs_total', 'Job runs by job and outcome', ['job_name', 'outcome']).inc({ job_name: definition.name, outcome: row.outcome });
    return toView(row);
  }

  private definition(name: string): JobDefinition {
    const definition = this.definitions.get(name as JobName);
    if (!definition) throw new DomainError(ErrorCode.JobNotFound, `No job named ${name}. Jobs: ${[...this.definitions.keys()].join(', ')}.`);
    return definition;
  }

  private async lastSuccess(name: string): Promise<JobRunEntity | null> {
    return this.runs.findOne({ where: { job: name, dryRun: false, outcome: In(['success', 'partial']) }, order: { id: 'DESC' } });
  }
}

/** The time between two consecutive fire times of a cron expression. */
function intervalMs(cron: string): number {
  const time = new CronTime(cron);
  const [first, second] = time.sendAt(2) as unknown as { toMillis(): number }[];
  return second.toMillis() - first.toMillis();
}

function withoutDetails({ details: _details, ...run }: JobRunView): Omit<JobRunView, 'details'> {
  return run;
}

function toView(row: JobRunEntity): JobRunView {
  return {
    id: row.id,
    job: row.job,
    trigger: row.trigger,
    dryRun: row.dryRun,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    outcome: row.outcome,
    counts: row.counts,
    errors: row.errors,
    details: row.details,
  };
}
