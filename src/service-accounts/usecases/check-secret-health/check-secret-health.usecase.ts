import type { OperationContext } from '../../../common/context/operation-context.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import type { RotationKeycloakPort, RotationVaultPort } from '../rotate-secret/rotation.ports.js';

export type SecretHealth = 'ok' | 'mismatch';

export interface MismatchDetail {
  /** Keycloak's current secret is the stored one. */
  storedIsCurrent: boolean;
  /** Keycloak accepted the stored secret (as its rotated one, when not current: it ends with Keycloak's rotated-expiration-period). */
  storedAccepted: boolean;
  repair: boolean;
}

/** Reports a mismatch: audit `client_secret.mismatch`, webhook, metric. */
export interface MismatchReporter {
  mismatch(context: OperationContext, row: ServiceAccountEntity, detail: MismatchDetail): Promise<void>;
}

/**
 * Proves one account's stored secret against Keycloak with a real client-credentials request, and
 * compares it with Keycloak's current secret. A refusal is a mismatch, and so is a stored secret
 * that is only Keycloak's rotated one (Keycloak's executor regenerated it on an admin update, or
 * someone did in the console): it still works, but only until Keycloak's rotated secret expires.
 */
export class CheckSecretHealthUseCase {
  constructor(
    private readonly keycloak: RotationKeycloakPort,
    private readonly vault: RotationVaultPort,
    private readonly reporter: MismatchReporter,
  ) {}

  async check(context: OperationContext, row: ServiceAccountEntity, repair: boolean): Promise<SecretHealth> {
    const stored = this.vault.decrypt(row.secretCiphertext!, row.id);
    const storedAccepted = await this.keycloak.accepts(row.realm, row.clientId, stored);
    const storedIsCurrent = (await this.keycloak.currentSecret(row.realm, row.clientId)) === stored;
    if (storedAccepted && storedIsCurrent) return 'ok';
    await this.reporter.mismatch(context, row, { storedIsCurrent, storedAccepted, repair });
    return 'mismatch';
  }
}
