/** The public surface of the keycloak feature: other features and the app import only this file. */
export { KeycloakClientsGateway } from './keycloak-clients.gateway.js';
export type { ClientOwnership, ManagedClientSpec, ManagedClientState, ManagedClientSummary, RealmCatalog, SecretRotationSupport } from './managed-client.js';
export { diffGrants, isEmptyDiff, setDiff } from './client-grants.js';
export type { GrantDiff, Grants, SetDiff } from './client-grants.js';
export { isStatus } from './keycloak.errors.js';
export { KeycloakModule } from './keycloak.module.js';
export { KeycloakService } from './keycloak.service.js';
export type { TokenResult } from './keycloak.service.js';
export { KeycloakGrantGraphReader } from './keycloak-grant-graph.reader.js';
export { KeycloakChangesReader, SWEEP_PAGE_SIZE, secretDigest } from './keycloak-changes.reader.js';
export type { ManagedClientSnapshot, RealmEventSettings } from './keycloak-changes.reader.js';
export { impactOf, readEvents, startCursor } from './admin-events.js';
export type { AdminEvent, CursorRead, CursorSettings, EventCursorState, EventImpact } from './admin-events.js';
export { meterKeycloakCalls } from './keycloak-call-meter.js';
