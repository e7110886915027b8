import { Injectable, type OnModuleInit } from '@nestjs/common';
import { SecretHealthService } from '../../service-accounts/index.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/** `secret-health`: proves every stored client secret against Keycloak; reports, and repairs only when told. */
@Injectable()
export class SecretHealthJob implements JobDefinition, OnModuleInit {
  readonly name = 'secret-health' as const;
  readonly description = 'Proves the stored client secret of every managed account with a client-credentials request, paced; reports mismatches';

  constructor(
    private readonly jobs: JobsService,
    private readonly health: SecretHealthService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(run: JobRunContext): Promise<void> {
    const outcomes = await this.health.checkAll(run.context, run.dryRun, run.signal);
    for (const outcome of outcomes) {
      run.count(outcome.result);
      if (outcome.result !== 'ok') run.detail({ ...outcome });
      if (outcome.result === 'failed') run.error(`${outcome.realm}/${outcome.clientId}: ${outcome.error}`);
      if (outcome.result === 'mismatch') run.error(`${outcome.realm}/${outcome.clientId}: stored secret refused by Keycloak`);
    }
  }
}
