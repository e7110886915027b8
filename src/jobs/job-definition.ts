import type { OperationContext } from '../common/context/operation-context.js';

export type JobName = 'key-expiry' | 'secret-rotation' | 'drift' | 'recovery' | 'secret-health';

/** One item of a run that failed: the error code and what it concerned. Never a secret. */
export interface JobItemFailure {
  code: string;
  realm?: string;
  clientId?: string;
  keyId?: string;
}

/** What a job gets while it runs: its context for audit events, and places to report. */
export interface JobRunContext {
  runId: string;
  dryRun: boolean;
  context: OperationContext;
  /** Adds to a named count shown in the run record (rotated, expired, warned, failed, ...). */
  count(name: string, by?: number): void;
  /**
   * Records an error in the run. With `item` (an account or key that failed while the rest of the
   * run goes on) it is also logged, with its code.
   */
  error(message: string, item?: JobItemFailure): void;
  detail(item: Record<string, unknown>): void;
  /**
   * Aborted when the run's lease was found lost (the process was paused past it and another one
   * took the job over): a job checks it before each item (`signal.throwIfAborted()`), so the run
   * stops at the next one and is recorded `abandoned`.
   */
  signal: AbortSignal;
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
