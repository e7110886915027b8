import { Injectable } from '@nestjs/common';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import { Clock } from '../common/time/clock.js';
import {
  GrantGraphReader,
  GrantGraphUnreadable,
  roleGrantName,
  type MapperNode,
  type RoleNode,
  type RoleRef,
  type ScopeNode,
} from '../common/grants/grant-graph.js';
import { isStatus } from './keycloak.errors.js';
import { KeycloakAdmin } from './keycloak-admin.js';

/** How long one answer is reused: a GitOps plan reads each shared role once, a change is seen within seconds. */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 5_000;

/**
 * Reads the grant graph from Keycloak's Admin REST API with the roles Keysmith already holds:
 * realm roles and client scopes (`view-realm`), clients and their roles (`view-clients`), and
 * `roles-by-id/{id}/composites` for composites. An answer without the fields the validator needs
 * is a GrantGraphUnreadable, never an empty list.
 */
@Injectable()
export class KeycloakGrantGraphReader implements GrantGraphReader {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly keycloak: KeycloakAdmin,
    private readonly clock: Clock,
  ) {}

  async role(realm: string, ref: RoleRef): Promise<RoleNode | undefined> {
    const role = await this.findRole(realm, ref);
    if (!role) return undefined;
    if (typeof role.id !== 'string') throw new GrantGraphUnreadable(`Keycloak described ${roleGrantName(ref)} without an id`);
    if (role.composite === false) return { ref, children: [] };
    if (role.composite !== true) throw new GrantGraphUnreadable(`Keycloak did not say whether ${roleGrantName(ref)} is a composite`);
    const composites = await this.cached(`composites\u0000${realm}\u0000${role.id}`, () =>
      this.keycloak.read('read composite roles', (kc) => kc.roles.getCompositeRoles({ realm, id: role.id! })),
    );
    if (!Array.isArray(composites)) throw new GrantGraphUnreadable(`the composites of ${roleGrantName(ref)} are not a list`);
    const children = await Promise.all(composites.map((child) => this.refOf(realm, child, ref)));
    return { ref, children };
  }

  async scope(realm: string, name: string): Promise<ScopeNode | undefined> {
    const scopes = await this.cached(`scopes\u0000${realm}`, () => this.keycloak.read('list client scopes', (kc) => kc.clientScopes.find({ realm })));
    if (!Array.isArray(scopes)) throw new GrantGraphUnreadable('the client scopes are not a list');
    const scope = scopes.find((s) => s.name === name);
    if (!scope) return undefined;
    if (typeof scope.id !== 'string') throw new GrantGraphUnreadable(`Keycloak described scope ${name} without an id`);
    const mappings = await this.cached(`scope-mappings\u0000${realm}\u0000${scope.id}`, () =>
      this.keycloak.read('read client scope role mappings', (kc) => kc.clientScopes.listScopeMappings({ realm, id: scope.id! })),
    );
    const roleMappings: RoleRef[] = [
      ...namesOf(mappings?.realmMappings, `realm role mappings of scope ${name}`).map((role): RoleRef => ({ kind: 'realm', name: role })),
      ...Object.values(mappings?.clientMappings ?? {}).flatMap((entry: { client?: string; mappings?: RoleRepresentation[] }) => {
        if (typeof entry.client !== 'string') throw new GrantGraphUnreadable(`a client role mapping of scope ${name} names no client`);
        return namesOf(entry.mappings, `client role mappings of scope ${name}`).map((role): RoleRef => ({ kind: 'client', clientId: entry.client!, name: role }));
      }),
    ];
    const mappers = await Promise.all((scope.protocolMappers ?? []).map((mapper) => this.mapperOf(realm, name, mapper)));
    return { name, protocol: scope.protocol ?? 'openid-connect', mappers, roleMappings };
  }

  private async mapperOf(realm: string, scope: string, mapper: { name?: string; protocolMapper?: string; config?: Record<string, unknown> }): Promise<MapperNode> {
    if (typeof mapper.name !== 'string' || typeof mapper.protocolMapper !== 'string') {
      throw new GrantGraphUnreadable(`a protocol mapper of scope ${scope} has no name or type`);
    }
    const config = Object.fromEntries(Object.entries(mapper.config ?? {}).map(([key, value]) => [key, String(value)]));
    const node: MapperNode = { name: mapper.name, type: mapper.protocolMapper, config };
    if (mapper.protocolMapper === 'oidc-hardcoded-role-mapper') node.role = await this.resolveRoleString(realm, config.role ?? '');
    return node;
  }

  /**
   * A hardcoded-role mapper's `role` as Keycloak reads it: `<clientId>.<role>` for the first
   * dot that follows an existing clientId, otherwise a realm role; null when neither exists.
   */
  private async resolveRoleString(realm: string, value: string): Promise<RoleRef | null> {
    if (!value) return null;
    for (let dot = value.indexOf('.'); dot >= 0; dot = value.indexOf('.', dot + 1)) {
      const clientId = value.slice(0, dot);
      if (await this.clientUuid(realm, clientId)) {
        const ref: RoleRef = { kind: 'client', clientId, name: value.slice(dot + 1) };
        return (await this.findRole(realm, ref)) ? ref : null;
      }
    }
    const ref: RoleRef = { kind: 'realm', name: value };
    return (await this.findRole(realm, ref)) ? ref : null;
  }

  private async refOf(realm: string, child: RoleRepresentation, parent: RoleRef): Promise<RoleRef> {
    if (typeof child.name !== 'string' || typeof child.clientRole !== 'boolean' || typeof child.containerId !== 'string') {
      throw new GrantGraphUnreadable(`a composite child of ${roleGrantName(parent)} lacks its name or container`);
    }
    if (!child.clientRole) return { kind: 'realm', name: child.name };
    const client = await this.cached(`client-by-id\u0000${realm}\u0000${child.containerId}`, () =>
      this.keycloak.read('read client', (kc) => kc.clients.findOne({ realm, id: child.containerId! })),
    );
    if (!client || typeof client.clientId !== 'string') {
      throw new GrantGraphUnreadable(`the client holding ${child.name}, a composite child of ${roleGrantName(parent)}, could not be read`);
    }
    return { kind: 'client', clientId: client.clientId, name: child.name };
  }

  private async findRole(realm: string, ref: RoleRef): Promise<RoleRepresentation | undefined> {
    if (ref.kind === 'realm') {
      return this.cached(`realm-role\u0000${realm}\u0000${ref.name}`, () =>
        this.notFoundAsUndefined(() => this.keycloak.read('read realm role', (kc) => kc.roles.findOneByName({ realm, name: ref.name }))),
      );
    }
    const uuid = await this.clientUuid(realm, ref.clientId);
    if (!uuid) return undefined;
    return this.cached(`client-role\u0000${realm}\u0000${uuid}\u0000${ref.name}`, () =>
      this.notFoundAsUndefined(() => this.keycloak.read('read client role', (kc) => kc.clients.findRole({ realm, id: uuid, roleName: ref.name }))),
    );
  }

  private async clientUuid(realm: string, clientId: string): Promise<string | undefined> {
    const found = await this.cached(`client\u0000${realm}\u0000${clientId}`, () =>
      this.keycloak.read('find client', (kc) => kc.clients.find({ realm, clientId, search: false })),
    );
    if (!Array.isArray(found)) throw new GrantGraphUnreadable(`the answer for client ${clientId} is not a list`);
    return found.find((client) => client.clientId === clientId)?.id;
  }

  private async notFoundAsUndefined<T>(read: () => Promise<T | undefined | null>): Promise<T | undefined> {
    try {
      return (await read()) ?? undefined;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.nowMs();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < CACHE_TTL_MS) return hit.value as Promise<T>;
    const value = load();
    this.cache.set(key, { at: now, value });
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }
}

function namesOf(list: RoleRepresentation[] | undefined, what: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new GrantGraphUnreadable(`the ${what} are not a list`);
  return list.map((role) => {
    if (typeof role.name !== 'string') throw new GrantGraphUnreadable(`one of the ${what} has no name`);
    return role.name;
  });
}
