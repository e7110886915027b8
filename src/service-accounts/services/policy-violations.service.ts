import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Gauge } from 'prom-client';
import { AuditService } from '../../audit/index.js';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { describeViolations, type GrantViolation } from '../policy/grant-validator.js';
import type { ServiceAccountView } from '../service-account.view.js';
import { ServiceAccountsService } from './service-accounts.service.js';

/** The log code of an existing account that the guard-rail policy forbids. */
export const POLICY_VIOLATION_LOG_CODE = 'GRANT_POLICY_VIOLATION';

/**
 * Finds existing accounts whose grants the guard-rail policy forbids (a policy made stricter by an
 * upgrade, or a composite role changed in Keycloak after it was granted) and reports them: a log
 * line with a code, an audit event `service_account.policy_violation`, the gauge
 * `keysmith_policy_violations`. It never changes an account. Runs at start-up and in the drift job.
 */
@Injectable()
export class PolicyViolationsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PolicyViolationsService.name);
  private readonly gauge: Gauge<'realm'>;
  private startup?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly accounts: ServiceAccountsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.gauge = metrics.gauge('keysmith_policy_violations', 'Service accounts whose current grants the guard-rail policy forbids (left unchanged)', ['realm']);
  }

  onApplicationBootstrap(): void {
    // Never block the start on Keycloak; a failed check is logged and the drift job checks again.
    this.startup = this.reportAll(systemContext('job', 'startup')).catch((error) => this.logger.warn(`start-up policy check deferred: ${(error as Error).message}`));
  }

  /**
   * The start-up check reads the database: a close stops it after the account under way and waits
   * for that one, so no query of it reaches a closed database (the drift job checks them all).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.startup;
  }

  /** The violations of an account's current grants, all of them judged as an operator grants them. */
  check(account: ServiceAccountView): Promise<GrantViolation[]> {
    return this.accounts.grantViolations({ callerScopes: null }, account.realm, account);
  }

  async report(context: OperationContext, account: ServiceAccountView, violations: GrantViolation[]): Promise<void> {
    const forbidden = [...new Set(violations.map((v) => v.grant))];
    this.logger.warn(
      `${POLICY_VIOLATION_LOG_CODE} ${account.realm}/${account.clientId} (owner ${account.owner}) holds grants the guard-rail policy forbids; ` +
        `left unchanged: ${describeViolations(violations)}`,
    );
    await this.audit.record(context, {
      action: 'service_account.policy_violation',
      realm: account.realm,
      clientId: account.clientId,
      detail: { forbidden, violations },
    });
  }

  setCount(realm: string, count: number): void {
    this.gauge.set({ realm }, count);
  }

  /** Checks every account of every managed realm; returns how many violate the policy. */
  async reportAll(context: OperationContext): Promise<number> {
    let total = 0;
    for (const realm of this.config.managedRealms) {
      if (this.stopping) break;
      let count = 0;
      let complete = true;
      for (const account of await this.accounts.listAll(realm)) {
        if (this.stopping) return total;
        try {
          const violations = await this.check(account);
          if (violations.length === 0) continue;
          count += 1;
          await this.report(context, account, violations);
        } catch (error) {
          complete = false;
          this.logger.warn(`policy check of ${realm}/${account.clientId} failed: ${error instanceof DomainError ? error.code : (error as Error).name}`);
        }
      }
      if (complete) this.setCount(realm, count);
      total += count;
    }
    return total;
  }
}
