/** What readiness needs from the Keycloak integration: where it is and whether it answers. */
export abstract class KeycloakProbe {
  abstract readonly baseUrl: string;
  /** Resolves when Keycloak answers; rejects (a `TimeoutError` when slow) otherwise. */
  abstract ping(): Promise<unknown>;
}

/** Rotation in one realm, as readiness reports it (implementations may add detail, reported as is). */
export interface RealmRotationReadiness {
  /** Keycloak keeps the previous secret for a grace window (feature and client policy). */
  feature: boolean;
  policy: boolean;
  /** Accounts whose everyDays exceeds Keycloak's expiration-period (it would regenerate first). */
  accountsBeyondExpirationCount: number;
}

/** What readiness reports about secret rotation in each realm. */
export abstract class SecretRotationSupport {
  /** Per realm, as last checked (at start-up); empty before the check; never calls Keycloak. */
  abstract report(): Promise<Record<string, RealmRotationReadiness>>;
}
