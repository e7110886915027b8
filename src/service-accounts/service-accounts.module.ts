import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceAccountEntity } from './entities/service-account.entity.js';
import { grantGuardProviders } from './policy/grant-guard.providers.js';
import { ServiceAccountEvents } from './service-account.events.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsService } from './services/service-accounts.service.js';
import { AccountLookupService } from './services/account-lookup.service.js';
import { SecretRotationService } from './usecases/rotate-secret/secret-rotation.service.js';
import { RotationSupportService } from './usecases/rotate-secret/rotation-support.service.js';
import { KeycloakRotationAdapter, RotationNotifier, RotationRowStore } from './usecases/rotate-secret/rotation.adapters.js';
import { ACCOUNT_LEASE } from './usecases/rotate-secret/rotation.ports.js';
import { RotationLeaseAdapter } from './usecases/rotate-secret/rotation-lease.adapter.js';
import { SecretHealthService } from './usecases/check-secret-health/secret-health.service.js';
import { ServiceAccountCredentials } from './services/service-account-credentials.service.js';
import { PolicyViolationsService } from './services/policy-violations.service.js';
import { AccountLease } from './lease/account-lease.js';
import { AccountRows } from './services/account-rows.js';
import { SpecChecker } from './services/spec-checker.js';
import { AccountReader } from './usecases/account-reader.js';
import { AssignSetUseCase } from './usecases/assign-set.usecase.js';
import { DeleteAccountUseCase } from './usecases/delete-account.usecase.js';
import { ProvisionAccountUseCase } from './usecases/provision-account.usecase.js';
import { ReconcileAccountUseCase } from './usecases/reconcile-account.usecase.js';
import { RecoverAccountUseCase } from './usecases/recover-account.usecase.js';
import { KeycloakSyncStateEntity } from './entities/keycloak-sync-state.entity.js';
import { EventFollower } from './usecases/follow-keycloak/event-follower.js';
import { KeycloakSyncService } from './usecases/follow-keycloak/keycloak-sync.service.js';
import { ObserveAccountUseCase } from './usecases/follow-keycloak/observe-account.usecase.js';

const useCases = [AccountReader, ProvisionAccountUseCase, ReconcileAccountUseCase, DeleteAccountUseCase, RecoverAccountUseCase, AssignSetUseCase];

@Module({
  imports: [TypeOrmModule.forFeature([ServiceAccountEntity, KeycloakSyncStateEntity])],
  controllers: [ServiceAccountsController],
  providers: [
    ServiceAccountsService,
    ...useCases,
    AccountRows,
    SpecChecker,
    AccountLease,
    ServiceAccountEvents,
    SecretRotationService,
    RotationSupportService,
    KeycloakRotationAdapter,
    RotationRowStore,
    RotationNotifier,
    SecretHealthService,
    { provide: ACCOUNT_LEASE, useClass: RotationLeaseAdapter },
    ServiceAccountCredentials,
    PolicyViolationsService,
    ...grantGuardProviders,
    AccountLookupService,
    ObserveAccountUseCase,
    EventFollower,
    KeycloakSyncService,
  ],
  exports: [
    KeycloakSyncService,
    ServiceAccountsService,
    PolicyViolationsService,
    RecoverAccountUseCase,
    AccountRows,
    AccountLease,
    ServiceAccountEvents,
    SecretRotationService,
    ServiceAccountCredentials,
    AccountLookupService,
    SecretHealthService,
    RotationSupportService,
  ],
})
export class ServiceAccountsModule {}
