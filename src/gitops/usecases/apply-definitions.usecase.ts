import { Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import { AuditService } from '../../audit/audit.service.js';
import { AppConfig } from '../../config/app-config.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { GitopsAccounts } from '../gitops-accounts.port.js';
import type { AppliedAccount, ApplySummary, FailedAccount } from '../gitops.types.js';
import { desiredSpec, type BundleOptions, type DesiredAccount } from './desired-accounts.js';
import { PlanDefinitionsUseCase } from './plan-definitions.usecase.js';

/** How many accounts are applied at once; Keycloak calls are bounded again by the Keycloak module. */
const APPLY_CONCURRENCY = 8;

export interface ApplyOptions extends BundleOptions {
  /** A label such as a commit sha, recorded on every audit event and on each account. */
  source?: string | null;
  /** At most this many deletions per run (default KEYSMITH_GITOPS_MAX_DELETIONS, 10) unless `forceDeletions`. */
  maxDeletions?: number;
  forceDeletions?: boolean;
}

/**
 * Makes Keycloak and Keysmith match a bundle of definitions: creates and updates through the
 * service-accounts feature's upsert (the code path of PUT), deletes GitOps-managed accounts only
 * with prune and within the deletion cap. One account's failure does not stop the others; the
 * summary lists what was applied and what failed. Client secrets are never returned.
 */
@Injectable()
export class ApplyDefinitionsUseCase {
  constructor(
    private readonly accounts: GitopsAccounts,
    private readonly planner: PlanDefinitionsUseCase,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async execute(context: OperationContext, desired: DesiredAccount[], options: ApplyOptions): Promise<ApplySummary> {
    const source = options.source ?? context.source ?? null;
    const ctx: OperationContext = { ...context, source };
    const existing = await this.planner.existingAccounts(desired, options);
    const deletions = options.prune ? this.planner.pruneCandidates(desired, existing, options).deletions : [];
    const maxDeletions = options.maxDeletions ?? this.config.gitops.maxDeletions;

    if (deletions.length > maxDeletions && !options.forceDeletions) {
      const reason = `${deletions.length} deletions exceed the limit of ${maxDeletions} per run; nothing was applied (raise the limit or force deletions)`;
      await this.audit.record(ctx, { action: 'gitops.applied', outcome: 'failure', detail: { reason: 'DELETION_CAP', deletions: deletions.length, maxDeletions } });
      return { source, applied: [], failed: [], refused: { reason, deletions: deletions.length, maxDeletions }, ok: false };
    }

    const applied: AppliedAccount[] = [];
    const failed: FailedAccount[] = [];
    const limit = pLimit(APPLY_CONCURRENCY);
    await Promise.all(
      desired.map((item) =>
        limit(async () => {
          const { realm, name: clientId, owner } = item.definition.metadata;
          try {
            if (options.owner && owner !== options.owner) {
              throw new DomainError(ErrorCode.OwnerForbidden, `You may only manage service accounts owned by ${options.owner}.`);
            }
            // The result's clientSecret is dropped here: it stays readable through the API, never printed.
            const result = await this.accounts.upsert(ctx, realm, clientId, desiredSpec(item.definition), { managedBy: 'gitops', source });
            applied.push({
              realm,
              clientId,
              action: result.created ? 'created' : result.changes.length > 0 ? 'updated' : 'unchanged',
              changes: result.created ? [] : result.changes,
              ...(result.created ? { secret: secretLocation(realm, clientId) } : {}),
            });
          } catch (error) {
            failed.push(failure(realm, clientId, existing.has(`${realm}/${clientId}`) ? 'update' : 'create', error));
          }
        }),
      ),
    );
    for (const account of deletions) {
      try {
        await this.accounts.remove(ctx, account.realm, account.clientId);
        applied.push({ realm: account.realm, clientId: account.clientId, action: 'deleted', changes: [] });
      } catch (error) {
        failed.push(failure(account.realm, account.clientId, 'delete', error));
      }
    }

    const byName = (a: { realm: string; clientId: string }, b: { realm: string; clientId: string }) => a.realm.localeCompare(b.realm) || a.clientId.localeCompare(b.clientId);
    applied.sort(byName);
    failed.sort(byName);
    const count = (action: AppliedAccount['action']) => applied.filter((a) => a.action === action).length;
    await this.audit.record(ctx, {
      action: 'gitops.applied',
      outcome: failed.length ? 'failure' : 'success',
      detail: { created: count('created'), updated: count('updated'), deleted: count('deleted'), unchanged: count('unchanged'), failed: failed.map((f) => `${f.realm}/${f.clientId}: ${f.code}`) },
    });
    return { source, applied, failed, ok: failed.length === 0 };
  }
}

/** Where the client secret of an account created by apply can be read (scope `secrets:read`). */
export function secretLocation(realm: string, clientId: string): string {
  return `GET /v1/realms/${encodeURIComponent(realm)}/service-accounts/${encodeURIComponent(clientId)}/secret`;
}

function failure(realm: string, clientId: string, action: FailedAccount['action'], error: unknown): FailedAccount {
  if (error instanceof DomainError) return { realm, clientId, action, code: error.code, detail: error.detail };
  // An unexpected error's message could hold anything: report only its kind.
  return { realm, clientId, action, code: ErrorCode.Internal, detail: `unexpected ${(error as Error)?.name ?? 'error'}; see the server log` };
}
