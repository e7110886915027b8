import { All, Controller, HttpCode, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { ForwardAuth } from '../api-keys/index.js';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { HotPath } from '../common/http/hot-path.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { AUTH_EXCHANGE_PATH } from './auth-exchange.openapi.js';
import { TokenExchangeService } from './services/token-exchange.service.js';
import { TokenExchangeError } from './token-exchange.errors.js';
import type { HotReply, HotRequest } from '../common/http/hot-request.js';

/**
 * Phantom-token forward auth: answers exactly as forward auth does (the same ForwardAuth decision,
 * headers and limits), plus `Authorization: Bearer <Keycloak JWT>` for the gateway to pass
 * upstream instead of the key. Any method and any path below it, because Envoy forwards the
 * original method and appends the original path. Documented in auth-exchange.openapi.ts.
 */
@Controller(AUTH_EXCHANGE_PATH.slice(1))
export class AuthExchangeController {
  constructor(
    private readonly forwardAuth: ForwardAuth,
    private readonly exchange: TokenExchangeService,
  ) {}

  @All(['', '*'])
  @HotPath('auth.exchange')
  @PublicRoute()
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async exchangeAtGateway(@Req() request: HotRequest, @Res({ passthrough: true }) reply: HotReply): Promise<void> {
    const { identity, headers } = await this.forwardAuth.authorize(request);
    try {
      const token = await this.exchange.exchangeFor(identity, { clientAddress: request.ip, requestId: String(request.id), via: 'forward-auth' });
      void reply.headers(headers).header('authorization', `Bearer ${token.accessToken}`).header('cache-control', 'no-store');
    } catch (error) {
      throw error instanceof TokenExchangeError ? asProblem(error) : error;
    }
  }
}

/** An exchange refusal in forward auth's terms: problem+json with a status gateways pass on. */
function asProblem(error: TokenExchangeError): DomainError {
  switch (error.refusal) {
    case 'KEYCLOAK_UNAVAILABLE':
      return new DomainError(ErrorCode.KeycloakUnavailable, error.description, {}, error.headers);
    case 'KEYCLOAK_REFUSED':
    case 'TOKEN_LIFESPAN_EXCEEDED':
      return new DomainError(ErrorCode.KeycloakRejected, error.description);
    case 'REVOKED':
    case 'CLIENT_DISABLED':
      return new DomainError(ErrorCode.InvalidCredentials, error.description, { reason: error.refusal });
    default:
      return new DomainError(ErrorCode.TokenExchangeRefused, error.description, {
        reason: error.refusal,
        ...(error.extras.scopes ? { scopes: error.extras.scopes } : {}),
      });
  }
}
