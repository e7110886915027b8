import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { PolicyViolationsService, ServiceAccountsService, type ServiceAccountView } from '../../service-accounts/index.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/**
 * `drift`: compares each managed account in Keycloak with its last applied definition and records
 * what differs (audit event, metric, run details). Fixes it only when KEYSMITH_DRIFT_REPAIR=true.
 * Also judges each account's grants by the guard-rail policy again (a composite role may have
 * become forbidden after it was granted) and reports violations without changing the account.
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
    private readonly policy: PolicyViolationsService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(run: JobRunContext): Promise<void> {
    const gauge = this.metrics.gauge('keysmith_drifted_service_accounts', 'Managed service accounts whose Keycloak state differs from their spec (last drift run)', ['realm']);
    for (const realm of this.config.managedRealms) {
      let drifted = 0;
      let violating = 0;
      let policyComplete = true;
      for (const account of await this.serviceAccounts.listAll(realm)) {
        run.signal.throwIfAborted();
        run.count('checked');
        const judged = await this.checkPolicy(run, account);
        if (judged === null) policyComplete = false;
        else if (judged) violating += 1;
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
      if (policyComplete) this.policy.setCount(realm, violating);
    }
  }

  /** True when the account's grants violate the policy (reported), false when not, null when it could not be judged. */
  private async checkPolicy(run: JobRunContext, account: ServiceAccountView): Promise<boolean | null> {
    try {
      const violations = await this.policy.check(account);
      if (violations.length === 0) return false;
      run.count('policy_violations');
      run.detail({ realm: account.realm, clientId: account.clientId, policyViolations: violations });
      await this.policy.report(run.context, account, violations);
      return true;
    } catch (error) {
      run.count('failed');
      run.error(`${account.realm}/${account.clientId}: policy check: ${error instanceof DomainError ? `${error.code}: ${error.detail}` : 'unexpected error'}`);
      return null;
    }
  }
}
