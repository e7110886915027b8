import { Global, Module } from '@nestjs/common';
import { KeycloakClientsGateway } from './keycloak-clients.gateway.js';
import { KeycloakGrantGraphReader } from './keycloak-grant-graph.reader.js';
import { KeycloakAdmin } from './keycloak-admin.js';
import { KeycloakService } from './keycloak.service.js';

@Global()
@Module({
  providers: [KeycloakService, KeycloakAdmin, KeycloakClientsGateway, KeycloakGrantGraphReader],
  exports: [KeycloakService, KeycloakClientsGateway, KeycloakGrantGraphReader],
})
export class KeycloakModule {}
