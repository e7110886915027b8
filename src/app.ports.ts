import { Global, Module } from '@nestjs/common';
import { AccountChangeFeed, ApiKeysModule, ApiKeyVerificationService, KeyRevocation, ServiceAccountDirectory } from './api-keys/index.js';
import { AuditOwnerLookup } from './audit/index.js';
import { ApiKeyVerifier, ManagedCallerDirectory } from './auth/index.js';
import { GrantGraphReader } from './common/grants/grant-graph.js';
import { bindPort } from './common/ports/bind-port.js';
import { GitopsAccounts } from './gitops/index.js';
import { KeycloakProbe, SecretRotationSupport } from './health/index.js';
import { KeycloakChangesReader, KeycloakGrantGraphReader, KeycloakService } from './keycloak/index.js';
import { AccountKeys, AccountLookupService, KeycloakChanges, RotationSupportService, ServiceAccountEvents, ServiceAccountsModule, ServiceAccountsService } from './service-accounts/index.js';

/**
 * Every port between features, bound to its implementation in one place. A port is an abstract
 * class the consuming feature declares in its `ports/` folder; `bindPort` lets the compiler check
 * that the implementation fits it, and a port left unbound stops the application at start-up
 * (Nest cannot resolve the consumer), never at the first request.
 */
export const PORT_BINDINGS = [
  bindPort(ApiKeyVerifier, ApiKeyVerificationService),
  bindPort(ManagedCallerDirectory, AccountLookupService),
  bindPort(AuditOwnerLookup, AccountLookupService),
  bindPort(ServiceAccountDirectory, ServiceAccountsService),
  bindPort(AccountChangeFeed, ServiceAccountEvents),
  bindPort(AccountKeys, KeyRevocation),
  bindPort(GitopsAccounts, ServiceAccountsService),
  bindPort(KeycloakProbe, KeycloakService),
  bindPort(SecretRotationSupport, RotationSupportService),
  bindPort(KeycloakChanges, KeycloakChangesReader),
  // The guard rails of service accounts read Keycloak's grants through it (common/grants/: both sides use its vocabulary).
  bindPort(GrantGraphReader, KeycloakGrantGraphReader),
];

/**
 * Provides the bound ports to every feature (global), so that a consumer never imports the
 * module of its provider and a provider never imports its consumer.
 */
@Global()
@Module({
  imports: [ServiceAccountsModule, ApiKeysModule],
  providers: PORT_BINDINGS,
  exports: PORT_BINDINGS.map((binding) => binding.provide),
})
export class PortBindingsModule {}
