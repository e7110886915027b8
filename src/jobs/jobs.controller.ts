import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { Ctx, type OperationContext } from '../common/context/operation-context.js';
import { AuditService } from '../audit/index.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ApiJson, ApiProblems, ApiZodBody, ApiZodQuery } from '../common/http/api-docs.js';
import { paginationQuery } from '../common/http/pagination.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import { JobsService } from './services/jobs.service.js';
import { jobListSchema, jobRunPageSchema, jobRunStartedSchema, jobRunViewSchema, type JobRunView } from './job.views.js';

const runBody = z.strictObject({ dryRun: z.boolean().default(false).describe('Report what a run would do and change nothing') });
const historyQuery = z.strictObject(paginationQuery);
const jobName = new ZodPipe(z.string().min(1).max(40));
const OWNER_NOTE =
  'Jobs act on every owner\'s accounts and keys. An owner-bound caller sees the schedule and each run\'s times and outcome, ' +
  'but not its counts, errors or details (`redacted: true`), which name other owners\' accounts.';

/** A run as an owner-bound caller sees it: when and how it ended, nothing about any account. */
function redacted<T extends Partial<JobRunView>>(run: T): T & { redacted: true } {
  return { ...run, counts: {}, errors: [], ...('details' in run ? { details: [] } : {}), redacted: true };
}

/** Scheduled jobs: key expiry, secret rotation, drift. */
@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'Each job: schedule, enabled, last run (start, end, outcome, counts), next run', description: OWNER_NOTE })
  @ApiJson(200, '{ items: [...] }', jobListSchema)
  @ApiProblems(401, 403)
  async list(@Ctx() ctx: OperationContext) {
    const items = await this.jobs.list();
    if (!ctx.owner) return { items };
    return { items: items.map((job) => ({ ...job, lastRun: job.lastRun ? redacted(job.lastRun) : null })) };
  }

  @Get(':name/runs')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'Run history of a job, newest first', description: OWNER_NOTE })
  @ApiZodQuery(historyQuery)
  @ApiJson(200, '{ items, nextCursor }', jobRunPageSchema)
  @ApiProblems(400, 401, 403, 404)
  async history(@Ctx() ctx: OperationContext, @Param('name', jobName) name: string, @Query(new ZodPipe(historyQuery)) query: z.infer<typeof historyQuery>) {
    const page = await this.jobs.history(name, query.limit, query.cursor);
    return ctx.owner ? { ...page, items: page.items.map(redacted) } : page;
  }

  @Get(':name/runs/:runId')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'One run of a job, with what it did item by item', description: OWNER_NOTE })
  @ApiJson(200, 'The run', jobRunViewSchema)
  @ApiProblems(401, 403, 404)
  async run(@Ctx() ctx: OperationContext, @Param('name', jobName) name: string, @Param('runId', new ZodPipe(z.string().max(40))) runId: string) {
    const run = await this.jobs.getRun(name, runId);
    return ctx.owner ? redacted(run) : run;
  }

  @Post(':name/run')
  @HttpCode(202)
  @RequireScopes('jobs:run')
  @ApiOperation({
    summary: 'Run a job now (202 with the run id; 409 JOB_RUNNING when it runs anywhere)',
    description: 'A job acts on every owner\'s accounts, so an owner-bound caller is refused with 403 OWNER_FORBIDDEN (audited).',
  })
  @ApiZodBody(runBody)
  @ApiJson(202, '{ runId, job, dryRun }', jobRunStartedSchema)
  @ApiProblems(400, 401, 403, 404, 409)
  async runNow(@Ctx() ctx: OperationContext, @Param('name', jobName) name: string, @Body(new ZodPipe(runBody)) body: z.infer<typeof runBody>) {
    if (ctx.owner) {
      await this.audit.record(ctx, { action: 'job.run_requested', outcome: 'failure', target: name, detail: { code: ErrorCode.OwnerForbidden } });
      throw new DomainError(ErrorCode.OwnerForbidden, `Job ${name} acts on every owner's accounts; only a caller not confined to an owner may run it.`, { owner: ctx.owner });
    }
    const { runId } = await this.jobs.start(name, { dryRun: body.dryRun, trigger: 'manual', context: ctx });
    return { runId, job: name, dryRun: body.dryRun };
  }
}
