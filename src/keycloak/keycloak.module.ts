import { Global, Module } from '@nestjs/common';
import { KeycloakClientsGateway } from './keycloak-clients.gateway.js';
import { KeycloakGrantGraphReader } from './keycloak-grant-graph.reader.js';
import { KeycloakChangesReader } from './keycloak-changes.reader.js';
import { KeycloakAdmin } from './keycloak-admin.js';
import { KeycloakService } from './keycloak.service.js';

@Global()
@Module({
  providers: [KeycloakService, KeycloakAdmin, KeycloakClientsGateway, KeycloakGrantGraphReader, KeycloakChangesReader],
  exports: [KeycloakService, KeycloakClientsGateway, KeycloakGrantGraphReader, KeycloakChangesReader],
})
export class KeycloakModule {}
