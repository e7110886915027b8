import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { setTransition, type SetRequest } from '../gitops-set.js';
import { AccountRows } from '../services/account-rows.js';

/**
 * GitOps set membership, changed under the account's lease with writes conditional on the set
 * read, so two instances cannot both move an account.
 */
@Injectable()
export class AssignSetUseCase {
  constructor(
    private readonly rows: AccountRows,
    private readonly audit: AuditService,
  ) {}

  /**
   * Assigns a GitOps account that has no set to `set` (the explicit step for accounts GitOps made
   * before sets existed). An account already in `set` is left as it is; one of another set, or one
   * made through the API, is refused: moving between sets is done by an apply with --adopt-from-set.
   */
  async assign(context: OperationContext, row: ServiceAccountEntity, set: string): Promise<'assigned' | 'unchanged'> {
    const { realm, clientId } = row;
    if (row.gitopsSet === set && row.managedBy === 'gitops') return 'unchanged';
    if (row.managedBy !== 'gitops') {
      throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} was made through the API, not by GitOps; an apply that names it adopts it into its set.`, { clientId });
    }
    if (row.gitopsSet !== null) {
      throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} belongs to the GitOps set ${row.gitopsSet}; move it with apply --set ${set} --adopt-from-set ${row.gitopsSet}.`, {
        clientId,
        set: row.gitopsSet,
      });
    }
    const result = await this.rows.repository.update({ id: row.id, managedBy: 'gitops', gitopsSet: IsNull() }, { gitopsSet: set });
    if (!result.affected) throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} changed sets meanwhile; list it again.`, { clientId });
    await this.audit.record(context, { action: 'service_account.set_assigned', realm, clientId, target: row.keycloakId, detail: { from: null, to: set } });
    return 'assigned';
  }

  /** Takes an existing account into the set an apply asks for, or refuses with SET_CONFLICT. */
  async claim(context: OperationContext, row: ServiceAccountEntity, request: SetRequest): Promise<void> {
    const transition = setTransition(row, request);
    if (transition.kind === 'conflict') {
      throw new DomainError(ErrorCode.SetConflict, transition.detail, { clientId: row.clientId, set: transition.current });
    }
    if (transition.kind !== 'move') return;
    const result = await this.rows.repository.update({ id: row.id, managedBy: row.managedBy, gitopsSet: row.gitopsSet ?? IsNull() }, { managedBy: 'gitops', gitopsSet: transition.to });
    if (!result.affected) {
      throw new DomainError(ErrorCode.SetConflict, `Service account ${row.realm}/${row.clientId} changed sets while this apply ran; plan again.`, { clientId: row.clientId });
    }
    const adopted = row.managedBy !== 'gitops';
    row.managedBy = 'gitops';
    row.gitopsSet = transition.to;
    await this.audit.record(context, {
      action: 'service_account.set_changed',
      realm: row.realm,
      clientId: row.clientId,
      target: row.keycloakId,
      detail: { from: transition.from, to: transition.to, adopted },
    });
  }
}
