import { Controller, Get, HttpCode, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { ApiProblems } from '../common/http/api-docs.js';
import { ForwardAuth } from './forward-auth.js';

/**
 * Forward authentication for gateways (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz):
 * the gateway passes the caller's X-API-Key through and forwards the X-Auth-* headers upstream.
 */
@ApiTags('api-keys')
@Controller('v1/auth/check')
export class AuthCheckController {
  constructor(private readonly forwardAuth: ForwardAuth) {}

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
  async check(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const { headers } = await this.forwardAuth.authorize(request);
    void reply.headers(headers);
  }
}
