import type { OperationContext } from '../common/context/operation-context.js';

export type JobName = 'key-expiry' | 'secret-rotation' | 'drift' | 'secret-health';

/** What a job gets while it runs: its context for audit events, and places to report. */
export interface JobRunContext {
  runId: string;
  dryRun: boolean;
  context: OperationContext;
  /** Adds to a named count shown in the run record (rotated, expired, warned, failed, ...). */
  count(name: string, by?: number): void;
  error(message: string): void;
  detail(item: Record<string, unknown>): void;
}

/**
 * A scheduled job. Features implement it and register with JobsService; the scheduler, locking,
 * run records and the HTTP API are the jobs feature's.
 */
export interface JobDefinition {
  name: JobName;
  description: string;
  run(run: JobRunContext): Promise<void>;
}
