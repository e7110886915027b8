import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceAccountsModule } from '../service-accounts/index.js';
import { ApiKeysModule } from '../api-keys/index.js';
import { KeyExpiryJob } from './definitions/key-expiry.job.js';
import { DriftJob } from './definitions/drift.job.js';
import { SecretRotationJob } from './definitions/secret-rotation.job.js';
import { SecretHealthJob } from './definitions/secret-health.job.js';
import { RecoveryJob } from './definitions/recovery.job.js';
import { JobRunEntity } from './entities/job-run.entity.js';
import { JobsController } from './jobs.controller.js';
import { JobLockService } from './services/job-lock.service.js';
import { JobsService } from './services/jobs.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([JobRunEntity]), ServiceAccountsModule, ApiKeysModule],
  controllers: [JobsController],
  providers: [JobsService, JobLockService, SecretRotationJob, SecretHealthJob, KeyExpiryJob, DriftJob, RecoveryJob],
  exports: [JobsService],
})
export class JobsModule {}
