import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../health/metrics.registry.js';
import { ServiceAccountsService } from '../../service-accounts/services/service-accounts.service.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/**
 * `drift`: compares each managed account in Keycloak with its last applied definition and records
 * what differs (audit event, metric, run details). Fixes it only when KEYSMITH_DRIFT_REPAIR=true.
 */
@Injectable()
export class DriftJob implements JobDefinition, OnModuleInit {
  readonly name = 'drift' as const;
  readonly description = 'Compares Keycloak with the last applied spec of every managed account and records drift';

  constructor(
    private readonly jobs: JobsService,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(run: JobRunContext): Promise<void> {
    const gauge = this.metrics.gauge('keysmith_drifted_service_accounts', 'Managed service accounts whose Keycloak state differs from their spec (last drift run)', ['realm']);
    for (const realm of this.config.managedRealms) {
      let drifted = 0;
      for (const account of await this.serviceAccounts.listAll(realm)) {
        run.count('checked');
        try {
          const changes = await this.serviceAccounts.detectDrift(realm, account.clientId);
          if (changes.length === 0) continue;
          drifted += 1;
          run.count('drifted');
          const repair = this.config.jobs.repairDrift && !run.dryRun;
          run.detail({ realm, clientId: account.clientId, changes, repaired: repair });
          await this.audit.record(run.context, { action: 'service_account.drift_detected', realm, clientId: account.clientId, detail: { changes } });
          if (repair) {
            await this.serviceAccounts.repairDrift(run.context, realm, account.clientId);
            run.count('repaired');
          }
        } catch (error) {
          run.count('failed');
          const code = error instanceof DomainError ? error.code : 'INTERNAL';
          run.error(`${realm}/${account.clientId}: ${error instanceof DomainError ? `${error.code}: ${error.detail}` : 'unexpected error'}`, { code, realm, clientId: account.clientId });
        }
      }
      if (!run.dryRun) gauge.set({ realm }, drifted);
    }
  }
}
