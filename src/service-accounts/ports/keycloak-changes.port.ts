import type { AdminEvent, ManagedClientSnapshot, RealmEventSettings } from '../../keycloak/index.js';

/**
 * What following changes made in Keycloak needs to read there, bound to `KeycloakChangesReader` in
 * `src/app.ports.ts`: a realm's admin-event settings and events, pages of its managed clients for
 * the sweep, whether a client still exists, and whose service-account user a user is.
 */
export abstract class KeycloakChanges {
  abstract eventSettings(realm: string): Promise<RealmEventSettings>;
  abstract adminEvents(realm: string, from: number, first: number, max: number): Promise<AdminEvent[]>;
  abstract newestAdminEvent(realm: string): Promise<AdminEvent | undefined>;
  abstract managedClientsPage(realm: string, first: number, max?: number): Promise<{ clients: ManagedClientSnapshot[]; fetched: number }>;
  abstract clientExists(realm: string, id: string): Promise<boolean>;
  abstract serviceAccountOwner(realm: string, userId: string): Promise<string | undefined>;
}
