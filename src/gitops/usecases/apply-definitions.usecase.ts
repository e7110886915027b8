import { Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import { AuditService } from '../../audit/index.js';
import { AppConfig } from '../../config/app-config.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { detailOf, DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { GitopsAccounts, type AccountChange } from '../ports/gitops-accounts.port.js';
import type { ClientSummaries, ServiceAccountView } from '../../service-accounts/index.js';
import type { AccountRef, AppliedAccount, ApplySummary, FailedAccount } from '../gitops.types.js';
import { accountKey, assertSetOptions, desiredSpec, setRequestOf, type BundleOptions, type DesiredAccount } from './desired-accounts.js';
import { PlanDefinitionsUseCase } from './plan-definitions.usecase.js';

/**
 * Accounts applied at once per allowed Keycloak call (KEYCLOAK_MAX_CONCURRENCY): each account also
 * waits on its lease and its database writes between calls, so twice as many keep Keycloak busy.
 * Keycloak's own calls stay bounded by KEYCLOAK_MAX_CONCURRENCY in the Keycloak module.
 */
const ACCOUNTS_PER_KEYCLOAK_CALL = 2;

export interface ApplyOptions extends BundleOptions {
  /** A label such as a commit sha, recorded on every audit event and on each account. */
  source?: string | null;
  /** At most this many deletions per run (default KEYSMITH_GITOPS_MAX_DELETIONS, 10) unless `forceDeletions`. */
  maxDeletions?: number;
  forceDeletions?: boolean;
  /**
   * Asks the apply to stop: accounts under way are finished (nothing is left half-made), the rest
   * are not started and are listed in `stopped`. Its reason says why (`aborted with SIGTERM`).
   */
  signal?: AbortSignal;
}

/**
 * Makes Keycloak and Keysmith match a bundle of definitions: creates and updates through the
 * service-accounts feature's upsert (the code path of PUT), which also enforces set ownership;
 * deletes with prune only accounts of the apply's own set, within the deletion cap. One account's failure does not stop the others; the
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
    assertSetOptions(options);
    const source = options.source ?? context.source ?? null;
    const set = options.set ?? null;
    const ctx: OperationContext = { ...context, source };
    const existing = await this.planner.existingAccounts(desired, options);
    const selection = this.planner.pruneSelection(desired, existing, options);
    const deletions = options.prune ? selection.candidates : [];
    const unassigned = selection.unassigned.map(({ realm, clientId }) => ({ realm, clientId }));
    const maxDeletions = options.maxDeletions ?? this.config.gitops.maxDeletions;

    if (deletions.length > maxDeletions && !options.forceDeletions) {
      const reason = `${deletions.length} deletions exceed the limit of ${maxDeletions} per run; nothing was applied (raise the limit or force deletions)`;
      await this.audit.record(ctx, { action: 'gitops.applied', outcome: 'failure', detail: { set, reason: 'DELETION_CAP', deletions: deletions.length, maxDeletions } });
      return { set, source, applied: [], failed: [], refused: { reason, deletions: deletions.length, maxDeletions }, unassigned, ok: false };
    }

    // As plans do: existing accounts the client list shows unchanged are not read in detail (unless `refresh`).
    const clients = options.refresh ? undefined : await this.planner.clientLists(desired, options, existing);
    const applied: AppliedAccount[] = [];
    const failed: FailedAccount[] = [];
    const notStarted: AccountRef[] = [];
    const { signal } = options;
    const limit = pLimit(ACCOUNTS_PER_KEYCLOAK_CALL * this.config.keycloak.maxConcurrency);
    await Promise.all(
      desired.map((item) =>
        limit(() => {
          if (signal?.aborted) notStarted.push({ realm: item.definition.metadata.realm, clientId: item.definition.metadata.name });
          else return this.applyOne(ctx, item, { existing, clients }, options, applied, failed);
        }),
      ),
    );
    for (const account of deletions) {
      if (signal?.aborted) {
        notStarted.push({ realm: account.realm, clientId: account.clientId });
        continue;
      }
      try {
        // Deleted only while still in this set: another apply may have moved it since the selection.
        await this.accounts.remove(ctx, account.realm, account.clientId, { onlyInSet: set! });
        applied.push({ realm: account.realm, clientId: account.clientId, action: 'deleted', changes: [] });
      } catch (error) {
        failed.push(failure(account.realm, account.clientId, 'delete', error));
      }
    }

    applied.sort(byName);
    failed.sort(byName);
    notStarted.sort(byName);
    // A stop that came once every account had started held nothing back: the apply is complete.
    const stopped = signal?.aborted && notStarted.length > 0 ? { reason: stopReason(signal), notStarted } : undefined;
    await this.recordApplied(ctx, set, applied, failed, stopped);
    return { set, source, applied, failed, unassigned, ...(stopped ? { stopped } : {}), ok: failed.length === 0 && !stopped };
  }

  private async recordApplied(ctx: OperationContext, set: string | null, applied: AppliedAccount[], failed: FailedAccount[], stopped?: { reason: string; notStarted: AccountRef[] }) {
    const count = (action: AppliedAccount['action']) => applied.filter((a) => a.action === action).length;
    await this.audit.record(ctx, {
      action: 'gitops.applied',
      outcome: failed.length || stopped ? 'failure' : 'success',
      detail: {
        set,
        created: count('created'),
        updated: count('updated'),
        deleted: count('deleted'),
        unchanged: count('unchanged'),
        failed: failed.map((f) => `${f.realm}/${f.clientId}: ${f.code}`),
        ...(stopped ? { stopped: stopped.reason, notStarted: stopped.notStarted.length } : {}),
      },
    });
  }

  private async applyOne(
    ctx: OperationContext,
    item: DesiredAccount,
    read: { existing: Map<string, ServiceAccountView>; clients: Map<string, ClientSummaries> | undefined },
    options: ApplyOptions,
    applied: AppliedAccount[],
    failed: FailedAccount[],
  ): Promise<void> {
    const { realm, name: clientId, owner } = item.definition.metadata;
    const before = read.existing.get(accountKey(realm, clientId));
    // Undefined for a realm whose list was not read (no definition names an existing account there):
    // its new accounts' names are then looked up one by one.
    const clients = read.clients?.get(realm);
    try {
      if (options.owner && owner !== options.owner) {
        throw new DomainError(ErrorCode.OwnerForbidden, `You may only manage service accounts owned by ${options.owner}.`);
      }
      // The result's clientSecret is dropped here: it stays readable through the API, never printed.
      const result = await this.accounts.upsert(ctx, realm, clientId, desiredSpec(item.definition), { managedBy: 'gitops', source: ctx.source, set: setRequestOf(options), clients });
      const after = result.account.gitopsSet;
      const changes: AccountChange[] = result.created ? [] : [...result.changes];
      if (!result.created && before && before.managedBy !== result.account.managedBy) changes.push({ field: 'managedBy', action: 'set', from: before.managedBy, to: result.account.managedBy });
      if (!result.created && before && before.gitopsSet !== after) changes.push({ field: 'set', action: 'set', from: before.gitopsSet, to: after });
      applied.push({
        realm,
        clientId,
        action: result.created ? 'created' : changes.length > 0 ? 'updated' : 'unchanged',
        changes,
        ...(result.created ? { secret: secretLocation(realm, clientId) } : {}),
        ...(result.account.managedBy === 'gitops' && after === null ? { unassigned: true } : {}),
      });
    } catch (error) {
      failed.push(failure(realm, clientId, before ? 'update' : 'create', error));
    }
  }
}

const byName = (a: AccountRef, b: AccountRef) => a.realm.localeCompare(b.realm) || a.clientId.localeCompare(b.clientId);

/** Where the client secret of an account created by apply can be read (scope `secrets:read`). */
export function secretLocation(realm: string, clientId: string): string {
  return `GET /v1/realms/${encodeURIComponent(realm)}/service-accounts/${encodeURIComponent(clientId)}/secret`;
}

/** The reason an apply stopped: the abort reason when it is a sentence, else a plain one. */
function stopReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'asked to stop';
}

function failure(realm: string, clientId: string, action: FailedAccount['action'], error: unknown): FailedAccount {
  if (error instanceof DomainError) return { realm, clientId, action, code: error.code, detail: detailOf(error) };
  // An unexpected error's message could hold anything: report only its kind.
  return { realm, clientId, action, code: ErrorCode.Internal, detail: `unexpected ${(error as Error)?.name ?? 'error'}; see the server log` };
}
