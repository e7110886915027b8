import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { Ctx, type OperationContext } from '../common/context/operation-context.js';
import { ApiJson, ApiNoContent, ApiProblems, ApiZodBody, ApiZodQuery } from '../common/http/api-docs.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import {
  clientIdSchema,
  createServiceAccountSchema,
  listServiceAccountsQuery,
  patchServiceAccountSchema,
  serviceAccountBodySchema,
  type CreateServiceAccountInput,
  type PatchServiceAccountInput,
  rotateSecretSchema,
  type ServiceAccountSpec,
} from './dto/service-account.schemas.js';
import { ServiceAccountsService } from './services/service-accounts.service.js';
import { SERVICE_ACCOUNT_SCHEMAS as S, type ServiceAccountView } from './service-account.view.js';
import { etagOf } from './account-spec.js';

const realmParam = new ZodPipe(z.string().min(1).max(100));
const clientIdParam = new ZodPipe(clientIdSchema);
const ifMatchHeader = {
  name: 'If-Match',
  required: false,
  description: 'The ETag of a read: the change is made only if the account has not changed since (otherwise 412 PRECONDITION_FAILED). Without it, concurrent changes are serialised and none is lost.',
};

/** The ETag every response carrying one account has (declared in the OpenAPI document). */
const ETAG_HEADER = {
  ETag: { description: "The account's entity tag (a quoted string): send it as If-Match to change the account only if nobody changed it since", schema: { type: 'string' as const } },
};

/** Sets the response's ETag to the account's entity tag. */
function withEtag(reply: FastifyReply, account: ServiceAccountView): void {
  reply.header('etag', etagOf(account));
}

/** Keycloak service-account clients: provisioning, declarative updates, secrets. */
@ApiTags('service accounts')
@ApiParam({ name: 'realm', description: 'A realm Keysmith manages' })
@Controller('v1/realms/:realm/service-accounts')
export class ServiceAccountsController {
  constructor(private readonly serviceAccounts: ServiceAccountsService) {}

  @Post()
  @RequireScopes('service-accounts:write')
  @ApiOperation({
    summary: 'Create a service-account client with roles and scopes',
    description:
      'Creates a confidential OIDC client with only the service-accounts flow, grants the roles to its service-account user ' +
      '(tokens carry exactly those roles) and sets its client scopes. The base scopes `basic`, `roles` and `service_account` ' +
      '(KEYSMITH_BASE_CLIENT_SCOPES) are always attached. The response carries `clientSecret` this once. Nothing half-made is left ' +
      'on failure: the client is removed again, or recovery removes it as soon as Keycloak is back. Each grant is judged by what it ' +
      'really gives (composite roles expanded at any depth, what client scopes add to tokens); a refusal is 403 GRANT_FORBIDDEN ' +
      'naming each grant and its path in `violations`.',
  })
  @ApiZodBody(createServiceAccountSchema)
  @ApiJson(201, 'The service account plus `clientSecret` (shown once)', S.withSecret, ETAG_HEADER)
  @ApiProblems(400, 401, 403, 404, 409, 422, 502, 503)
  async create(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Body(new ZodPipe(createServiceAccountSchema)) body: CreateServiceAccountInput,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.serviceAccounts.create(context, realm, body);
    withEtag(reply, result.account);
    return { ...result.account, clientSecret: result.clientSecret };
  }

  @Get()
  @RequireScopes('service-accounts:read')
  @ApiOperation({ summary: 'List service accounts (filters: owner, clientId prefix)' })
  @ApiZodQuery(listServiceAccountsQuery)
  @ApiJson(200, '{ items, nextCursor }', S.page)
  @ApiProblems(400, 401, 403, 404)
  list(@Ctx() context: OperationContext, @Param('realm', realmParam) realm: string, @Query(new ZodPipe(listServiceAccountsQuery)) query: z.infer<typeof listServiceAccountsQuery>) {
    return this.serviceAccounts.list(context, realm, { owner: query.owner, clientIdPrefix: query.clientId }, query.limit, query.cursor);
  }

  @Get(':clientId')
  @RequireScopes('service-accounts:read')
  @ApiOperation({ summary: 'One service account' })
  @ApiJson(200, 'The service account; its `ETag` header is what `If-Match` takes', S.account, ETAG_HEADER)
  @ApiProblems(400, 401, 403, 404)
  async get(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Param('clientId', clientIdParam) clientId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const account = await this.serviceAccounts.get(context, realm, clientId);
    withEtag(reply, account);
    return account;
  }

  @Put(':clientId')
  @RequireScopes('service-accounts:write')
  @ApiOperation({
    summary: 'Declarative upsert: make Keycloak match the body exactly',
    description:
      'Roles and scopes not listed are removed. Answers 201 when created (with `clientSecret`, shown once), 200 when updated; ' +
      '`changes` lists what changed by name. A body that matches Keycloak makes no write call and answers `changes: []`. ' +
      'Grants the account does not hold yet are judged by what they really give (403 GRANT_FORBIDDEN with `violations`); ' +
      'grants it already holds are not judged again (the drift job reports them).',
  })
  @ApiZodBody(serviceAccountBodySchema)
  @ApiJson(200, 'Updated: the service account plus `changes`', S.withChanges, ETAG_HEADER)
  @ApiJson(201, 'Created: the service account plus `changes` and `clientSecret`', S.withChangesAndSecret, ETAG_HEADER)
  @ApiHeader(ifMatchHeader)
  @ApiProblems(400, 401, 403, 404, 409, 412, 422, 502, 503)
  async put(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Param('clientId', clientIdParam) clientId: string,
    @Body(new ZodPipe(serviceAccountBodySchema)) body: ServiceAccountSpec,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.serviceAccounts.upsert(context, realm, clientId, body, { ifMatch });
    reply.status(result.created ? 201 : 200);
    withEtag(reply, result.account);
    return { ...result.account, changes: result.changes, ...(result.clientSecret ? { clientSecret: result.clientSecret } : {}) };
  }

  @Patch(':clientId')
  @RequireScopes('service-accounts:write')
  @ApiOperation({ summary: 'Partial change: description, owner, enabled, policies; roles and scopes by add/remove lists' })
  @ApiZodBody(patchServiceAccountSchema)
  @ApiJson(200, 'The service account plus `changes`', S.withChanges, ETAG_HEADER)
  @ApiHeader(ifMatchHeader)
  @ApiProblems(400, 401, 403, 404, 409, 412, 422, 502, 503)
  async patch(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Param('clientId', clientIdParam) clientId: string,
    @Body(new ZodPipe(patchServiceAccountSchema)) body: PatchServiceAccountInput,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.serviceAccounts.patch(context, realm, clientId, body, { ifMatch });
    withEtag(reply, result.account);
    return { ...result.account, changes: result.changes };
  }

  @Delete(':clientId')
  @HttpCode(204)
  @RequireScopes('service-accounts:write')
  @ApiOperation({ summary: 'Delete the Keycloak client and revoke all its API keys' })
  @ApiHeader(ifMatchHeader)
  @ApiNoContent('Deleted')
  @ApiProblems(400, 401, 403, 404, 409, 412, 503)
  async remove(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Param('clientId', clientIdParam) clientId: string,
    @Headers('if-match') ifMatch: string | undefined,
  ) {
    await this.serviceAccounts.remove(context, realm, clientId, { ifMatch });
  }

  @Get(':clientId/secret')
  @RequireScopes('secrets:read')
  @ApiOperation({
    summary: 'The current client secret (audited)',
    description:
      'The secret gets tokens with every scope the account holds, so the caller must also hold each of Keysmith\'s own scopes ' +
      'the account holds (keysmith:admin among them): 403 SCOPE_ESCALATION naming the others.',
  })
  @ApiJson(200, '{ clientSecret, rotatedAt }', S.secret)
  @ApiProblems(400, 401, 403, 404, 503)
  secret(@Ctx() context: OperationContext, @Param('realm', realmParam) realm: string, @Param('clientId', clientIdParam) clientId: string) {
    return this.serviceAccounts.readSecret(context, realm, clientId);
  }

  @Post(':clientId/secret/rotate')
  @HttpCode(200)
  @RequireScopes('service-accounts:write')
  @ApiOperation({
    summary: 'Rotate the client secret with a grace window',
    description:
      'Keycloak makes a new secret; the previous one stays valid for `graceHours` (default: the account\'s secretRotation.graceHours; ' +
      '0 ends it now). The new secret is stored encrypted, proven with a real client-credentials request, and returned this once. ' +
      'The rotation is recorded before Keycloak is asked, under the account\'s lease: if the call is cut off, the rotation is ' +
      'finished by recovery and GET .../secret returns a secret Keycloak accepts at every point. ' +
      'Needs Keycloak\'s client-secret-rotation feature and the Keysmith client policy (scripts/keycloak.sh seeds both); without ' +
      'them the answer is 409 SECRET_ROTATION_UNAVAILABLE unless KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER=true. As for reading the ' +
      'secret, the caller must hold each of Keysmith\'s own scopes the account holds (403 SCOPE_ESCALATION).',
  })
  @ApiZodBody(rotateSecretSchema)
  @ApiJson(200, '{ clientSecret, previousSecretValidUntil }', S.rotated)
  @ApiProblems(400, 401, 403, 404, 409, 502, 503)
  rotate(
    @Ctx() context: OperationContext,
    @Param('realm', realmParam) realm: string,
    @Param('clientId', clientIdParam) clientId: string,
    @Body(new ZodPipe(rotateSecretSchema)) body: z.infer<typeof rotateSecretSchema>,
  ) {
    return this.serviceAccounts.rotateSecret(context, realm, clientId, body.graceHours);
  }
}
