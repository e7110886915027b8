/** The public surface of the keycloak feature: other features and the app import only this file. */
export { ACCOUNT_ID_ATTRIBUTE, KeycloakClientsGateway, MANAGED_BY_ATTRIBUTE, MANAGED_BY_VALUE, OWNER_ATTRIBUTE, SPEC_HASH_ATTRIBUTE } from './keycloak-clients.gateway.js';
export type { ClientRepresentation, ClientState, ManagedClientSpec, ManagedClientState, RealmCatalog, SecretRotationSupport } from './keycloak-clients.gateway.js';
export { diffGrants, isEmptyDiff, setDiff } from './client-grants.js';
export type { ActualGrants, GrantDiff, Grants, SetDiff } from './client-grants.js';
export { isStatus, KeycloakHttpError } from './keycloak.errors.js';
export { KeycloakModule } from './keycloak.module.js';
export { KeycloakService } from './keycloak.service.js';
export type { TokenResult } from './keycloak.service.js';
export { KeycloakGrantGraphReader } from './keycloak-grant-graph.reader.js';
