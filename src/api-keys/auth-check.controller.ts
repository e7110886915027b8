import { All, Controller, HttpCode, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { HotPath } from '../common/http/hot-path.js';
import { FORWARD_AUTH_PATH } from './auth-check.openapi.js';
import { ForwardAuth } from './forward-auth.js';
import type { HotReply, HotRequest } from '../common/http/hot-request.js';

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
  constructor(private readonly forwardAuth: ForwardAuth) {}

  @All(['', '*'])
  @HotPath('auth.check')
  @PublicRoute()
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async check(@Req() request: HotRequest, @Res({ passthrough: true }) reply: HotReply): Promise<void> {
    const { headers } = await this.forwardAuth.authorize(request);
    void reply.headers(headers);
  }
}
