import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard.js';
import { JwksProvider } from './jwks.provider.js';
import { JwtVerifier } from './jwt.verifier.js';
import { Clock } from '../common/time/clock.js';
import { TokenClock } from './token-clock.js';

/**
 * Authentication and scope checks of Keysmith's own API: one global guard accepting Keycloak JWTs
 * or Keysmith API keys (through the ApiKeyVerifier the API-keys feature provides).
 */
@Module({
  providers: [{ provide: TokenClock, useExisting: Clock }, JwksProvider, JwtVerifier, AuthGuard, { provide: APP_GUARD, useExisting: AuthGuard }],
  exports: [JwtVerifier, JwksProvider],
})
export class AuthModule {}
