import { Controller, Get, Headers, HttpCode, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ApiProblems } from '../common/http/api-docs.js';
import { ApiKeyVerificationService } from './services/api-key-verification.service.js';

const WWW_AUTHENTICATE = 'ApiKey realm="keysmith", header="X-API-Key"';

/**
 * Forward authentication for gateways (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz):
 * the gateway passes the caller's X-API-Key through and forwards the X-Auth-* headers upstream.
 */
@ApiTags('api-keys')
@Controller('v1/auth/check')
export class AuthCheckController {
  constructor(private readonly verification: ApiKeyVerificationService) {}

  @Get()
  @PublicRoute()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Forward-auth check of an API key',
    description:
      'Needs no credential besides the key it checks. 204 with X-Auth-Client-Id, X-Auth-Realm, X-Auth-Scopes (space-separated) and X-Auth-Key-Id; ' +
      '401 (missing, malformed, unknown, expired, revoked key or disabled client; `reason` names which), 403 (scope missing, with `required` and `provided`), ' +
      '429 with Retry-After (the key\'s rate limit, or too many failures from this client address). Results are cached for at most 5 s.',
  })
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'The key to check' })
  @ApiHeader({ name: 'X-Required-Scopes', required: false, description: 'Scopes the key must hold, separated by commas or spaces' })
  @ApiResponse({ status: 204, description: 'Valid key; identity in X-Auth-* headers' })
  @ApiProblems(401, 403, 429)
  async check(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('x-api-key') key: string | undefined,
    @Headers('x-required-scopes') requiredHeader: string | undefined,
  ): Promise<void> {
    if (!key) {
      throw new DomainError(ErrorCode.AuthenticationRequired, 'Send the API key in the X-API-Key header.', {}, { 'WWW-Authenticate': WWW_AUTHENTICATE });
    }
    const requiredScopes = (requiredHeader ?? '').split(/[\s,]+/).filter(Boolean);
    const result = await this.verification.verify(key, { requiredScopes, clientAddress: request.ip, requestId: String(request.id) });
    if (result.valid) {
      const { identity } = result;
      void reply.headers({
        'x-auth-client-id': identity.clientId,
        'x-auth-realm': identity.realm,
        'x-auth-scopes': identity.scopes.join(' '),
        'x-auth-key-id': identity.keyId,
      });
      return;
    }
    switch (result.code) {
      case 'RATE_LIMITED':
        throw new DomainError(ErrorCode.RateLimited, 'Too many requests; retry after the time in Retry-After.', { retryAfterSeconds: result.retryAfterSeconds }, {
          'Retry-After': String(result.retryAfterSeconds ?? 1),
        });
      case 'INSUFFICIENT_SCOPE':
        throw new DomainError(ErrorCode.InsufficientScope, 'The key lacks a required scope.', {
          required: requiredScopes,
          provided: result.identity?.scopes ?? [],
        });
      default:
        throw new DomainError(ErrorCode.InvalidCredentials, 'The API key is not valid.', { reason: result.code }, { 'WWW-Authenticate': WWW_AUTHENTICATE });
    }
  }
}
