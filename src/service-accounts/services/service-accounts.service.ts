import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { Page } from '../../common/http/pagination.js';
import type { Fence } from '../../common/leases/leases.js';
import { KeycloakClientsGateway, type ClientOwnership } from '../../keycloak/index.js';
import { specOf, type Grantable } from '../account-spec.js';
import type { CreateServiceAccountInput, PatchServiceAccountInput, ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { AccountLease } from '../lease/account-lease.js';
import type { ServiceAccountView } from '../service-account.view.js';
import { AccountReader, type ListFilter } from '../usecases/account-reader.js';
import { AssignSetUseCase } from '../usecases/assign-set.usecase.js';
import type { ApplyOptions, UpsertResult } from '../usecases/commands.js';
import { DeleteAccountUseCase } from '../usecases/delete-account.usecase.js';
import { applyPatch } from '../usecases/patch-spec.js';
import { AccountRowExists, ProvisionAccountUseCase } from '../usecases/provision-account.usecase.js';
import { RecoverAccountUseCase } from '../usecases/recover-account.usecase.js';
import { ReconcileAccountUseCase } from '../usecases/reconcile-account.usecase.js';
import { AccountRows, assertIfMatch, notFound, reason } from './account-rows.js';
import type { Change } from './grant-diff.js';
import { SecretRotationService } from '../usecases/rotate-secret/secret-rotation.service.js';
import { grantsOf, SpecChecker } from './spec-checker.js';
import type { GrantViolation } from '../policy/grant-validator.js';
import type { ClientSummaries } from './plan-reading.js';


export interface PlanResult {
  action: 'create' | 'update' | 'noop';
  changes: Change[];
  /** Grants the guard-rail policy forbids. */
  forbidden: string[];
  /** Why, with the path from each grant to what makes it forbidden. */
  violations: GrantViolation[];
  /** The account's Keycloak state was read in detail (not judged from the client list's summary). */
  detailed: boolean;
}

type CallerScopes = Pick<OperationContext, 'callerScopes'>;

/** The drift of an account whose client was deleted in Keycloak. */
const CLIENT_DELETED: Change = { field: 'client', action: 'set', from: 'deleted in Keycloak', to: 'present', origin: 'keycloak' };

/** An account's spec with what Keycloak took away (a disable, removed scopes) kept, as the base of a PATCH. */
function keycloakSideKept(spec: ServiceAccountSpec, row: ServiceAccountEntity): ServiceAccountSpec {
  const observed = row.keycloakObserved;
  if (!observed) return spec;
  const missing = new Set(observed.missingScopes);
  return {
    ...spec,
    enabled: spec.enabled && !observed.disabled,
    defaultScopes: spec.defaultScopes.filter((scope) => !missing.has(scope)),
    optionalScopes: spec.optionalScopes.filter((scope) => !missing.has(scope)),
  };
}

/**
 * The service-accounts feature's entry point for its controller, its ports (ServiceAccountDirectory,
 * GitopsAccounts) and its jobs. Every change runs under the account's lease (shared by all
 * instances) and is carried out by a use case in ../usecases; reads go to the AccountReader.
 */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly rows: AccountRows,
    private readonly lease: AccountLease,
    private readonly checker: SpecChecker,
    private readonly reader: AccountReader,
    private readonly provisioning: ProvisionAccountUseCase,
    private readonly reconciling: ReconcileAccountUseCase,
    private readonly deleting: DeleteAccountUseCase,
    private readonly recovering: RecoverAccountUseCase,
    private readonly sets: AssignSetUseCase,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly audit: AuditService,
    private readonly rotation: SecretRotationService,
  ) {}

  /** The guard-rail violations of the grants `spec` adds to `held` (see SpecChecker). */
  grantViolations(context: CallerScopes, realm: string, spec: Grantable, held?: Grantable): Promise<GrantViolation[]> {
    return this.checker.grantViolations(context, realm, spec, held);
  }

  async create(context: OperationContext, realm: string, input: CreateServiceAccountInput, options: ApplyOptions = {}): Promise<UpsertResult> {
    const { clientId, ...spec } = input;
    const catalog = await this.checker.check(context, realm, clientId, spec);
    // Whether Keycloak holds a client of the name is a read: asked at once, beside the lease. The row
    // is not read first: the create's insert meets a live row by the unique index, and only then is
    // that row read and settled (a recovery may then remove a client, so the name is asked again).
    const found = this.keycloak.ownership(realm, clientId);
    found.catch(() => undefined);
    return this.lease.withAccountLease(realm, clientId, async (fence) => {
      try {
        return await this.provisioning.execute({ context, realm, clientId, spec, catalog, options, fence, found });
      } catch (error) {
        if (!(error instanceof AccountRowExists)) throw error;
      }
      if (await this.settledRow(realm, clientId, fence)) {
        throw new DomainError(ErrorCode.ClientExists, `Service account ${clientId} already exists in realm ${realm}.`, { clientId });
      }
      return this.provisioning.execute({ context, realm, clientId, spec, catalog, options, fence });
    });
  }

  /** Declarative upsert: afterwards Keycloak matches `spec` exactly. */
  async upsert(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, options: ApplyOptions = {}): Promise<UpsertResult> {
    this.checker.assertRealm(realm);
    return this.lease.withAccountLease(realm, clientId, async (fence) => {
      const row = await this.settledRow(realm, clientId, fence);
      const visible = row && (!context.owner || row.owner === context.owner) ? row : null;
      const catalog = await this.checker.check(context, realm, clientId, spec, visible ? specOf(visible) : undefined);
      // Another owner's account is judged as absent: its entity tag is not the caller's to learn.
      assertIfMatch(visible, options.ifMatch, realm, clientId);
      if (!row) return this.provisioning.execute({ context, realm, clientId, spec, catalog, options, fence, found: listedOwnership(options.clients, clientId) });
      if (context.owner && row.owner !== context.owner) throw notFound(realm, clientId);
      if (options.set) await this.sets.claim(context, row, options.set);
      return this.reconciling.execute({ context, row, spec, catalog, options, fence, judgeAdded: this.judgeAdded(context, realm, clientId, spec.owner) });
    });
  }

  /** A partial change, built from the account as it is under its lease, so no concurrent change is lost. */
  async patch(context: OperationContext, realm: string, clientId: string, patch: PatchServiceAccountInput, options: { ifMatch?: string } = {}): Promise<UpsertResult> {
    this.checker.assertRealm(realm);
    return this.lease.withAccountLease(realm, clientId, async (fence) => {
      await this.rows.get(context, realm, clientId);
      const row = await this.settledRow(realm, clientId, fence);
      if (!row) throw notFound(realm, clientId);
      assertIfMatch(row, options.ifMatch, realm, clientId);
      // A PATCH changes what it names: what was changed in Keycloak directly (a disable, a removed scope) stays.
      const spec = applyPatch(keycloakSideKept(specOf(row), row), patch);
      const catalog = await this.checker.check(context, realm, clientId, spec, specOf(row));
      const applyOptions = { managedBy: row.managedBy, source: context.source ?? row.source };
      return this.reconciling.execute({ context, row, spec, catalog, options: applyOptions, fence, judgeAdded: this.judgeAdded(context, realm, clientId, spec.owner) });
    });
  }

  /**
   * What `upsert` would change, without writing anything, with the guard-rail violations of the
   * grants it would add (judged for `context`'s caller; operators by default). With `clients` (the
   * realm's client list, see plan-reading.ts) an account whose summary shows it unchanged is not
   * read in detail, and a new one needs no look-up; without it every account is read in full.
   */
  async plan(realm: string, clientId: string, spec: ServiceAccountSpec, context: CallerScopes = { callerScopes: null }, clients?: ClientSummaries): Promise<PlanResult> {
    this.checker.assertRealm(realm);
    const row = await this.rows.find(realm, clientId);
    if (!row) {
      if (clients ? clients.has(clientId) : await this.keycloak.ownership(realm, clientId)) {
        throw new DomainError(ErrorCode.ClientExists, `A client ${clientId} exists in realm ${realm} but Keysmith did not make it; it is never adopted.`, { clientId });
      }
      await this.checker.resolveCatalog(realm, spec);
      const violations = await this.checker.grantViolations(context, realm, spec);
      return { action: 'create', changes: [], forbidden: grantsOf(violations), violations, detailed: false };
    }
    const catalog = await this.checker.resolveCatalog(realm, spec);
    const violations = await this.checker.grantViolations(context, realm, spec, specOf(row));
    if (clients && this.reconciling.unchangedBySummary(row, spec, catalog, clients.get(clientId))) {
      return { action: 'noop', changes: [], forbidden: grantsOf(violations), violations, detailed: false };
    }
    const { changes } = await this.reconciling.diff(row, spec, catalog);
    return { action: changes.length ? 'update' : 'noop', changes, forbidden: grantsOf(violations), violations, detailed: true };
  }

  /** The realm's client list, summarised, for plans in `summary` mode (one paged read). */
  clientSummaries(realm: string): Promise<ClientSummaries> {
    this.checker.assertRealm(realm);
    return this.keycloak.clientSummaries(realm);
  }

  /** How Keycloak differs from the account's last applied spec (changes made by hand), by name; empty without drift. */
  async detectDrift(realm: string, clientId: string): Promise<Change[]> {
    const row = await this.rows.find(realm, clientId);
    if (!row || (row.state !== 'ready' && row.state !== 'orphaned')) return [];
    if (row.state === 'orphaned') return [CLIENT_DELETED];
    const spec = specOf(row);
    try {
      return (await this.reconciling.diff(row, spec, await this.checker.resolveCatalog(realm, spec))).changes;
    } catch (error) {
      // A client deleted in Keycloak is drift, not a failure of the check.
      if (error instanceof DomainError && error.code === ErrorCode.AccountOrphaned) return [CLIENT_DELETED];
      throw error;
    }
  }

  /** Puts Keycloak back to the account's last applied spec, read under the lease (a concurrent change is never undone). */
  async repairDrift(context: OperationContext, realm: string, clientId: string): Promise<Change[]> {
    return this.lease.withAccountLease(realm, clientId, async (fence) => {
      const row = await this.rows.find(realm, clientId);
      if (!row || row.state !== 'ready') return [];
      const spec = specOf(row);
      const catalog = await this.checker.resolveCatalog(realm, spec);
      const options = { managedBy: row.managedBy, source: row.source };
      // What the repair would grant again is judged first: a role taken away in Keycloak because the policy forbids it stays away.
      return (await this.reconciling.execute({ context, row, spec, catalog, options, fence, judgeAdded: this.judgeAdded(context, realm, clientId, spec.owner) })).changes;
    });
  }

  /** Deletes the account; with `onlyInSet` (GitOps prune) only while it still belongs to that set. */
  async remove(context: OperationContext, realm: string, clientId: string, options: { onlyInSet?: string; ifMatch?: string } = {}): Promise<void> {
    this.checker.assertRealm(realm);
    await this.lease.withAccountLease(realm, clientId, async (fence) => {
      const row = await this.rows.get(context, realm, clientId, { includePending: true });
      assertIfMatch(row, options.ifMatch, realm, clientId);
      await this.deleting.execute({ context, row, onlyInSet: options.onlyInSet, fence });
    });
  }

  get(context: OperationContext, realm: string, clientId: string): Promise<ServiceAccountView & { etag: string }> {
    return this.reader.get(context, realm, clientId);
  }

  findLive(realm: string, clientId: string): Promise<ServiceAccountView | null> {
    return this.reader.findLive(realm, clientId);
  }

  list(context: OperationContext, realm: string, filter: ListFilter, limit: number, cursor?: string): Promise<Page<ServiceAccountView>> {
    return this.reader.list(context, realm, filter, limit, cursor);
  }

  listAll(realm: string): Promise<ServiceAccountView[]> {
    return this.reader.listAll(realm);
  }

  /** How a reconcile of the account judges what it would grant in Keycloak (see SpecChecker.assertAddedAllowed). */
  private judgeAdded(context: OperationContext, realm: string, clientId: string, owner: string): (added: Grantable) => Promise<void> {
    return (added) => this.checker.assertAddedAllowed(context, realm, clientId, owner, added);
  }

  /** Runs `body` under the account's lease (API keys are issued under it, so no deletion runs meanwhile). */
  whileHeld<T>(realm: string, clientId: string, body: () => Promise<T>): Promise<T> {
    return this.lease.withAccountLease(realm, clientId, () => body());
  }

  readSecret(context: OperationContext, realm: string, clientId: string): Promise<{ clientSecret: string; rotatedAt: string | null }> {
    return this.reader.readSecret(context, realm, clientId);
  }

  /** Assigns a GitOps account that has no set to `set` (see AssignSetUseCase). */
  assignSet(context: OperationContext, realm: string, clientId: string, set: string): Promise<'assigned' | 'unchanged'> {
    this.checker.assertRealm(realm);
    return this.lease.withAccountLease(realm, clientId, async () => this.sets.assign(context, await this.rows.get(context, realm, clientId), set));
  }

  /** A new client secret now; the previous one stays valid for `graceHours` (the account's policy by default). */
  async rotateSecret(context: OperationContext, realm: string, clientId: string, graceHours?: number): Promise<{ clientSecret: string; previousSecretValidUntil: string }> {
    this.checker.assertRealm(realm);
    let row: ServiceAccountEntity;
    try {
      row = await this.rows.get(context, realm, clientId);
      // The rotation answers the new secret: the same bound as reading it.
      this.checker.assertSecretWithinCaller(context, row);
    } catch (error) {
      await this.audit.record(context, { action: 'client_secret.rotated', outcome: 'failure', realm, clientId, detail: { code: reason(error) } });
      throw error;
    }
    // The rotation takes the account's lease itself (it is not reentrant) and reads the row again under it.
    return this.rotation.rotateNow(context, row, graceHours);
  }

  /** One recovery sweep (the `recovery` job's work): the number of rows found not final. */
  async recoverPending(): Promise<number> {
    return (await this.recovering.sweep()).found;
  }

  /**
   * The live row, after completing or undoing an unfinished create or delete of it (under the
   * lease). A row an interrupted update left `updating` is returned as it is: the change at hand
   * replaces that update (the reconcile writes it whatever it finds), so a spec that can no longer
   * be applied (a role deleted in Keycloak since) does not block the change that would drop it.
   */
  private async settledRow(realm: string, clientId: string, fence: Fence): Promise<ServiceAccountEntity | null> {
    const row = await this.rows.find(realm, clientId);
    // An orphaned account has nothing to finish: a change to it answers 409 ACCOUNT_ORPHANED.
    if (!row || row.state === 'ready' || row.state === 'orphaned' || row.state === 'updating') return row;
    await this.recovering.recover(systemContext('job', 'recovery'), row, fence);
    return this.rows.find(realm, clientId);
  }
}

/**
 * What the realm's client list (read before a GitOps apply) says of the name, as a create's
 * look-up: no client listed needs no look-up (one made since is refused by Keycloak's answer to
 * the create), and a listed one is looked up again under the lease (see ProvisionAccountUseCase).
 */
function listedOwnership(clients: ClientSummaries | undefined, clientId: string): Promise<ClientOwnership | undefined> | undefined {
  if (!clients) return undefined;
  const listed = clients.get(clientId);
  return Promise.resolve(listed ? { managed: listed.managed, accountId: undefined } : undefined);
}
