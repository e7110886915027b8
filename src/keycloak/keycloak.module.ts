import { Global, Module } from '@nestjs/common';
import { GrantGraphReader } from '../service-accounts/policy/grant-graph.js';
import { KeycloakClientsGateway } from './keycloak-clients.gateway.js';
import { KeycloakGrantGraphReader } from './keycloak-grant-graph.reader.js';
import { KeycloakService } from './keycloak.service.js';

@Global()
@Module({
  providers: [KeycloakService, KeycloakClientsGateway, { provide: GrantGraphReader, useClass: KeycloakGrantGraphReader }],
  exports: [KeycloakService, KeycloakClientsGateway, GrantGraphReader],
})
export class KeycloakModule {}
