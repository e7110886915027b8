import { Injectable, type OnModuleInit } from '@nestjs/common';
import { SecretRotationService } from '../../service-accounts/index.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/** `secret-rotation`: rotates due client secrets, resumes interrupted rotations, ends grace windows. */
@Injectable()
export class SecretRotationJob implements JobDefinition, OnModuleInit {
  readonly name = 'secret-rotation' as const;
  readonly description = 'Rotates client secrets whose nextRotationAt has passed, with a grace window for the previous secret';

  constructor(
    private readonly jobs: JobsService,
    private readonly rotation: SecretRotationService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(run: JobRunContext): Promise<void> {
    const outcomes = await this.rotation.processDue(run.context, run.dryRun, run.signal);
    for (const outcome of outcomes) {
      run.count(outcome.action);
      run.detail({ ...outcome });
      if (outcome.action === 'failed') {
        run.error(`${outcome.realm}/${outcome.clientId}: ${outcome.error}`, { code: outcome.error ?? 'INTERNAL', realm: outcome.realm, clientId: outcome.clientId });
      }
    }
  }
}
