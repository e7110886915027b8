import { Injectable, type OnModuleInit } from '@nestjs/common';
import { KeyExpiryService } from '../../api-keys/index.js';
import type { JobDefinition, JobRunContext } from '../job-definition.js';
import { JobsService } from '../services/jobs.service.js';

/** `key-expiry`: the 90-day maximum on every key, expiry records and warnings before expiry. */
@Injectable()
export class KeyExpiryJob implements JobDefinition, OnModuleInit {
  readonly name = 'key-expiry' as const;
  readonly description = 'Clamps keys to their maximum lifetime, records expired keys, warns before expiry (14, 7, 1 days by default)';

  constructor(
    private readonly jobs: JobsService,
    private readonly expiry: KeyExpiryService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(run: JobRunContext): Promise<void> {
    for (const item of await this.expiry.sweep(run.context, run.dryRun, run.signal)) {
      run.count(item.action);
      run.detail({ ...item });
    }
  }
}
