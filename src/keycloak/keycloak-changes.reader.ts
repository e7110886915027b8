import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { AdminEvent } from './admin-events.js';
import { KeycloakHttpError } from './keycloak.errors.js';
import { KeycloakAdmin } from './keycloak-admin.js';
import { ACCOUNT_ID_ATTRIBUTE, MANAGED_BY_ATTRIBUTE, MANAGED_BY_VALUE } from './managed-client.js';

/** A realm's admin-event settings, as far as following changes needs them. */
export interface RealmEventSettings {
  adminEventsEnabled: boolean;
  /** Keycloak purges admin events older than this (ms); null: kept until removed by hand. */
  retentionMs: number | null;
}

/** A managed client as the sweep sees it: one entry of a page of the realm's clients. */
export interface ManagedClientSnapshot {
  id: string;
  clientId: string;
  accountId: string | undefined;
  enabled: boolean;
  /** Default and optional client scopes, by name. */
  scopes: string[];
  /** SHA-256 of the client's current secret (hex), never the secret itself. */
  secretDigest: string | null;
}

/** Clients read per page in a sweep: 10,000 managed clients take 20 calls. */
export const SWEEP_PAGE_SIZE = 500;

/**
 * Reads what changed in Keycloak behind Keysmith's back: a realm's admin-event settings, its admin
 * events (`view-events`), the realm's clients page by page for the sweep (Keycloak 26 refuses a
 * search by a client attribute unless the server lists it as searchable, so pages of every client
 * are filtered here), and whose service-account user a user is.
 */
@Injectable()
export class KeycloakChangesReader {
  constructor(private readonly keycloak: KeycloakAdmin) {}

  async eventSettings(realm: string): Promise<RealmEventSettings> {
    const representation = await this.keycloak.read('read realm', (kc) => kc.realms.findOne({ realm }));
    const attributes = (representation?.attributes ?? {}) as Record<string, unknown>;
    const seconds = Number(attributes['adminEventsExpiration'] ?? 0);
    return { adminEventsEnabled: representation?.adminEventsEnabled === true, retentionMs: seconds > 0 ? seconds * 1000 : null };
  }

  /** A page of admin events from `from` (Keycloak time, inclusive), oldest first. */
  adminEvents(realm: string, from: number, first: number, max: number): Promise<AdminEvent[]> {
    return this.events(realm, { dateFrom: String(from), first: String(first), max: String(max), direction: 'asc' });
  }

  /** The newest admin event of the realm, if any. */
  async newestAdminEvent(realm: string): Promise<AdminEvent | undefined> {
    return (await this.events(realm, { first: '0', max: '1', direction: 'desc' }))[0];
  }

  /** One page of the realm's clients, the managed ones kept; `fetched` says whether more pages may follow. */
  async managedClientsPage(realm: string, first: number, max = SWEEP_PAGE_SIZE): Promise<{ clients: ManagedClientSnapshot[]; fetched: number }> {
    const page = (await this.keycloak.read('list clients', (kc) => kc.clients.find({ realm, first, max }))) as ClientRepresentation[];
    const clients = page.filter((client) => client.attributes?.[MANAGED_BY_ATTRIBUTE] === MANAGED_BY_VALUE).map(snapshotOf);
    return { clients, fetched: page.length };
  }

  /** Whether a client with this UUID exists (a check before an account is declared orphaned). */
  async clientExists(realm: string, id: string): Promise<boolean> {
    try {
      await this.keycloak.read('read client', (kc) => kc.clients.findOne({ realm, id }));
      return true;
    } catch (error) {
      if (error instanceof KeycloakHttpError && error.status === 404) return false;
      throw error;
    }
  }

  /** The clientId whose service-account user `userId` is; undefined for other users and deleted ones. */
  async serviceAccountOwner(realm: string, userId: string): Promise<string | undefined> {
    try {
      const user = await this.keycloak.read('read user', (kc) => kc.users.findOne({ realm, id: userId }));
      const username = user?.username ?? '';
      return username.startsWith('service-account-') ? username.slice('service-account-'.length) : undefined;
    } catch (error) {
      if (error instanceof KeycloakHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  private events(realm: string, query: Record<string, string>): Promise<AdminEvent[]> {
    // The admin client's call for this endpoint does not pass `direction`: a plain request with its token.
    return this.keycloak.read('read admin events', async (kc) => {
      const url = `${kc.baseUrl}/admin/realms/${encodeURIComponent(realm)}/admin-events?${new URLSearchParams(query)}`;
      const token = await kc.getAccessToken();
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok) throw new KeycloakHttpError(response.status, 'read admin events', response.statusText);
      const body = (await response.json()) as (Partial<AdminEvent> & { authDetails?: { userId?: string } })[];
      // Keysmith's own changes are logged with its service-account user, the subject of its token.
      const self = subjectOf(token);
      return body.map((event) => ({
        id: String(event.id),
        time: Number(event.time),
        operationType: String(event.operationType ?? ''),
        resourceType: String(event.resourceType ?? ''),
        resourcePath: event.resourcePath ?? null,
        byKeysmith: self !== undefined && event.authDetails?.userId === self,
      }));
    });
  }
}

function snapshotOf(client: ClientRepresentation): ManagedClientSnapshot {
  return {
    id: client.id!,
    clientId: client.clientId!,
    accountId: client.attributes?.[ACCOUNT_ID_ATTRIBUTE] as string | undefined,
    enabled: client.enabled ?? false,
    scopes: [...new Set([...(client.defaultClientScopes ?? []), ...(client.optionalClientScopes ?? [])])].sort(),
    secretDigest: client.secret ? secretDigest(client.secret) : null,
  };
}

/** The `sub` of an access token (read, not verified: it is Keysmith's own, just fetched from Keycloak). */
function subjectOf(token: string | undefined): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from((token ?? '').split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of a client secret, hex: lets a stored and a Keycloak secret be compared without keeping either. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
