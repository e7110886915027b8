import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { AccountRows, RecoverAccountUseCase, SecretRotationService } from '../../service-accounts/index.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/**
 * `recovery`: finishes or undoes changes that a crash or a Keycloak outage interrupted, without
 * waiting for a restart (it also runs at start-up as a catch-up), secret rotations included. Rows a
 * live instance holds the lease of are left alone; the metric counts rows that are not final.
 */
@Injectable()
export class RecoveryJob implements JobDefinition, OnModuleInit {
  readonly name = 'recovery' as const;
  readonly description = 'Completes or undoes interrupted account changes whose lease expired (half-made creates, updates, deletions)';

  constructor(
    private readonly jobs: JobsService,
    private readonly recovery: RecoverAccountUseCase,
    private readonly rows: AccountRows,
    private readonly metrics: MetricsRegistry,
    private readonly rotation: SecretRotationService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
    this.metrics.gauge('keysmith_service_accounts_not_final', 'Service accounts in provisioning, updating or deleting (an interrupted or running change)', [], async (gauge) => {
      gauge.set(await this.rows.countNotFinal());
    });
  }

  async run(run: JobRunContext): Promise<void> {
    if (run.dryRun) {
      for (const row of await this.rows.notFinal()) {
        run.signal.throwIfAborted();
        run.count('found');
        run.detail({ realm: row.realm, clientId: row.clientId, state: row.state });
      }
      return;
    }
    const sweep = await this.recovery.sweep(run.context, run.signal);
    run.count('found', sweep.found);
    run.count('recovered', sweep.recovered);
    run.count('held', sweep.held);
    run.count('failed', sweep.failed);
    for (const error of sweep.errors) run.error(error);
    // Interrupted rotations and grace windows that passed (failures are audited by the rotation).
    run.count('rotations-resumed', await this.rotation.resumeInterrupted(run.context, run.signal));
  }
}
