import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import type { Grants } from './client-grants.js';


// The shapes KeycloakClientsGateway works in: Keysmith's attributes and flags on a managed client,
// and clients, catalogs and specs by name.

export const MANAGED_BY_ATTRIBUTE = 'keysmith.managed-by';
export const MANAGED_BY_VALUE = 'keysmith';
export const OWNER_ATTRIBUTE = 'keysmith.owner';
export const SPEC_HASH_ATTRIBUTE = 'keysmith.spec-hash';
export const ACCOUNT_ID_ATTRIBUTE = 'keysmith.account-id';
/** Keycloak's per-client access-token lifespan in seconds (empty: the realm's). */
export const ACCESS_TOKEN_LIFESPAN_ATTRIBUTE = 'access.token.lifespan';

/** A service-account client as Keycloak holds it, by names (never UUIDs) where it matters. */
export interface ClientState {
  client: ClientRepresentation & { id: string; clientId: string };
  serviceAccountUserId: string;
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  defaultScopes: string[];
  optionalScopes: string[];
}

/** What exists in a realm to be granted: roles and client scopes, by name. */
export interface RealmCatalog {
  realmRoles: Map<string, RoleRepresentation>;
  /** clientId → { id, roles by name }; clients absent from the realm are absent here. */
  clients: Map<string, { id: string; roles: Map<string, RoleRepresentation> }>;
  clientScopes: Map<string, { id: string; name: string }>;
}

/** What a managed client should look like, by name; the flags and attribute names are the gateway's. */
export interface ManagedClientSpec {
  clientId: string;
  description: string;
  enabled: boolean;
  owner: string;
  specHash: string;
  /** The Keysmith account id stamped on the client, so recovery can tell its own half-made clients. */
  accountId: string;
  /** The scopes of the create call; grants are set afterwards with `setGrants`. */
  defaultScopes: string[];
  optionalScopes: string[];
  /** The client's own access-token lifespan in seconds (accounts with token exchange); null: the realm's. */
  accessTokenLifespanSeconds: number | null;
}

/** Who made a client found by name: Keysmith (`managed`, with the account id stamped on it) or someone else. */
export interface ClientOwnership {
  managed: boolean;
  accountId: string | undefined;
}

/**
 * What one page of Keycloak's client list tells about a client, by names: everything a managed
 * client holds except its service-account user's role mappings. No secret.
 */
export interface ManagedClientSummary {
  id: string;
  clientId: string;
  /** Keysmith made it (its `keysmith.managed-by` attribute). */
  managed: boolean;
  description: string;
  enabled: boolean;
  /** Keysmith's flags (service accounts only, full scope) differ from Keycloak's. */
  flagsDrifted: boolean;
  /** Keysmith's ownership attributes (except the spec hash and the token lifespan) differ from `spec`'s. */
  attributesDriftedFrom(spec: ManagedClientSpec): boolean;
  /** The client's own access-token lifespan in seconds; null when it uses the realm's. */
  accessTokenLifespanSeconds: number | null;
  /** The spec hash Keysmith stamped on the client with its last change, if any. */
  specHash: string | undefined;
  defaultScopes: string[];
  optionalScopes: string[];
}

/** A managed client as Keycloak holds it, by names, with its grants. `handle` is for the gateway's calls only. */
export interface ManagedClientState extends ManagedClientSummary {
  readonly handle: unknown;
  grants: Grants;
}

/** Keysmith's clients: only the service-accounts flow, confidential, tokens with exactly the granted roles. */
export const CLIENT_FLAGS: [string, boolean][] = [
  ['publicClient', false],
  ['bearerOnly', false],
  ['serviceAccountsEnabled', true],
  ['standardFlowEnabled', false],
  ['implicitFlowEnabled', false],
  ['directAccessGrantsEnabled', false],
  ['frontchannelLogout', false],
  // On: tokens carry exactly the service-account user's roles, which Keysmith sets to the grants
  // (it also removes the realm's default-roles composite). With it off, realm roles would reach
  // tokens only through realm-role scope mappings, which Keycloak lets only `manage-realm` write.
  ['fullScopeAllowed', true],
];

/**
 * Whether Keycloak keeps a rotated secret valid for Keysmith's clients, and after how long its
 * rotation executor regenerates a secret by itself (null without the executor).
 */
export interface SecretRotationSupport {
  feature: boolean;
  policy: boolean;
  expirationPeriodSeconds: number | null;
}

/** The client representation Keysmith writes for `spec`. */
export function representationOf(spec: ManagedClientSpec): ClientRepresentation {
  return {
    clientId: spec.clientId,
    name: spec.clientId,
    description: spec.description,
    enabled: spec.enabled,
    protocol: 'openid-connect',
    ...Object.fromEntries(CLIENT_FLAGS),
    clientAuthenticatorType: 'client-secret',
    attributes: {
      [MANAGED_BY_ATTRIBUTE]: MANAGED_BY_VALUE,
      [OWNER_ATTRIBUTE]: spec.owner,
      [SPEC_HASH_ATTRIBUTE]: spec.specHash,
      [ACCOUNT_ID_ATTRIBUTE]: spec.accountId,
      'oauth2.device.authorization.grant.enabled': 'false',
      'oidc.ciba.grant.enabled': 'false',
      // Tokens obtained by exchanging a key outlive the key's revocation: keep them short. Keycloak
      // drops an attribute set to '' (the client then uses the realm's lifespan).
      [ACCESS_TOKEN_LIFESPAN_ATTRIBUTE]: spec.accessTokenLifespanSeconds ? String(spec.accessTokenLifespanSeconds) : '',
    },
    defaultClientScopes: spec.defaultScopes,
    optionalClientScopes: spec.optionalScopes,
  };
}

/** What a (full, not brief) client representation tells about the client; its secret is left out. */
export function summaryOf(client: ClientRepresentation & { id: string; clientId: string }): ManagedClientSummary {
  const attributes = client.attributes ?? {};
  return {
    id: client.id,
    clientId: client.clientId,
    managed: attributes[MANAGED_BY_ATTRIBUTE] === MANAGED_BY_VALUE,
    description: client.description ?? '',
    enabled: client.enabled ?? false,
    flagsDrifted: CLIENT_FLAGS.some(([key, value]) => (client as unknown as Record<string, unknown>)[key] !== value),
    attributesDriftedFrom: (spec) =>
      Object.entries(representationOf(spec).attributes ?? {}).some(
        ([key, value]) => key !== SPEC_HASH_ATTRIBUTE && key !== ACCESS_TOKEN_LIFESPAN_ATTRIBUTE && attributes[key] !== value,
      ),
    accessTokenLifespanSeconds: Number(attributes[ACCESS_TOKEN_LIFESPAN_ATTRIBUTE]) || null,
    specHash: attributes[SPEC_HASH_ATTRIBUTE],
    defaultScopes: [...(client.defaultClientScopes ?? [])].sort(),
    optionalScopes: [...(client.optionalClientScopes ?? [])].sort(),
  };
}
