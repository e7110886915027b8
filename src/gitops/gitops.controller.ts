import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireScopes } from '../common/auth/scopes.decorator.js';
import { Ctx, type OperationContext } from '../common/context/operation-context.js';
import { DomainError, type FieldError } from '../common/errors/domain-error.js';
import { ApiJson, ApiProblems, ApiZodBody } from '../common/http/api-docs.js';
import { ZodPipe } from '../common/http/zod-validation.js';
import { formatPath, zodIssues } from './definitions/definition-loader.js';
import { definitionSchema } from './definitions/definition.schema.js';
import {
  applyRequestSchema,
  assignSetRequestSchema,
  planRequestSchema,
  setParamSchema,
  type ApplyRequest,
  type AssignSetRequestBody,
  type PlanRequest,
} from './dto/gitops.schemas.js';
import { ApplyDefinitionsUseCase } from './usecases/apply-definitions.usecase.js';
import { AssignSetUseCase } from './usecases/assign-set.usecase.js';
import { accountKey, type DesiredAccount } from './usecases/desired-accounts.js';
import { PlanDefinitionsUseCase } from './usecases/plan-definitions.usecase.js';
import { applySummarySchema, assignSetSummarySchema, gitopsPlanSchema } from './gitops.types.js';

/** Plan and apply of definition bundles over HTTP: what `keysmith plan|apply --server URL` calls. */
@ApiTags('gitops')
@Controller('v1/gitops')
export class GitopsController {
  constructor(
    private readonly planner: PlanDefinitionsUseCase,
    private readonly applier: ApplyDefinitionsUseCase,
    private readonly assigner: AssignSetUseCase,
  ) {}

  @Post('plan')
  @HttpCode(200)
  @RequireScopes('gitops:apply')
  @ApiOperation({
    summary: 'Plan a bundle of definitions',
    description:
      'What apply would create, change (field by field, roles and scopes by name), move between GitOps sets and delete (with `prune`, which needs `set`: accounts of that set absent from the bundle, in the realms it names or lists in `realms`). Writes nothing. Guard-rail violations, accounts of another set (`SET_CONFLICT`, unless listed in `adoptFromSets`) and other per-account errors are flagged in the plan; GitOps accounts with no set are listed in `unassigned` and never pruned. A caller confined to one owner plans only that owner\'s accounts.',
  })
  @ApiZodBody(planRequestSchema, 'definitions: keysmith/v1 ServiceAccount documents, as in the files (after ${VAR} substitution)')
  @ApiJson(200, 'The plan: { set, accounts, notPruned, unassigned, summary, hasChanges }', gitopsPlanSchema)
  @ApiProblems(400, 401, 403)
  plan(@Body(new ZodPipe(planRequestSchema)) body: PlanRequest, @Ctx() context: OperationContext) {
    return this.planner.execute(parseBundle(body.definitions), { ...setOptionsOf(body), realms: body.realms, refresh: body.refresh, owner: context.owner, callerScopes: context.callerScopes });
  }

  @Post('apply')
  @HttpCode(200)
  @RequireScopes('gitops:apply')
  @ApiOperation({
    summary: 'Apply a bundle of definitions',
    description:
      'Creates and updates accounts through the same code as PUT; accounts it creates or adopts join `set`. An account of another set is refused with `SET_CONFLICT` unless its set is listed in `adoptFromSets`. Deletes only with `prune` (which needs `set`) and only accounts of that set, at most `maxDeletions` (default 10) per run unless `forceDeletions`. `source` (such as a commit sha) is a provenance label recorded on every audit event and account. One account failing does not stop the others: the answer lists `applied` and `failed`, and `ok` is false. Client secrets of created accounts are never returned; read them with GET .../secret.',
  })
  @ApiZodBody(applyRequestSchema)
  @ApiJson(200, 'The summary: { set, source, applied, failed, refused?, unassigned, ok }', applySummarySchema)
  @ApiProblems(400, 401, 403)
  apply(@Body(new ZodPipe(applyRequestSchema)) body: ApplyRequest, @Ctx() context: OperationContext) {
    return this.applier.execute(context, parseBundle(body.definitions), {
      ...setOptionsOf(body),
      realms: body.realms,
      owner: context.owner,
      source: body.source ?? null,
      maxDeletions: body.maxDeletions,
      forceDeletions: body.forceDeletions,
      refresh: body.refresh,
    });
  }

  @Post('sets/:set/assign')
  @HttpCode(200)
  @RequireScopes('gitops:apply')
  @ApiOperation({
    summary: 'Assign unassigned GitOps accounts to a set',
    description:
      'The explicit step for GitOps accounts made before sets existed (or by an apply without a set): puts the named accounts, or with `allUnassigned` every unassigned GitOps account of the realm, into the set, after which that set\'s `prune` may delete them. Accounts already in the set are `unchanged`; accounts of another set or made through the API are listed in `failed` (`SET_CONFLICT`). Audited per account as `service_account.set_assigned`. A caller confined to one owner assigns only that owner\'s accounts.',
  })
  @ApiParam({ name: 'set', description: 'The set name, like a clientId', example: 'platform-services' })
  @ApiZodBody(assignSetRequestSchema)
  @ApiJson(200, 'The summary: { set, realm, assigned, unchanged, failed, ok }', assignSetSummarySchema)
  @ApiProblems(400, 401, 403, 404)
  assignSet(
    @Param('set', new ZodPipe(setParamSchema)) set: string,
    @Body(new ZodPipe(assignSetRequestSchema)) body: AssignSetRequestBody,
    @Ctx() context: OperationContext,
  ) {
    return this.assigner.execute(context, { set, ...body });
  }
}

function setOptionsOf(body: Pick<PlanRequest, 'prune' | 'set' | 'adoptFromSets' | 'adoptUnassigned'>) {
  return { prune: body.prune, set: body.set ?? null, adoptFromSets: body.adoptFromSets, adoptUnassigned: body.adoptUnassigned };
}

/** Validates each definition of a bundle; every error names its index and field. Duplicates are errors. */
export function parseBundle(definitions: unknown[]): DesiredAccount[] {
  const errors: FieldError[] = [];
  const desired: DesiredAccount[] = [];
  const seen = new Map<string, number>();
  definitions.forEach((raw, index) => {
    const result = definitionSchema.safeParse(raw, { reportInput: true });
    if (!result.success) {
      for (const issue of zodIssues(result.error)) errors.push({ field: formatPath(['definitions', index, ...issue.path]), message: issue.message });
      return;
    }
    const key = accountKey(result.data.metadata.realm, result.data.metadata.name);
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({ field: formatPath(['definitions', index, 'metadata', 'name']), message: `service account ${key} is also defined at definitions[${first}]` });
      return;
    }
    seen.set(key, index);
    desired.push({ definition: result.data });
  });
  if (errors.length > 0) throw DomainError.validation(errors, 'One or more definitions are invalid.');
  return desired;
}
