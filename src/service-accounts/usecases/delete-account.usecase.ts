import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { faultPoint } from '../../common/faults/fault-points.js';
import type { Fence } from '../../common/leases/leases.js';
import { Clock } from '../../common/time/clock.js';
import { KeycloakClientsGateway } from '../../keycloak/index.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { AccountKeys } from '../ports/account-keys.port.js';
import { ServiceAccountEvents } from '../service-account.events.js';
import { toServiceAccountView } from '../service-account.view.js';
import { AccountRows, reason } from '../services/account-rows.js';
import type { DeleteAccountCommand } from './commands.js';

/**
 * Deletes an account: the row is marked `deleting`, the Keycloak client removed, the account's API
 * keys revoked, then the row is `deleted` (kept for history) and the change published. An
 * interruption leaves `deleting`, which recovery finishes; the keys are revoked before the row is
 * `deleted`, so no interruption leaves live keys behind an account that is gone.
 */
@Injectable()
export class DeleteAccountUseCase {
  constructor(
    private readonly rows: AccountRows,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly audit: AuditService,
    private readonly events: ServiceAccountEvents,
    private readonly clock: Clock,
    private readonly keys: AccountKeys,
  ) {}

  async execute({ context, row, onlyInSet, fence }: DeleteAccountCommand): Promise<void> {
    const guard = onlyInSet === undefined ? {} : { managedBy: 'gitops' as const, gitopsSet: onlyInSet };
    const marked = await this.rows.repository.update({ id: row.id, ...guard }, { state: 'deleting', updatedAt: this.clock.now() });
    if (onlyInSet !== undefined && !marked.affected) {
      throw new DomainError(ErrorCode.SetConflict, `Service account ${row.realm}/${row.clientId} no longer belongs to the GitOps set ${onlyInSet}; it was not deleted.`, {
        clientId: row.clientId,
      });
    }
    await faultPoint('delete.row-deleting');
    try {
      await this.finish(context, row, fence);
    } catch (error) {
      await this.audit.record(context, { action: 'service_account.deleted', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { reason: reason(error) } });
      throw error;
    }
  }

  /** Removes the client, revokes the keys and marks the row `deleted` (also what recovery does for a `deleting` row). */
  async finish(context: OperationContext, row: ServiceAccountEntity, fence: Fence): Promise<void> {
    await fence.check('delete client');
    // A row whose create never finished has no keycloakId yet, but its create may have made the
    // client: that client carries the account's id, and only that one is removed.
    await this.keycloak.deleteAccountClient(row.realm, { clientId: row.clientId, accountId: row.id, made: row.keycloakId !== null });
    await faultPoint('delete.client-deleted');
    await fence.check('mark deleted');
    // Keys name their account by realm and clientId: one left live would pass again for a later
    // account of the same clientId. A failure here leaves `deleting`, and recovery tries again.
    await this.keys.revokeAllOf(context, row, 'service account deleted');
    await faultPoint('delete.keys-revoked');
    const now = this.clock.now();
    await this.rows.repository.update(row.id, { state: 'deleted', deletedAt: now, updatedAt: now });
    await faultPoint('delete.row-deleted');
    const account = toServiceAccountView({ ...row, state: 'deleted', deletedAt: now, updatedAt: now });
    await this.audit.record(context, { action: 'service_account.deleted', realm: row.realm, clientId: row.clientId, target: row.keycloakId });
    await this.events.publish({ type: 'deleted', account, context });
  }
}
