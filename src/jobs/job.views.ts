import { z } from 'zod';

const dateTime = z.iso.datetime({ offset: true });

/** One run of a job, as the jobs API shows it. The type and the OpenAPI schema both come from here. */
export const jobRunViewSchema = z
  .object({
    id: z.string(),
    job: z.string(),
    trigger: z.enum(['schedule', 'manual', 'catch-up']),
    dryRun: z.boolean(),
    startedAt: dateTime,
    finishedAt: dateTime.nullable(),
    outcome: z.enum(['running', 'success', 'partial', 'failure', 'abandoned']),
    counts: z.record(z.string(), z.number()).describe('Named counts: checked, rotated, expired, failed, ...'),
    errors: z.array(z.string()),
    details: z.array(z.record(z.string(), z.unknown())).describe('What the run did item by item (at most 500)'),
  })
  .meta({ title: 'JobRun' });

export type JobRunView = z.infer<typeof jobRunViewSchema>;

export const jobViewSchema = z
  .object({
    name: z.enum(['key-expiry', 'secret-rotation', 'drift', 'recovery', 'secret-health']),
    description: z.string(),
    schedule: z.string().describe('Cron expression, or off'),
    enabled: z.boolean(),
    lastRun: jobRunViewSchema.omit({ details: true }).nullable(),
    lastSuccessAt: dateTime.nullable(),
    nextRunAt: dateTime.nullable(),
  })
  .meta({ title: 'Job' });

export type JobView = z.infer<typeof jobViewSchema>;

export const jobListSchema = z.object({ items: z.array(jobViewSchema) }).meta({ title: 'JobList' });
export const jobRunPageSchema = z.object({ items: z.array(jobRunViewSchema), nextCursor: z.string().nullable() }).meta({ title: 'JobRunPage' });
export const jobRunStartedSchema = z.object({ runId: z.string(), job: z.string(), dryRun: z.boolean() }).meta({ title: 'JobRunStarted' });
