import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { faultPoint } from '../../common/faults/fault-points.js';
import type { Fence } from '../../common/leases/leases.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { KeycloakClientsGateway, type GrantDiff, type Grants, type ManagedClientState, type ManagedClientSummary, type RealmCatalog } from '../../keycloak/index.js';
import { summaryShowsUnchanged } from '../services/plan-reading.js';
import { clientSpecOf, columnsOf, DAY_MS, grantsOf, specHash, specOf, type Grantable } from '../account-spec.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { ServiceAccountEvents } from '../service-account.events.js';
import { toServiceAccountView } from '../service-account.view.js';
import { AccountRows, reason } from '../services/account-rows.js';
import { describeFieldChanges, describeGrantDiff, diffGrants, type Change } from '../services/grant-diff.js';
import type { ReconcileAccountCommand, UpsertResult } from './commands.js';

/** How Keycloak and an account's row differ from a desired spec, by name. */
export interface AccountDiff {
  changes: Change[];
  current: ManagedClientState;
  grantDiff: GrantDiff;
  /** The client's spec hash is not the one of this spec (an older Keysmith's, or an interrupted change's). */
  hashStale: boolean;
}

/**
 * Makes an existing account match a spec: PUT, PATCH, GitOps apply and drift repair all end here.
 * The row takes the desired spec first (`updating`), then Keycloak is changed, then the row is
 * `ready`; an interruption leaves `updating`, which recovery or the next change re-applies.
 */
@Injectable()
export class ReconcileAccountUseCase {
  constructor(
    private readonly rows: AccountRows,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly audit: AuditService,
    private readonly events: ServiceAccountEvents,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async execute(command: ReconcileAccountCommand): Promise<UpsertResult> {
    const { context, row, spec, catalog, options, fence } = command;
    const source = options.source ?? context.source ?? row.source;
    // The client list shows the account unchanged: no detail read, nothing to write in Keycloak.
    // A row an interrupted update left `updating` is always written: this change replaces it.
    const settled = row.state === 'ready';
    const unchanged = settled && options.clients !== undefined && this.unchangedBySummary(row, spec, catalog, options.clients.get(row.clientId));
    await fence.check('read client');
    const diff = unchanged ? undefined : await this.diff(row, spec, catalog);
    if (diff && command.judgeAdded) await command.judgeAdded(addedGrants(diff));
    if (!diff || (diff.changes.length === 0 && settled)) {
      // Nothing to change, but the client's hash is restamped, so plans can trust it again (plan-reading.ts).
      if (diff?.hashStale) await this.stamp(row, spec, catalog, diff, fence);
      if (source !== row.source || (options.managedBy && options.managedBy !== row.managedBy)) {
        await this.rows.repository.update(row.id, { source, managedBy: options.managedBy ?? row.managedBy });
      }
      const current = await this.rows.repository.findOneByOrFail({ id: row.id });
      return { created: false, account: toServiceAccountView(current), changes: [] };
    }
    await this.recordDesired(row, spec, source, options.managedBy);
    try {
      await this.applyDiff(row, spec, catalog, diff, fence);
    } catch (error) {
      // The row keeps the desired spec in state `updating`: recovery or the next change re-applies it.
      await this.audit.record(context, { action: 'service_account.updated', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { reason: reason(error), changes: diff.changes } });
      throw error;
    }
    const account = toServiceAccountView(row);
    await this.audit.record(context, { action: 'service_account.updated', realm: row.realm, clientId: row.clientId, target: row.keycloakId, detail: { changes: diff.changes } });
    await this.events.publish({ type: 'changed', account, context });
    return { created: false, account, changes: diff.changes };
  }

  /** Re-applies the spec an interrupted update left in the row (`updating`), then marks it `ready`. */
  async complete(context: OperationContext, row: ServiceAccountEntity, catalog: RealmCatalog, fence: Fence): Promise<void> {
    const spec = specOf(row);
    await fence.check('read client');
    const diff = await this.diff(row, spec, catalog);
    await this.applyDiff(row, spec, catalog, diff, fence);
    await this.audit.record(context, { action: 'service_account.update_completed', realm: row.realm, clientId: row.clientId, detail: { changes: diff.changes } });
  }

  /** What making Keycloak and the row match `spec` would change; 409 when the client is gone or was replaced. */
  async diff(row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog): Promise<AccountDiff> {
    const current = await this.keycloak.readManagedClient(row.realm, row.clientId);
    if (!current || current.id !== row.keycloakId) throw orphaned(row);
    const grants = grantsOf(spec, this.config.baseClientScopes, catalog);
    const grantDiff = diffGrants(grants, current.grants);
    const applied = grantsOf(specOf(row), this.config.baseClientScopes, catalog);
    const clientSpec = clientSpecOf(row, spec, grants, this.config.tokenExchange.accessTokenLifespanSeconds);
    // A lifespan that differs while the exchange policy stays is drift (or a changed setting); a policy change names itself.
    const lifespan = { from: current.accessTokenLifespanSeconds, to: clientSpec.accessTokenLifespanSeconds };
    const lifespanDrifted = lifespan.from !== lifespan.to && row.keyTokenExchange === spec.apiKeyPolicy.tokenExchange;
    const inKeycloak = { origin: 'keycloak' as const };
    const changes = [
      ...labelKeycloakSide(describeFieldChanges({ description: [current.description, spec.description], enabled: [current.enabled, spec.enabled], owner: [row.owner, spec.owner] }), {
        description: current.description !== row.description,
        enabled: current.enabled !== row.enabled,
      }),
      ...(current.flagsDrifted ? [{ field: 'flows', action: 'set' as const, from: 'drifted', to: 'service-accounts only', ...inKeycloak }] : []),
      ...(current.attributesDriftedFrom(clientSpec)
        ? [{ field: 'keycloakAttributes', action: 'set' as const, from: 'drifted', to: 'Keysmith ownership attributes', ...inKeycloak }]
        : []),
      ...(lifespanDrifted ? [{ field: 'accessTokenLifespan', action: 'set' as const, ...lifespan, ...inKeycloak }] : []),
      ...describeGrantDiff(grantDiff).map((change) => (changedInKeycloak(change, applied) ? { ...change, ...inKeycloak } : change)),
      ...describeFieldChanges({
        'secretRotation.everyDays': [row.rotationEveryDays, spec.secretRotation.everyDays],
        'secretRotation.graceHours': [row.rotationGraceHours, spec.secretRotation.graceHours],
        'apiKeyPolicy.defaultTtlDays': [row.keyDefaultTtlDays, spec.apiKeyPolicy.defaultTtlDays],
        'apiKeyPolicy.maxTtlDays': [row.keyMaxTtlDays, spec.apiKeyPolicy.maxTtlDays],
        'apiKeyPolicy.rateLimit': [row.keyRateLimit, spec.apiKeyPolicy.rateLimit],
        'apiKeyPolicy.tokenExchange': [row.keyTokenExchange, spec.apiKeyPolicy.tokenExchange],
      }),
    ];
    return { changes, current, grantDiff, hashStale: current.specHash !== clientSpec.specHash };
  }

  /** Whether the client list's summary of the account shows it unchanged against `spec` (no detail read needed). */
  unchangedBySummary(row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog, summary: ManagedClientSummary | undefined): boolean {
    const grants = grantsOf(spec, this.config.baseClientScopes, catalog);
    return summaryShowsUnchanged(row, spec, summary, clientSpecOf(row, spec, grants, this.config.tokenExchange.accessTokenLifespanSeconds));
  }

  private async stamp(row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog, diff: AccountDiff, fence: Fence): Promise<void> {
    await fence.check('update client');
    const grants = grantsOf(spec, this.config.baseClientScopes, catalog);
    await this.keycloak.applyClientSpec(row.realm, diff.current, clientSpecOf(row, spec, grants, this.config.tokenExchange.accessTokenLifespanSeconds));
  }

  private async recordDesired(row: ServiceAccountEntity, spec: ServiceAccountSpec, source: string | null, managedBy: ServiceAccountEntity['managedBy'] | undefined): Promise<void> {
    const now = this.clock.now();
    const rotationChanged = spec.secretRotation.everyDays !== row.rotationEveryDays;
    Object.assign(row, columnsOf(spec), {
      specHash: specHash(spec),
      source,
      managedBy: managedBy ?? row.managedBy,
      updatedAt: now,
      state: 'updating',
      ...(rotationChanged ? { nextRotationAt: new Date((row.lastRotatedAt ?? now).getTime() + spec.secretRotation.everyDays * DAY_MS) } : {}),
    });
    await this.rows.repository.save(row);
  }

  /** Any change also refreshes the client (and the spec hash stamped on it), then the grants. */
  private async applyDiff(row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog, diff: AccountDiff, fence: Fence): Promise<void> {
    await faultPoint('reconcile.row-updating');
    if (diff.changes.length || diff.hashStale) {
      await fence.check('update client');
      await this.keycloak.applyClientSpec(row.realm, diff.current, clientSpecOf(row, spec, grantsOf(spec, this.config.baseClientScopes, catalog), this.config.tokenExchange.accessTokenLifespanSeconds));
      await faultPoint('reconcile.client-updated');
      await fence.check('set grants');
      await this.keycloak.applyGrantChanges(row.realm, diff.current, diff.grantDiff);
      await faultPoint('reconcile.grants-set');
    }
    await fence.check('mark ready');
    // Keycloak now matches the spec: what was seen there before no longer applies.
    await this.rows.repository.update(row.id, { state: 'ready', keycloakObserved: null });
    row.state = 'ready';
    row.keycloakObserved = null;
    await faultPoint('reconcile.ready');
  }
}

/** 409 ACCOUNT_ORPHANED: the account's client is gone from Keycloak (or was replaced by another of the same name). */
export function orphaned(row: Pick<ServiceAccountEntity, 'realm' | 'clientId'>): DomainError {
  return new DomainError(
    ErrorCode.AccountOrphaned,
    `The Keycloak client of ${row.clientId} was deleted (or replaced) in Keycloak, outside Keysmith; its keys are refused. Delete the account, then create it again.`,
    { clientId: row.clientId },
  );
}

/** Field changes whose Keycloak value differs from the last applied one were made in Keycloak. */
function labelKeycloakSide(changes: Change[], keycloakSide: Record<string, boolean>): Change[] {
  return changes.map((change) => (keycloakSide[change.field] ? { ...change, origin: 'keycloak' as const } : change));
}

/**
 * A grant change undoes something done in Keycloak when the last applied spec agrees with the
 * desired one on it: adding back what the account had (removed in Keycloak), or removing what it
 * never had (added in Keycloak).
 */
function changedInKeycloak(change: Change, applied: Grants): boolean {
  const [field, client] = change.field.startsWith('clientRoles.') ? ['clientRoles', change.field.slice('clientRoles.'.length)] : [change.field, undefined];
  const held =
    field === 'clientRoles'
      ? (applied.clientRoles[client!] ?? [])
      : ((applied as unknown as Record<string, string[]>)[field] ?? []);
  const had = held.includes(change.value ?? '');
  return change.action === 'add' ? had : change.action === 'remove' ? !had : false;
}

/**
 * What a diff adds to Keycloak: the roles it grants, and the scopes the client holds in neither list
 * now (a scope moved from optional to default, or back, gives its holder nothing new).
 */
export function addedGrants({ grantDiff, current }: AccountDiff): Grantable {
  const held = new Set([...current.grants.defaultScopes, ...current.grants.optionalScopes]);
  return {
    realmRoles: grantDiff.realmRoles.add,
    clientRoles: Object.fromEntries(Object.entries(grantDiff.clientRoles).filter(([, roles]) => roles.add.length > 0).map(([client, roles]) => [client, roles.add])),
    defaultScopes: grantDiff.defaultScopes.add.filter((scope) => !held.has(scope)),
    optionalScopes: grantDiff.optionalScopes.add.filter((scope) => !held.has(scope)),
  };
}
