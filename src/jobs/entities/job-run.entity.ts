import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type JobOutcome = 'running' | 'success' | 'partial' | 'failure' | 'abandoned';
export type JobTrigger = 'schedule' | 'manual' | 'catch-up';

/** One run of a scheduled job, kept as history. */
@Entity('job_runs')
@Index('IDX_job_runs_job', ['job', 'id'])
export class JobRunEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  job: string;

  @Column({ type: 'varchar', length: 16 })
  trigger: JobTrigger;

  @Column({ name: 'dry_run', type: 'boolean', default: false })
  dryRun: boolean;

  /** The process that ran it (host:pid:random). */
  @Column({ type: 'varchar', length: 100 })
  holder: string;

  @Column({ name: 'started_at', type: 'datetime' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'datetime', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: JobOutcome;

  @Column({ type: 'simple-json', default: '{}' })
  counts: Record<string, number>;

  @Column({ type: 'simple-json', default: '[]' })
  errors: string[];

  /** What the run did (or would do, for a dry run), item by item. */
  @Column({ type: 'simple-json', default: '[]' })
  details: Record<string, unknown>[];
}
