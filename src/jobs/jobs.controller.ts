import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { ApiJson, ApiProblems, ApiZodBody, ApiZodQuery } from '../common/http/api-docs.js';
import { paginationQuery } from '../common/http/pagination.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import { JobsService } from './services/jobs.service.js';
import { jobListSchema, jobRunPageSchema, jobRunStartedSchema, jobRunViewSchema } from './job.views.js';

const runBody = z.strictObject({ dryRun: z.boolean().default(false).describe('Report what a run would do and change nothing') });
const historyQuery = z.strictObject(paginationQuery);
const jobName = new ZodPipe(z.string().min(1).max(40));

/** Scheduled jobs: key expiry, secret rotation, drift. */
@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'Each job: schedule, enabled, last run (start, end, outcome, counts), next run' })
  @ApiJson(200, '{ items: [...] }', jobListSchema)
  @ApiProblems(401, 403)
  async list() {
    return { items: await this.jobs.list() };
  }

  @Get(':name/runs')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'Run history of a job, newest first' })
  @ApiZodQuery(historyQuery)
  @ApiJson(200, '{ items, nextCursor }', jobRunPageSchema)
  @ApiProblems(400, 401, 403, 404)
  history(@Param('name', jobName) name: string, @Query(new ZodPipe(historyQuery)) query: z.infer<typeof historyQuery>) {
    return this.jobs.history(name, query.limit, query.cursor);
  }

  @Get(':name/runs/:runId')
  @RequireScopes('jobs:read')
  @ApiOperation({ summary: 'One run of a job, with what it did item by item' })
  @ApiJson(200, 'The run', jobRunViewSchema)
  @ApiProblems(401, 403, 404)
  run(@Param('name', jobName) name: string, @Param('runId', new ZodPipe(z.string().max(40))) runId: string) {
    return this.jobs.getRun(name, runId);
  }

  @Post(':name/run')
  @HttpCode(202)
  @RequireScopes('jobs:run')
  @ApiOperation({ summary: 'Run a job now (202 with the run id; 409 JOB_RUNNING when it runs anywhere)' })
  @ApiZodBody(runBody)
  @ApiJson(202, '{ runId, job, dryRun }', jobRunStartedSchema)
  @ApiProblems(400, 401, 403, 404, 409)
  async runNow(@Param('name', jobName) name: string, @Body(new ZodPipe(runBody)) body: z.infer<typeof runBody>) {
    const { runId } = await this.jobs.start(name, { dryRun: body.dryRun, trigger: 'manual' });
    return { runId, job: name, dryRun: body.dryRun };
  }
}
