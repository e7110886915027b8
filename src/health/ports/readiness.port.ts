/** What readiness needs from the Keycloak integration: where it is and whether it answers. */
export abstract class KeycloakProbe {
  abstract readonly baseUrl: string;
  /** Resolves when Keycloak answers; rejects (a `TimeoutError` when slow) otherwise. */
  abstract ping(): Promise<unknown>;
}

export interface GraceWindowSupport {
  feature: boolean;
  policy: boolean;
}

/** What readiness reports about secret rotation: whether each realm keeps a grace window. */
export abstract class SecretRotationSupport {
  /** Per realm, as checked at start-up; empty before the check. */
  abstract knownSupport(): Record<string, GraceWindowSupport>;
}
