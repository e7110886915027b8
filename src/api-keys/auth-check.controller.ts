import { All, Controller, Headers, HttpCode, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { FORWARD_AUTH_PATH } from './auth-check.openapi.js';
import { ApiKeyVerificationService } from './services/api-key-verification.service.js';

const WWW_AUTHENTICATE = 'ApiKey realm="keysmith", header="X-API-Key"';

/**
 * Forward authentication for gateways (nginx `auth_request`, Caddy `forward_auth`, Traefik
 * ForwardAuth, Envoy `ext_authz`): the gateway passes the caller's X-API-Key through and forwards
 * the X-Auth-* headers upstream. Any method and any path below `/v1/auth/check/` are answered alike,
 * because Envoy forwards the original method and appends the original path; success is 200 with
 * an empty body, the one status all four take. Documented in auth-check.openapi.ts: @All would list
 * methods OpenAPI does not know.
 */
@Controller(FORWARD_AUTH_PATH.slice(1))
export class AuthCheckController {
  constructor(private readonly verification: ApiKeyVerificationService) {}

  @All(['', '*'])
  @PublicRoute()
  @HttpCode(200)
  @ApiExcludeEndpoint()
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
    const result = await this.verification.verify(key, {
      requiredScopes,
      clientAddress: request.ip,
      limitFailuresByAddress: true,
      requestId: String(request.id),
    });
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
