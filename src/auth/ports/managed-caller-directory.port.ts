/** A Keysmith-managed service account, as the auth guard sees the client a token was issued to. */
export interface ManagedCaller {
  owner: string;
  enabled: boolean;
  /** The account's default and optional client scopes: all a token of it may legitimately carry. */
  scopes: string[];
}

/**
 * What the auth guard needs from the service-accounts feature to confine a Keycloak token by its
 * client (`azp`) rather than by a claim. Provided by the service-accounts module; without it every
 * token of a client that is not on the operator allow-list is refused (fail closed).
 */
export abstract class ManagedCallerDirectory {
  /** The live managed account with this clientId in the realm, or null when Keysmith does not manage it. */
  abstract findCaller(realm: string, clientId: string): Promise<ManagedCaller | null>;
}
