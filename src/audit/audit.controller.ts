import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { Ctx, type OperationContext } from '../common/context/operation-context.js';
import { ApiJson, ApiProblems, ApiZodQuery } from '../common/http/api-docs.js';
import { paginationQuery } from '../common/http/pagination.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import { auditEventPageSchema, AuditService, type AuditFilter } from './audit.service.js';

const filterFields = {
  action: z.string().max(80).optional().describe('Exact action, such as api_key.issued'),
  realm: z.string().max(100).optional(),
  clientId: z.string().max(100).optional(),
  actor: z.string().max(200).optional().describe('Actor id: client id, key id or job name'),
  since: z.iso.datetime({ offset: true }).optional().describe('Inclusive lower bound of `at`'),
  until: z.iso.datetime({ offset: true }).optional().describe('Exclusive upper bound of `at`; with `since`, later than it (400 otherwise)'),
};
const OWNER_NOTE =
  'Each event carries the `owner` it belongs to: the owner of the account it is about, or the owner an owner-bound caller acted for. ' +
  'An owner-bound caller sees only its owner\'s events; events of no owner (Keysmith\'s own, and those recorded before owners were) only unconfined callers see.';
/** An empty window (`until` not after `since`) is a mistake, such as swapped bounds: it is refused, not answered empty. */
const windowIsOpen = (query: { since?: string; until?: string }) => !query.since || !query.until || Date.parse(query.since) < Date.parse(query.until);
const WINDOW_ERROR = { path: ['until'], message: 'must be later than since' };
const listQuery = z.strictObject({ ...filterFields, ...paginationQuery }).refine(windowIsOpen, WINDOW_ERROR);
const exportQuery = z.strictObject(filterFields).refine(windowIsOpen, WINDOW_ERROR);

function toFilter(query: z.infer<typeof exportQuery>): AuditFilter {
  return {
    ...query,
    since: query.since ? new Date(query.since) : undefined,
    until: query.until ? new Date(query.until) : undefined,
  };
}

@ApiTags('audit')
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireScopes('audit:read')
  @ApiOperation({ summary: 'List audit events, newest first', description: OWNER_NOTE })
  @ApiZodQuery(listQuery)
  @ApiJson(200, 'A page of events: { items, nextCursor }', auditEventPageSchema)
  @ApiProblems(400, 401, 403)
  list(@Ctx() ctx: OperationContext, @Query(new ZodPipe(listQuery)) query: z.infer<typeof listQuery>) {
    const { limit, cursor, ...filter } = query;
    return this.audit.list(toFilter(filter), limit, cursor, ctx.owner);
  }

  @Get('export')
  @RequireScopes('audit:read')
  @ApiOperation({ summary: 'Export matching audit events as NDJSON, newest first', description: OWNER_NOTE })
  @ApiResponse({
    status: 200,
    description: 'One audit event (the AuditEvent schema) per line, newest first',
    content: { 'application/x-ndjson': { schema: { type: 'string', description: 'Newline-delimited JSON: one AuditEvent object per line' } } },
  })
  @ApiZodQuery(exportQuery)
  @ApiProblems(400, 401, 403)
  export(@Ctx() ctx: OperationContext, @Query(new ZodPipe(exportQuery)) query: z.infer<typeof exportQuery>, @Res() reply: FastifyReply) {
    const events = this.audit.export(toFilter(query), ctx.owner);
    async function* lines() {
      for await (const event of events) yield `${JSON.stringify(event)}\n`;
    }
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  }
}
