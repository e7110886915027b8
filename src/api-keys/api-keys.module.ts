import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysController } from './api-keys.controller.js';
import { AuthCheckController } from './auth-check.controller.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { ForwardAuth } from './forward-auth.js';
import { ApiKeyUsageService } from './services/api-key-usage.service.js';
import { ApiKeyVerificationService } from './services/api-key-verification.service.js';
import { ApiKeysService } from './services/api-keys.service.js';
import { KeyRevocation } from './services/key-revocation.service.js';
import { KeyCacheListener } from './services/key-cache.listener.js';
import { KeyExpiryService } from './services/key-expiry.service.js';
import { KeyLookup } from './services/key-lookup.service.js';
import { KeyRows } from './services/key-rows.js';
import { ScopeExcessService } from './services/scope-excess.service.js';
import { ApiKeyGenerationStrategy, PrefixedChecksumKeyGeneration } from './strategies/api-key-generation.strategy.js';
import { ApiKeyHashingStrategy, HmacPepperHashing } from './strategies/api-key-hashing.strategy.js';

/**
 * API keys linked to service accounts: issue, list, rotate, revoke, verify (also as forward auth).
 * Its ApiKeyVerificationService implements the auth guard's ApiKeyVerifier (bound in app.ports.ts).
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  controllers: [ApiKeysController, AuthCheckController],
  providers: [
    { provide: ApiKeyGenerationStrategy, useClass: PrefixedChecksumKeyGeneration },
    { provide: ApiKeyHashingStrategy, useClass: HmacPepperHashing },
    ForwardAuth,
    ApiKeyUsageService,
    KeyRows,
    KeyLookup,
    ApiKeyVerificationService,
    ApiKeysService,
    KeyRevocation,
    KeyCacheListener,
    KeyExpiryService,
    ScopeExcessService,
  ],
  exports: [ApiKeysService, KeyRevocation, ApiKeyVerificationService, ApiKeyUsageService, KeyExpiryService, ForwardAuth],
})
export class ApiKeysModule {}
