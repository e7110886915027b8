/**
 * What the grant validator reads about a realm: roles with their direct composite children, and
 * client scopes with their protocol mappers and role scope mappings. Keycloak is one source
 * (src/keycloak/keycloak-grant-graph.reader.ts); unit tests give a fake.
 */

/** A role by name: a realm role, or a role of a client named by its clientId. */
export type RoleRef = { kind: 'realm'; name: string } | { kind: 'client'; clientId: string; name: string };

/** A role and the roles it directly contains (empty unless it is a composite). */
export interface RoleNode {
  ref: RoleRef;
  children: RoleRef[];
}

/** A protocol mapper of a client scope, as Keycloak describes it. */
export interface MapperNode {
  name: string;
  /** Keycloak's mapper type, such as `oidc-hardcoded-claim-mapper`. */
  type: string;
  config: Record<string, string>;
  /**
   * For a hardcoded-role mapper: the role it adds, resolved as Keycloak resolves `config.role`;
   * null when it names no role Keycloak has (the validator refuses what it cannot judge).
   */
  role?: RoleRef | null;
}

/** A client scope: what it adds to tokens. */
export interface ScopeNode {
  name: string;
  protocol: string;
  mappers: MapperNode[];
  /** Roles in the scope's role scope mappings (realm and client). */
  roleMappings: RoleRef[];
}

/** A Keycloak answer that the reader does not understand: the validator refuses, never passes. */
export class GrantGraphUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GrantGraphUnreadable';
  }
}

/**
 * The port the validator reads through. `undefined` means the role or scope does not exist;
 * an answer it cannot read is a GrantGraphUnreadable; Keycloak failures are thrown as they are.
 */
export abstract class GrantGraphReader {
  abstract role(realm: string, ref: RoleRef): Promise<RoleNode | undefined>;
  abstract scope(realm: string, name: string): Promise<ScopeNode | undefined>;
}

/** A role's grant name: `realm:<role>` or `client:<clientId>:<role>`. */
export function roleGrantName(ref: RoleRef): string {
  return ref.kind === 'realm' ? `realm:${ref.name}` : `client:${ref.clientId}:${ref.name}`;
}
