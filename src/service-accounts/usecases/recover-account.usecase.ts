import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { faultPoint } from '../../common/faults/fault-points.js';
import type { Fence } from '../../common/leases/leases.js';
import { KeycloakClientsGateway } from '../../keycloak/index.js';
import { specOf } from '../account-spec.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { AccountLease } from '../lease/account-lease.js';
import { AccountRows, reason } from '../services/account-rows.js';
import { SpecChecker } from '../services/spec-checker.js';
import { DeleteAccountUseCase } from './delete-account.usecase.js';
import { ReconcileAccountUseCase } from './reconcile-account.usecase.js';
import { ObserveAccountUseCase } from './follow-keycloak/observe-account.usecase.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';

export interface RecoverySweep {
  /** Rows found not final. */
  found: number;
  recovered: number;
  /** Rows a live instance holds the lease of: never touched. */
  held: number;
  failed: number;
  errors: string[];
}

/**
 * Finishes or undoes what an interrupted change left: a `provisioning` row's half-made client and
 * the row are removed (the create was never acknowledged), an `updating` row's spec re-applied, a
 * `deleting` row's deletion finished. Only under the account's lease: a row whose change a live
 * instance still runs (its lease not expired) is left alone.
 */
@Injectable()
export class RecoverAccountUseCase {
  private readonly logger = new Logger(RecoverAccountUseCase.name);

  constructor(
    private readonly rows: AccountRows,
    private readonly lease: AccountLease,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly checker: SpecChecker,
    private readonly reconcile: ReconcileAccountUseCase,
    private readonly remove: DeleteAccountUseCase,
    private readonly audit: AuditService,
    private readonly observe: ObserveAccountUseCase,
  ) {}

  /**
   * One pass over every row not final; each is recovered under its lease, or skipped while held.
   * `signal` (a job run's lease, see JobRunContext) is checked before each row.
   */
  async sweep(context: OperationContext = systemContext('job', 'recovery'), signal?: AbortSignal): Promise<RecoverySweep> {
    const result: RecoverySweep = { found: 0, recovered: 0, held: 0, failed: 0, errors: [] };
    for (const stale of await this.rows.notFinal()) {
      signal?.throwIfAborted();
      result.found += 1;
      try {
        const ran = await this.lease.tryWithAccountLease(stale.realm, stale.clientId, async (fence) => {
          const row = await this.rows.repository.findOneBy({ id: stale.id });
          if (row && row.state !== 'ready' && row.state !== 'deleted') await this.recover(context, row, fence);
        });
        if (ran) result.recovered += 1;
        else result.held += 1;
      } catch (error) {
        result.failed += 1;
        result.errors.push(`${stale.realm}/${stale.clientId}: ${reason(error)}`);
        this.logger.warn(`recovery of ${stale.realm}/${stale.clientId} deferred: ${reason(error)}`);
      }
    }
    return result;
  }

  /** Recovers one row (call under its lease). */
  async recover(context: OperationContext, row: ServiceAccountEntity, fence: Fence): Promise<void> {
    if (row.state === 'provisioning') {
      await fence.check('remove half-made client');
      await this.keycloak.deleteAccountClient(row.realm, { clientId: row.clientId, accountId: row.id, made: false });
      await faultPoint('recover.client-removed');
      await fence.check('remove row');
      await this.rows.repository.delete(row.id);
      await this.audit.record(context, { action: 'service_account.create_undone', realm: row.realm, clientId: row.clientId, target: row.keycloakId });
    } else if (row.state === 'deleting') {
      await this.remove.finish(context, row, fence);
    } else if (row.state === 'updating') {
      try {
        const catalog = await this.checker.resolveCatalog(row.realm, specOf(row));
        await this.reconcile.complete(context, row, catalog, fence);
      } catch (error) {
        // The client was deleted in Keycloak meanwhile: the account is orphaned (its keys refused
        // or revoked) as the Keycloak sync does for a ready one, instead of failing every run.
        if (error instanceof DomainError && error.code === ErrorCode.AccountOrphaned && (await this.observe.orphanIfGone(context, row)) === 'orphaned') return;
        throw error;
      }
    }
  }
}
