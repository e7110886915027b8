import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceAccountEntity } from './entities/service-account.entity.js';
import { grantGuardProviders } from './policy/grant-guard.providers.js';
import { ServiceAccountEvents } from './service-account.events.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsService } from './services/service-accounts.service.js';
import { AccountLookupService } from './services/account-lookup.service.js';
import { ManagedCallerDirectory } from '../common/auth/managed-callers.js';
import { AuditOwnerLookup } from '../audit/audit-owner-lookup.js';
import { SecretRotationService } from './services/secret-rotation.service.js';
import { PolicyViolationsService } from './services/policy-violations.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ServiceAccountEntity])],
  controllers: [ServiceAccountsController],
  providers: [
    ServiceAccountsService,
    ServiceAccountEvents,
    SecretRotationService,
    PolicyViolationsService,
    ...grantGuardProviders,
    AccountLookupService,
    { provide: ManagedCallerDirectory, useExisting: AccountLookupService },
    { provide: AuditOwnerLookup, useExisting: AccountLookupService },
  ],
  exports: [ServiceAccountsService, ServiceAccountEvents, SecretRotationService, PolicyViolationsService, ManagedCallerDirectory, AuditOwnerLookup],
})
export class ServiceAccountsModule {}
