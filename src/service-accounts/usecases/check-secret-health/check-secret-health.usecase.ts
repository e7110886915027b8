import type { OperationContext } from '../../../common/context/operation-context.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import type { RotationKeycloakPort, RotationVaultPort } from '../rotate-secret/rotation.ports.js';

export type SecretHealth = 'ok' | 'mismatch';

/** Reports a mismatch: audit `client_secret.mismatch`, webhook, metric. */
export interface MismatchReporter {
  mismatch(context: OperationContext, row: ServiceAccountEntity, detail: { storedIsCurrent: boolean; repair: boolean }): Promise<void>;
}

/**
 * Proves one account's stored secret against Keycloak with a real client-credentials request.
 * A refusal is a mismatch: whatever the cause (someone regenerated it in the console, Keycloak's
 * executor regenerated it, a lost write), the secret Keysmith hands out does not work.
 */
export class CheckSecretHealthUseCase {
  constructor(
    private readonly keycloak: RotationKeycloakPort,
    private readonly vault: RotationVaultPort,
    private readonly reporter: MismatchReporter,
  ) {}

  async check(context: OperationContext, row: ServiceAccountEntity, repair: boolean): Promise<SecretHealth> {
    const stored = this.vault.decrypt(row.secretCiphertext!, row.id);
    if (await this.keycloak.accepts(row.realm, row.clientId, stored)) return 'ok';
    const current = await this.keycloak.currentSecret(row.realm, row.keycloakId!);
    await this.reporter.mismatch(context, row, { storedIsCurrent: current === stored, repair });
    return 'mismatch';
  }
}
