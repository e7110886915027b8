import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/index.js';
import { ServiceAccountsModule } from '../service-accounts/index.js';
import { TokenExchangeService } from './services/token-exchange.service.js';
import { AuthExchangeController } from './auth-exchange.controller.js';
import { TokenExchangeController } from './token-exchange.controller.js';

/**
 * Trading API keys for Keycloak access tokens: the OAuth token endpoint (POST /v1/token) and
 * phantom-token forward auth (/v1/auth/exchange).
 */
@Module({
  imports: [ApiKeysModule, ServiceAccountsModule],
  controllers: [TokenExchangeController, AuthExchangeController],
  providers: [TokenExchangeService],
  exports: [TokenExchangeService],
})
export class TokenExchangeModule {}
