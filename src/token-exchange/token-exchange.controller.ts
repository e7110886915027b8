import { Controller, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { HotPath } from '../common/http/hot-path.js';
import { noteForAccessLog } from '../common/logging/access-log.js';
import { parseTokenRequest } from './dto/token-request.js';
import { tokenResponseBody } from './dto/token-response.js';
import { TokenExchangeService } from './services/token-exchange.service.js';
import { ApiTokenExchange } from './token-exchange.docs.js';
import { TokenExchangeError, unreadableTokenRequest } from './token-exchange.errors.js';
import type { HotReply, HotRequest } from '../common/http/hot-request.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function sendRefusal(request: HotRequest, reply: HotReply, refusal: TokenExchangeError): void {
  noteForAccessLog(request, { code: refusal.error });
  void reply.status(refusal.status).headers({ ...NO_STORE, ...refusal.headers }).type('application/json').send(refusal.toBody());
}

/**
 * The OAuth 2.0 token endpoint for API keys (RFC 8693 token exchange): answers in OAuth's own
 * format, `{ access_token, ... }` or `{ error, error_description }`, not problem+json, so that
 * OAuth client libraries can use it.
 */
@ApiTags('token-exchange')
@Controller('v1/token')
export class TokenExchangeController {
  private readonly logger = new Logger(TokenExchangeController.name);

  constructor(private readonly exchange: TokenExchangeService) {}

  @Post()
  @HotPath('token')
  @PublicRoute()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Trade an API key for a Keycloak access token (RFC 8693 token exchange)',
    description:
      'The API key is the only credential. Keysmith verifies it, then obtains a token from Keycloak for the key\'s service account ' +
      '(client credentials with the account\'s stored secret). The token never carries a scope the key lacks: Keycloak always adds an account\'s ' +
      'default scopes, so an exchange whose token would carry a default scope the key lacks, or that the request leaves out, is refused with ' +
      '`invalid_scope` naming it (the base scopes `basic`, `roles` and `service_account` are exempt). Opt-in per account: `apiKeyPolicy.tokenExchange`. ' +
      'Tokens are cached per key and scope set for most of their lifetime; revoking the key stops the exchange at once (within 5 s on other instances), ' +
      'but a token already issued lives until its `exp` (the account\'s access-token lifespan, 300 s by default). Rate-limited per key and per address like forward auth.',
  })
  @ApiTokenExchange()
  async token(@Req() request: HotRequest, @Res() reply: HotReply): Promise<void> {
    try {
      const { subjectToken, scopes } = parseTokenRequest(request.headers['content-type'], request.body);
      const result = await this.exchange.exchange(subjectToken, { scopes, clientAddress: request.ip, requestId: String(request.id), via: 'token' });
      void reply.status(200).headers(NO_STORE).type('application/json').send(tokenResponseBody(result));
    } catch (error) {
      sendRefusal(request, reply, error instanceof TokenExchangeError ? error : this.unexpected(error, String(request.id)));
    }
  }

  /**
   * Answers a request the endpoint could not read before its handler ran (a body that does not
   * parse, another media type) in OAuth's format too: the app's error answer calls it for this
   * route instead of writing problem+json.
   */
  static answerUnreadable(error: unknown, request: HotRequest, reply: HotReply): void {
    sendRefusal(request, reply, unreadableTokenRequest(error));
  }

  private unexpected(error: unknown, requestId: string): TokenExchangeError {
    this.logger.error({ err: error, requestId }, 'token exchange failed');
    return new TokenExchangeError('server_error', `An unexpected error occurred. Quote request id ${requestId} when reporting it.`, 'BAD_REQUEST');
  }
}
