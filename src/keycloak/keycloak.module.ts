import { Global, Module } from '@nestjs/common';
import { KeycloakClientsGateway } from './keycloak-clients.gateway.js';
import { KeycloakService } from './keycloak.service.js';

@Global()
@Module({ providers: [KeycloakService, KeycloakClientsGateway], exports: [KeycloakService, KeycloakClientsGateway] })
export class KeycloakModule {}
