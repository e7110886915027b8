import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { ApiKeyIdentity } from '../auth/index.js';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { HotPath } from '../common/http/hot-path.js';
import { Ctx, type OperationContext } from '../common/context/operation-context.js';
import { ApiJson, ApiNoContent, ApiProblems, ApiZodBody, ApiZodQuery } from '../common/http/api-docs.js';
import { noteForAccessLog } from '../common/logging/access-log.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import { clientIdSchema } from '../service-accounts/index.js';
import { apiKeyPageSchema, apiKeyViewSchema, issuedApiKeySchema, scopeExcessReportSchema, verifyResultSchema, type VerifyResult } from './api-key.view.js';
import {
  issueApiKeySchema,
  keyIdParam,
  listApiKeysQuery,
  rotateApiKeySchema,
  verifyApiKeySchema,
  type IssueApiKeyInput,
  type ListApiKeysQuery,
} from './dto/api-key.schemas.js';
import { ApiKeyVerificationService } from './services/api-key-verification.service.js';
import { ApiKeysService } from './services/api-keys.service.js';
import { ScopeExcessService } from './services/scope-excess.service.js';
import { DEFAULT_KEY_PATTERN } from './strategies/api-key-format.js';
import type { HotRequest } from '../common/http/hot-request.js';

const realmParam = z.string().min(1).max(100);
const scopeReportQuery = z.strictObject({ realm: realmParam.optional().describe('Only this realm') });
const FORMAT_NOTE = `Keys look like \`sk_live_<43 base62><6 base62 CRC32 checksum>\`; secret scanners can match \`${DEFAULT_KEY_PATTERN}\` and check the checksum.`;

/** Issue, list, read, rotate and revoke keys; verify a key for a gateway or service. */
@ApiTags('api-keys')
@Controller()
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly verification: ApiKeyVerificationService,
    private readonly scopeExcess: ScopeExcessService,
  ) {}

  @Post('v1/realms/:realm/service-accounts/:clientId/api-keys')
  @RequireScopes('api-keys:write')
  @ApiOperation({ summary: 'Issue an API key for a service account', description: `The response holds the key once; Keysmith keeps only a keyed hash. ${FORMAT_NOTE}` })
  @ApiZodBody(issueApiKeySchema)
  @ApiJson(201, 'The key representation plus `key`', issuedApiKeySchema)
  @ApiProblems(400, 401, 403, 404, 422)
  issue(
    @Ctx() ctx: OperationContext,
    @Param('realm', new ZodPipe(realmParam)) realm: string,
    @Param('clientId', new ZodPipe(clientIdSchema)) clientId: string,
    @Body(new ZodPipe(issueApiKeySchema)) body: IssueApiKeyInput,
  ) {
    return this.keys.issue(ctx, realm, clientId, body);
  }

  @Get('v1/realms/:realm/service-accounts/:clientId/api-keys')
  @RequireScopes('api-keys:read')
  @ApiOperation({ summary: "List a service account's API keys (metadata only)" })
  @ApiZodQuery(listApiKeysQuery)
  @ApiJson(200, 'A page of keys: { items, nextCursor }', apiKeyPageSchema)
  @ApiProblems(400, 401, 403, 404)
  list(
    @Ctx() ctx: OperationContext,
    @Param('realm', new ZodPipe(realmParam)) realm: string,
    @Param('clientId', new ZodPipe(clientIdSchema)) clientId: string,
    @Query(new ZodPipe(listApiKeysQuery)) query: ListApiKeysQuery,
  ) {
    return this.keys.list(ctx, realm, clientId, query);
  }

  @Post('v1/api-keys/verify')
  @HotPath('api-keys.verify')
  @HttpCode(200)
  @RequireScopes('api-keys:verify')
  @ApiOperation({
    summary: 'Verify an API key',
    description:
      'Always 200: `{ valid: true, keyId, realm, clientId, owner, scopes, expiresAt }` or `{ valid: false, code }` with `code` one of ' +
      'MALFORMED, NOT_FOUND, EXPIRED, REVOKED, INSUFFICIENT_SCOPE, RATE_LIMITED (with `retryAfterSeconds`), CLIENT_DISABLED. ' +
      'Keys are verified from memory: a key revoked on another instance may pass for up to KEYSMITH_KEY_INDEX_POLL_MS (1 s); ' +
      'an account change made on another instance applies within KEYSMITH_API_KEY_CACHE_TTL_MS (5 s).',
  })
  @ApiZodBody(verifyApiKeySchema)
  @ApiJson(200, 'The verdict', verifyResultSchema)
  @ApiProblems(400, 401, 403)
  async verify(@Req() request: HotRequest, @Body(new ZodPipe(verifyApiKeySchema)) body: z.infer<typeof verifyApiKeySchema>): Promise<VerifyResult> {
    const result = await this.verification.verify(body.key, { requiredScopes: body.requiredScopes, requestId: String(request.id) });
    if (result.valid) return validVerdict(result.identity);
    noteForAccessLog(request, { verdict: result.code });
    return { valid: false, code: result.code, ...(result.retryAfterSeconds !== undefined ? { retryAfterSeconds: result.retryAfterSeconds } : {}) };
  }

  @Get('v1/api-keys/scope-report')
  @RequireScopes('api-keys:read')
  @ApiOperation({
    summary: 'Live keys holding scopes their account no longer has',
    description:
      'Each live key whose issued scopes exceed its service account\'s current default and optional scopes: `issuedScopes`, `excessScopes`, ' +
      'and `scopes`, what it grants now. With KEYSMITH_KEY_SCOPE_ENFORCEMENT=enforce (default) the excess is cut at verification; with `report` ' +
      'the keys keep it until the setting changes. Each newly found excess is audited once as `api_key.scope_excess`. ' +
      'Owner-bound callers see only their owner\'s keys.',
  })
  @ApiZodQuery(scopeReportQuery)
  @ApiJson(200, '{ enforcement, items }', scopeExcessReportSchema)
  @ApiProblems(400, 401, 403)
  scopeReport(@Ctx() ctx: OperationContext, @Query(new ZodPipe(scopeReportQuery)) query: z.infer<typeof scopeReportQuery>) {
    return this.scopeExcess.report(ctx, ctx.owner, query.realm);
  }

  @Get('v1/api-keys/:id')
  @RequireScopes('api-keys:read')
  @ApiOperation({ summary: 'One API key (metadata only)' })
  @ApiParam({ name: 'id', example: 'key_019a7c3e5f2b4d1e8a9c0b' })
  @ApiJson(200, 'The key representation', apiKeyViewSchema)
  @ApiProblems(400, 401, 403, 404)
  get(@Ctx() ctx: OperationContext, @Param('id', new ZodPipe(keyIdParam)) id: string) {
    return this.keys.get(ctx, id);
  }

  @Post('v1/api-keys/:id/rotate')
  @RequireScopes('api-keys:write')
  @ApiOperation({
    summary: 'Rotate an API key',
    description: 'Issues a successor with the same name and scopes (returned with its `key`, once). The old key keeps working, with status `expiring`, for `graceHours` (default 24; 0 ends it now).',
  })
  @ApiZodBody(rotateApiKeySchema)
  @ApiJson(201, 'The successor plus `key`', issuedApiKeySchema)
  @ApiProblems(400, 401, 403, 404, 409, 422)
  rotate(@Ctx() ctx: OperationContext, @Param('id', new ZodPipe(keyIdParam)) id: string, @Body(new ZodPipe(rotateApiKeySchema)) body: z.infer<typeof rotateApiKeySchema>) {
    return this.keys.rotate(ctx, id, body.graceHours);
  }

  @Delete('v1/api-keys/:id')
  @HttpCode(204)
  @RequireScopes('api-keys:write')
  @ApiOperation({ summary: 'Revoke an API key now', description: 'Effective at once on this instance, on others within KEYSMITH_KEY_INDEX_POLL_MS (1 s).' })
  @ApiNoContent('Revoked')
  @ApiProblems(400, 401, 403, 404)
  async revoke(@Ctx() ctx: OperationContext, @Param('id', new ZodPipe(keyIdParam)) id: string): Promise<void> {
    await this.keys.revoke(ctx, id);
  }
}

/**
 * The answer for a valid key, one frozen object per shared identity (a key's identity is kept,
 * frozen, from its second verification on; see ApiKeyVerificationService.identityOf): the hot path
 * serializes it once (see app.hot-paths.ts).
 */
const verdicts = new WeakMap<ApiKeyIdentity, VerifyResult>();

function validVerdict(identity: ApiKeyIdentity): VerifyResult {
  // An identity not shared (a key seen once) gets an answer of its own, not kept.
  if (!Object.isFrozen(identity)) return { valid: true, ...identity };
  let verdict = verdicts.get(identity);
  if (verdict === undefined) {
    verdict = Object.freeze({ valid: true as const, ...identity });
    verdicts.set(identity, verdict);
  }
  return verdict;
}
