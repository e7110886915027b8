import { Module } from '@nestjs/common';
import { ServiceAccountsModule } from '../service-accounts/service-accounts.module.js';
import { ServiceAccountsService } from '../service-accounts/services/service-accounts.service.js';
import { GitopsAccounts } from './gitops-accounts.port.js';
import { GitopsController } from './gitops.controller.js';
import { ApplyDefinitionsUseCase } from './usecases/apply-definitions.usecase.js';
import { AssignSetUseCase } from './usecases/assign-set.usecase.js';
import { ExportDefinitionsUseCase } from './usecases/export-definitions.usecase.js';
import { PlanDefinitionsUseCase } from './usecases/plan-definitions.usecase.js';

/** GitOps: plan, apply and export of service-account definitions, over HTTP and from the CLI. */
@Module({
  imports: [ServiceAccountsModule],
  controllers: [GitopsController],
  providers: [
    // The service-accounts feature is GitOps' only way to change accounts: one code path with PUT.
    { provide: GitopsAccounts, inject: [ServiceAccountsService], useFactory: (service: ServiceAccountsService): GitopsAccounts => service },
    PlanDefinitionsUseCase,
    ApplyDefinitionsUseCase,
    ExportDefinitionsUseCase,
    AssignSetUseCase,
  ],
  exports: [PlanDefinitionsUseCase, ApplyDefinitionsUseCase, ExportDefinitionsUseCase, AssignSetUseCase],
})
export class GitopsModule {}
