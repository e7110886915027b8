import { Injectable } from '@nestjs/common';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import { Clock } from '../common/time/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { diffGrants, type GrantDiff, type Grants } from './client-grants.js';
import {
  ACCOUNT_ID_ATTRIBUTE,
  MANAGED_BY_ATTRIBUTE,
  MANAGED_BY_VALUE,
  representationOf,
  summaryOf,
  type ClientOwnership,
  type ClientState,
  type ManagedClientSpec,
  type ManagedClientState,
  type ManagedClientSummary,
  type RealmCatalog,
  type SecretRotationSupport,
} from './managed-client.js';
import { KeycloakHttpError, isStatus } from './keycloak.errors.js';
import { KeycloakAdmin } from './keycloak-admin.js';

const CATALOG_TTL_MS = 5_000;

/** Clients per page of the client list (full representations, about 1.4 kB each). */
const CLIENT_PAGE_SIZE = 500;

/** Keycloak's default `expiration-period` of the secret-rotation executor (28 days), when unset. */
const DEFAULT_EXPIRATION_PERIOD_SECONDS = 28 * 24 * 60 * 60;

type FoundClient = ClientRepresentation & { id: string; clientId: string };

interface Handle {
  client: FoundClient;
  serviceAccountUserId: string;
}

/**
 * Service-account clients in Keycloak's Admin REST API, by name: Keysmith's callers name a realm
 * and a clientId (and hand back the state `readManagedClient` gave them); the client UUIDs, role
 * and scope ids and representations stay in here. Each Admin REST call goes through KeycloakAdmin
 * (token, a fault point per operation) and KeycloakService (concurrency limit, retries).
 */
@Injectable()
export class KeycloakClientsGateway {
  private readonly catalogs = new Map<string, { at: number; catalog: Promise<RealmCatalog> }>();

  constructor(
    private readonly keycloak: KeycloakAdmin,
    private readonly clock: Clock,
  ) {}

  /** Whether a client named `clientId` exists, and whether Keysmith made it (and for which account). */
  async ownership(realm: string, clientId: string): Promise<ClientOwnership | undefined> {
    const client = await this.findClient(realm, clientId);
    if (!client) return undefined;
    return { managed: client.attributes?.[MANAGED_BY_ATTRIBUTE] === MANAGED_BY_VALUE, accountId: client.attributes?.[ACCOUNT_ID_ATTRIBUTE] };
  }

  /** Creates a managed client with Keysmith's flags, attributes, scopes and `secret`; its UUID. */
  createManagedClient(realm: string, spec: ManagedClientSpec, secret: string): Promise<string> {
    return this.createClient(realm, { ...representationOf(spec), secret });
  }

  /** The managed client by name, with its grants; undefined when no such client exists. */
  async readManagedClient(realm: string, clientId: string): Promise<ManagedClientState | undefined> {
    const client = await this.findClient(realm, clientId);
    if (!client) return undefined;
    const state = await this.readState(realm, client);
    const handle: Handle = { client, serviceAccountUserId: state.serviceAccountUserId };
    return {
      ...summaryOf(client),
      handle,
      grants: { realmRoles: state.realmRoles, clientRoles: state.clientRoles, defaultScopes: state.defaultScopes, optionalScopes: state.optionalScopes },
    };
  }

  /** The grants of a client Keysmith has just created (by its UUID): the handle `applyGrantChanges` needs. */
  private async readCreatedClient(realm: string, client: FoundClient): Promise<Pick<ManagedClientState, 'handle' | 'grants'>> {
    const state = await this.readState(realm, client);
    const handle: Handle = { client, serviceAccountUserId: state.serviceAccountUserId };
    return { handle, grants: { realmRoles: state.realmRoles, clientRoles: state.clientRoles, defaultScopes: state.defaultScopes, optionalScopes: state.optionalScopes } };
  }

  /**
   * Every client of the realm by clientId, summarised from Keycloak's paged client list (full
   * representations: attributes, flags, scope names; no role mappings): one call per `pageSize`
   * clients. Keycloak 26 refuses `q=` searches on attributes it does not list as searchable, so the
   * list is not filtered by Keysmith's mark; `managed` tells Keysmith's clients apart. Pages are
   * read KEYCLOAK_MAX_CONCURRENCY at a time (Keycloak builds each page on one thread, several
   * milliseconds per client in a large realm); a wave ends the read when one of its pages is short,
   * so the read costs at most that many calls more than the pages there are.
   */
  async clientSummaries(realm: string, pageSize = CLIENT_PAGE_SIZE): Promise<Map<string, ManagedClientSummary>> {
    const summaries = new Map<string, ManagedClientSummary>();
    const wave = Math.max(1, this.keycloak.maxConcurrency);
    for (let first = 0; ; first += wave * pageSize) {
      const pages = await Promise.all(
        Array.from({ length: wave }, (_, i) => this.keycloak.read('list clients', (kc) => kc.clients.find({ realm, first: first + i * pageSize, max: pageSize }))),
      );
      for (const page of pages) for (const client of page as FoundClient[]) summaries.set(client.clientId, summaryOf(client));
      if (pages.some((page) => page.length < pageSize)) return summaries;
    }
  }

  /** Makes the client's fields, flags and ownership attributes match `spec` (other attributes kept). */
  async applyClientSpec(realm: string, current: ManagedClientState, spec: ManagedClientSpec): Promise<void> {
    const { client } = current.handle as Handle;
    const wanted = representationOf(spec);
    await this.updateClient(realm, client.id, { ...client, ...wanted, attributes: { ...client.attributes, ...wanted.attributes } });
  }

  /**
   * Makes the client's grants exactly `grants` (reads them first); returns what it changed. With
   * `id`, the UUID `createManagedClient` just answered, the client is read by it (no look-up by name).
   */
  async setGrants(realm: string, clientId: string, grants: Grants, id?: string): Promise<GrantDiff> {
    const current = id ? await this.readCreatedClient(realm, { id, clientId }) : await this.readManagedClient(realm, clientId);
    if (!current) throw new KeycloakHttpError(404, 'set grants', `client ${clientId} is gone`);
    const diff = diffGrants(grants, current.grants);
    await this.applyGrantChanges(realm, current, diff);
    return diff;
  }

  /** Adds and removes roles and scopes by name on a client read with `readManagedClient`. */
  async applyGrantChanges(realm: string, current: Pick<ManagedClientState, 'handle'>, diff: GrantDiff): Promise<void> {
    const { client, serviceAccountUserId: userId } = current.handle as Handle;
    const catalog = await this.catalog(realm, Object.keys(diff.clientRoles));
    if (diff.defaultScopes.add.length || diff.defaultScopes.remove.length || diff.optionalScopes.add.length || diff.optionalScopes.remove.length) {
      const scopeId = (name: string) => catalog.clientScopes.get(name)?.id;
      // Removals first, so a scope moving between default and optional is free to be added.
      for (const name of diff.defaultScopes.remove) await this.setClientScope(realm, client.id, scopeId(name)!, 'default', false);
      for (const name of diff.optionalScopes.remove) await this.setClientScope(realm, client.id, scopeId(name)!, 'optional', false);
      for (const name of diff.defaultScopes.add) await this.setClientScope(realm, client.id, scopeId(name)!, 'default', true);
      for (const name of diff.optionalScopes.add) await this.setClientScope(realm, client.id, scopeId(name)!, 'optional', true);
    }
    if (diff.realmRoles.add.length) await this.addUserRealmRoles(realm, userId, await this.realmRolesByName(realm, diff.realmRoles.add, catalog));
    if (diff.realmRoles.remove.length) await this.removeUserRealmRoles(realm, userId, await this.realmRolesByName(realm, diff.realmRoles.remove, catalog));
    for (const [clientId, d] of Object.entries(diff.clientRoles)) {
      const entry = catalog.clients.get(clientId);
      if (!entry) continue;
      const named = (names: string[]) => names.map((name) => entry.roles.get(name)).filter((role) => role !== undefined);
      if (d.add.length) await this.addUserClientRoles(realm, userId, entry.id, named(d.add));
      if (d.remove.length) await this.removeUserClientRoles(realm, userId, entry.id, named(d.remove));
    }
  }

  /**
   * Deletes the client named `clientId` when it is the account's: one that carries the account's
   * id, or, for an account that was made (`made`), Keysmith's mark and no account id at all (made
   * before that attribute). Never another client of the same name. True when one went.
   */
  async deleteAccountClient(realm: string, account: { clientId: string; accountId: string; made: boolean }): Promise<boolean> {
    const client = await this.findClient(realm, account.clientId);
    if (!client || !isAccountClient(client, account.accountId, account.made)) return false;
    await this.deleteClient(realm, client.id);
    return true;
  }

  /** The client's current secret. */
  async clientSecret(realm: string, clientId: string): Promise<string> {
    const id = await this.managedClientId(realm, clientId, 'read client secret');
    const credential = await this.keycloak.read('read client secret', (kc) => kc.clients.getClientSecret({ realm, id }));
    if (!credential.value) throw new KeycloakHttpError(404, 'read client secret', 'client has no secret');
    return credential.value;
  }

  /** A new client secret; with the rotation policy on, Keycloak keeps the previous one as "rotated". */
  async regenerateSecret(realm: string, clientId: string): Promise<string> {
    const id = await this.managedClientId(realm, clientId, 'regenerate client secret');
    const credential = await this.keycloak.write('regenerate client secret', (kc) => kc.clients.generateNewClientSecret({ realm, id }));
    if (!credential.value) throw new KeycloakHttpError(502, 'regenerate client secret', 'no secret returned');
    return credential.value;
  }

  /** The previous secret Keycloak still accepts after a regeneration ("rotated"), or null when it holds none. */
  async rotatedSecret(realm: string, clientId: string): Promise<string | null> {
    const id = await this.managedClientId(realm, clientId, 'read rotated client secret');
    // The admin client has no call for this endpoint: a plain request with its token.
    const credential = await this.keycloak.read('read rotated client secret', async (kc) => {
      const url = `${kc.baseUrl}/admin/realms/${encodeURIComponent(realm)}/clients/${encodeURIComponent(id)}/client-secret/rotated`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${await kc.getAccessToken()}` } });
      if (response.status === 404) return null;
      if (!response.ok) throw new KeycloakHttpError(response.status, 'read rotated client secret', response.statusText);
      return (await response.json()) as { value?: string };
    });
    return credential?.value ?? null;
  }

  /** Ends the previous (rotated) secret now; none left counts as done. */
  async invalidateRotatedSecret(realm: string, clientId: string): Promise<void> {
    const id = await this.managedClientId(realm, clientId, 'invalidate rotated client secret');
    try {
      await this.keycloak.write('invalidate rotated client secret', (kc) => kc.clients.invalidateSecret({ realm, id }));
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /**
   * Realm roles, client scopes and the roles of the named clients. Cached for a few seconds per
   * realm and client set, so bulk operations (GitOps plans) read the catalog once.
   */
  async catalog(realm: string, clientIds: Iterable<string>): Promise<RealmCatalog> {
    const wanted = [...new Set(clientIds)].sort();
    const cacheKey = `${realm}\u0000${wanted.join(',')}`;
    const cached = this.catalogs.get(cacheKey);
    if (cached && this.clock.nowMs() - cached.at < CATALOG_TTL_MS) return cached.catalog;
    const catalog = this.loadCatalog(realm, wanted);
    this.catalogs.set(cacheKey, { at: this.clock.nowMs(), catalog });
    catalog.catch(() => this.catalogs.delete(cacheKey));
    if (this.catalogs.size > 256) this.catalogs.delete(this.catalogs.keys().next().value!);
    return catalog;
  }

  /**
   * Whether Keycloak keeps a rotated secret valid for Keysmith's clients: the server feature
   * `client-secret-rotation` is on and the realm has an enabled client policy whose profile holds
   * the `secret-rotation` executor.
   */
  async secretRotationSupport(realm: string): Promise<SecretRotationSupport> {
    const [info, policies, profiles] = await Promise.all([
      this.keycloak.read('read server info', (kc) => kc.serverInfo.find()),
      this.keycloak.read('list client policies', (kc) => kc.clientPolicies.listPolicies({ realm })),
      this.keycloak.read('list client profiles', (kc) => kc.clientPolicies.listProfiles({ realm })),
    ]);
    const features = (info as { features?: { name: string; enabled: boolean }[] }).features ?? [];
    const feature = features.some((f) => f.name === 'CLIENT_SECRET_ROTATION' && f.enabled);
    const executors = new Map<string, Record<string, unknown>>();
    for (const profile of profiles.profiles ?? []) {
      const executor = profile.executors?.find((e) => e.executor === 'secret-rotation');
      if (executor && profile.name) executors.set(profile.name, (executor.configuration ?? {}) as Record<string, unknown>);
    }
    const applying = (policies.policies ?? []).filter(
      (p) => p.enabled && p.profiles?.some((name) => executors.has(name)) && JSON.stringify(p.conditions ?? []).includes(MANAGED_BY_ATTRIBUTE),
    );
    // The shortest period of every executor that applies to Keysmith's clients decides.
    const periods = applying
      .flatMap((p) => (p.profiles ?? []).filter((name) => executors.has(name)).map((name) => executors.get(name)!))
      .map((config) => Number(config['expiration-period'] ?? DEFAULT_EXPIRATION_PERIOD_SECONDS))
      .filter((seconds) => Number.isFinite(seconds));
    return { feature, policy: applying.length > 0, expirationPeriodSeconds: periods.length ? Math.min(...periods) : null };
  }

  /**
   * The UUID of the Keysmith-made client named `clientId`; 404 (as Keycloak answers for a gone
   * client) when there is none, or only a client Keysmith did not make: its secret is not Keysmith's.
   */
  private async managedClientId(realm: string, clientId: string, operation: string): Promise<string> {
    const client = await this.findClient(realm, clientId);
    if (!client || client.attributes?.[MANAGED_BY_ATTRIBUTE] !== MANAGED_BY_VALUE) {
      throw new KeycloakHttpError(404, operation, `no client ${clientId} made by Keysmith`);
    }
    return client.id;
  }

  /** Realm roles by name; roles no longer wanted may be missing from a narrow catalog, so the full one is read for those. */
  private async realmRolesByName(realm: string, names: string[], catalog: RealmCatalog): Promise<RoleRepresentation[]> {
    if (names.every((name) => catalog.realmRoles.has(name))) return names.map((name) => catalog.realmRoles.get(name)!);
    const full = await this.catalog(realm, []);
    return names.map((name) => full.realmRoles.get(name)).filter((role) => role !== undefined);
  }

  private async findClient(realm: string, clientId: string): Promise<FoundClient | undefined> {
    const found = await this.keycloak.read('find client', (kc) => kc.clients.find({ realm, clientId, search: false }));
    return found.find((client) => client.clientId === clientId) as FoundClient | undefined;
  }

  private async createClient(realm: string, representation: ClientRepresentation): Promise<string> {
    try {
      const { id } = await this.keycloak.write('create client', (kc) => kc.clients.create({ realm, ...representation }));
      return id;
    } catch (error) {
      // Someone made the same clientId between Keysmith's check and its create.
      if (isStatus(error, 409)) {
        throw new DomainError(ErrorCode.ClientExists, `A client ${representation.clientId} was created in realm ${realm} meanwhile; it is not adopted.`, {
          clientId: representation.clientId,
        });
      }
      throw error;
    }
  }

  private async updateClient(realm: string, id: string, representation: ClientRepresentation): Promise<void> {
    await this.keycloak.write('update client', (kc) => kc.clients.update({ realm, id }, representation));
  }

  /** Deletes a client; a client already gone counts as deleted. */
  private async deleteClient(realm: string, id: string): Promise<void> {
    try {
      await this.keycloak.write('delete client', (kc) => kc.clients.del({ realm, id }));
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  private async readState(realm: string, client: FoundClient): Promise<ClientState> {
    const id = client.id;
    const [user, defaults, optionals] = await Promise.all([
      this.keycloak.read('read service-account user', (kc) => kc.clients.getServiceAccountUser({ realm, id })),
      this.keycloak.read('list default client scopes', (kc) => kc.clients.listDefaultClientScopes({ realm, id })),
      this.keycloak.read('list optional client scopes', (kc) => kc.clients.listOptionalClientScopes({ realm, id })),
    ]);
    const mappings = await this.keycloak.read('list role mappings', (kc) => kc.users.listRoleMappings({ realm, id: user.id! }));
    return {
      client,
      serviceAccountUserId: user.id!,
      realmRoles: names(mappings.realmMappings),
      clientRoles: clientMappingNames(mappings.clientMappings),
      defaultScopes: names(defaults),
      optionalScopes: names(optionals),
    };
  }

  private async addUserRealmRoles(realm: string, userId: string, roles: RoleRepresentation[]): Promise<void> {
    await this.keycloak.write('grant realm roles', (kc) => kc.users.addRealmRoleMappings({ realm, id: userId, roles: roleRefs(roles) }));
  }

  private async removeUserRealmRoles(realm: string, userId: string, roles: RoleRepresentation[]): Promise<void> {
    await this.keycloak.write('revoke realm roles', (kc) => kc.users.delRealmRoleMappings({ realm, id: userId, roles: roleRefs(roles) }));
  }

  private async addUserClientRoles(realm: string, userId: string, clientUniqueId: string, roles: RoleRepresentation[]): Promise<void> {
    await this.keycloak.write('grant client roles', (kc) => kc.users.addClientRoleMappings({ realm, id: userId, clientUniqueId, roles: roleRefs(roles) }));
  }

  private async removeUserClientRoles(realm: string, userId: string, clientUniqueId: string, roles: RoleRepresentation[]): Promise<void> {
    await this.keycloak.write('revoke client roles', (kc) => kc.users.delClientRoleMappings({ realm, id: userId, clientUniqueId, roles: roleRefs(roles) }));
  }

  private async setClientScope(realm: string, id: string, clientScopeId: string, kind: 'default' | 'optional', present: boolean): Promise<void> {
    await this.keycloak.write(`${present ? 'add' : 'remove'} ${kind} client scope`, (kc) => {
      if (kind === 'default') {
        return present
          ? kc.clients.addDefaultClientScope({ realm, id, clientScopeId })
          : kc.clients.delDefaultClientScope({ realm, id, clientScopeId });
      }
      return present
        ? kc.clients.addOptionalClientScope({ realm, id, clientScopeId })
        : kc.clients.delOptionalClientScope({ realm, id, clientScopeId });
    });
  }

  private async loadCatalog(realm: string, clientIds: string[]): Promise<RealmCatalog> {
    const [realmRoles, clientScopes, clients] = await Promise.all([
      this.keycloak.read('list realm roles', (kc) => kc.roles.find({ realm, briefRepresentation: true, max: 10_000 } as never)),
      this.keycloak.read('list client scopes', (kc) => kc.clientScopes.find({ realm })),
      Promise.all(
        clientIds.map(async (clientId) => {
          const client = await this.findClient(realm, clientId);
          if (!client) return undefined;
          const roles = await this.keycloak.read('list client roles', (kc) => kc.clients.listRoles({ realm, id: client.id }));
          return [clientId, { id: client.id, roles: new Map(roles.map((role) => [role.name!, role])) }] as const;
        }),
      ),
    ]);
    return {
      realmRoles: new Map(realmRoles.map((role) => [role.name!, role])),
      clientScopes: new Map(clientScopes.map((scope) => [scope.name!, { id: scope.id!, name: scope.name! }])),
      clients: new Map(clients.filter((entry) => entry !== undefined)),
    };
  }
}

/** The account's client: it carries the account's id, or (a made account's) Keysmith's mark and no account id at all. */
function isAccountClient(client: ClientRepresentation, accountId: string, made: boolean): boolean {
  const owner = client.attributes?.[ACCOUNT_ID_ATTRIBUTE];
  return owner === accountId || (made && owner === undefined && client.attributes?.[MANAGED_BY_ATTRIBUTE] === MANAGED_BY_VALUE);
}

function names(list: { name?: string }[] | undefined): string[] {
  return (list ?? []).map((item) => item.name!).sort();
}

function clientMappingNames(mappings: Record<string, { client?: string; mappings?: RoleRepresentation[] }> | undefined): Record<string, string[]> {
  return Object.fromEntries(
    Object.values(mappings ?? {})
      .filter((entry) => entry.client && entry.mappings?.length)
      .map((entry) => [entry.client!, names(entry.mappings)]),
  );
}

function roleRefs(roles: RoleRepresentation[]): { id: string; name: string }[] {
  return roles.map((role) => ({ id: role.id!, name: role.name! }));
}
