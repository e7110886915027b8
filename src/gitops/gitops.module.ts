import { Module } from '@nestjs/common';
import { GitopsController } from './gitops.controller.js';
import { ApplyDefinitionsUseCase } from './usecases/apply-definitions.usecase.js';
import { AssignSetUseCase } from './usecases/assign-set.usecase.js';
import { ExportDefinitionsUseCase } from './usecases/export-definitions.usecase.js';
import { PlanDefinitionsUseCase } from './usecases/plan-definitions.usecase.js';

/** GitOps: plan, apply and export of service-account definitions, over HTTP and from the CLI. */
@Module({
  controllers: [GitopsController],
  providers: [
    PlanDefinitionsUseCase,
    ApplyDefinitionsUseCase,
    ExportDefinitionsUseCase,
    AssignSetUseCase,
  ],
  exports: [PlanDefinitionsUseCase, ApplyDefinitionsUseCase, ExportDefinitionsUseCase, AssignSetUseCase],
})
export class GitopsModule {}
