import { createHash, randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Like, MoreThan, Not, Repository, type FindOptionsWhere } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { systemContext, type OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { decodeCursor, toPage, type Page } from '../../common/http/pagination.js';
import { sortableId } from '../../common/ids/ids.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import {
  ACCOUNT_ID_ATTRIBUTE,
  KeycloakClientsGateway,
  MANAGED_BY_ATTRIBUTE,
  MANAGED_BY_VALUE,
  OWNER_ATTRIBUTE,
  SPEC_HASH_ATTRIBUTE,
  type ClientRepresentation,
  type ClientState,
  type RealmCatalog,
} from '../../keycloak/keycloak-clients.gateway.js';
import type { CreateServiceAccountInput, PatchServiceAccountInput, ServiceAccountSpec } from '../dto/service-account.schemas.js';
import { ServiceAccountEntity, type ManagedBy } from '../entities/service-account.entity.js';
import { GrantValidator, describeViolations, type GrantViolation } from '../policy/grant-validator.js';
import { SecretVault } from '../../secrets/secret-vault.js';
import { SecretRotationService } from './secret-rotation.service.js';
import { ServiceAccountEvents } from '../service-account.events.js';
import { setTransition, type SetRequest } from '../gitops-set.js';
import { toServiceAccountView, type ServiceAccountView } from '../service-account.view.js';
import { describeFieldChanges, describeGrantDiff, diffGrants, type Change, type GrantDiff, type Grants } from './grant-diff.js';

export interface ApplyOptions {
  managedBy?: ManagedBy;
  /** Where the change came from, such as a GitOps commit sha; stamped on the account. */
  source?: string | null;
  /** GitOps applies: the set the account belongs to afterwards, enforced under the account's lock. */
  set?: SetRequest;
}

export interface UpsertResult {
  created: boolean;
  account: ServiceAccountView;
  changes: Change[];
  /** Only when created: the client secret, shown this once. */
  clientSecret?: string;
}

export interface PlanResult {
  action: 'create' | 'update' | 'noop';
  changes: Change[];
  /** Grants the guard-rail policy forbids. */
  forbidden: string[];
  /** Why, with the path from each grant to what makes it forbidden. */
  violations: GrantViolation[];
}

type Grantable = Pick<ServiceAccountSpec, 'realmRoles' | 'clientRoles' | 'defaultScopes' | 'optionalScopes'>;
type CallerScopes = Pick<OperationContext, 'callerScopes'>;

export interface ListFilter {
  owner?: string;
  clientIdPrefix?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Provisions and maintains Keycloak service-account clients. Keycloak is the source of truth for
 * grants; each account's row keeps the desired spec, Keysmith-only policies and a state that lets
 * an interrupted change be completed or undone (`recoverPending`).
 */
@Injectable()
export class ServiceAccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ServiceAccountsService.name);
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly audit: AuditService,
    private readonly events: ServiceAccountEvents,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly vault: SecretVault,
    private readonly rotation: SecretRotationService,
    private readonly validator: GrantValidator,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Finish what a crash or an outage interrupted; never block the start on Keycloak.
    void this.recoverPending().catch((error) => this.logger.warn(`recovery of unfinished changes deferred: ${(error as Error).message}`));
  }

  /**
   * The guard-rail violations of the grants `spec` adds to `held` (all of them without `held`),
   * judged by what they really give. Grants an account already holds are not judged again here:
   * the drift job and the start-up check report those.
   */
  async grantViolations(context: CallerScopes, realm: string, spec: Grantable, held?: Grantable): Promise<GrantViolation[]> {
    const base = new Set(this.config.baseClientScopes);
    const heldScopes = new Set([...(held?.defaultScopes ?? []), ...(held?.optionalScopes ?? [])]);
    const request = {
      realmRoles: spec.realmRoles.filter((role) => !held?.realmRoles.includes(role)),
      clientRoles: Object.fromEntries(
        Object.entries(spec.clientRoles)
          .map(([client, roles]) => [client, roles.filter((role) => !held?.clientRoles[client]?.includes(role))] as const)
          .filter(([, roles]) => roles.length > 0),
      ),
      scopes: [...new Set([...spec.defaultScopes, ...spec.optionalScopes])].filter((scope) => !base.has(scope) && !heldScopes.has(scope)),
    };
    if (request.realmRoles.length === 0 && Object.keys(request.clientRoles).length === 0 && request.scopes.length === 0) return [];
    return (await this.validator.validate(context, realm, request)).violations;
  }

  async create(context: OperationContext, realm: string, input: CreateServiceAccountInput, options: ApplyOptions = {}): Promise<UpsertResult> {
    const { clientId, ...spec } = input;
    const catalog = await this.checkSpec(context, realm, clientId, spec);
    return this.withLock(realm, clientId, async () => {
      if (await this.findSettledRow(realm, clientId)) {
        throw new DomainError(ErrorCode.ClientExists, `Service account ${clientId} already exists in realm ${realm}.`, { clientId });
      }
      return this.provision(context, realm, clientId, spec, catalog, options);
    });
  }

  /** Declarative upsert: afterwards Keycloak matches `spec` exactly. */
  async upsert(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, options: ApplyOptions = {}): Promise<UpsertResult> {
    const catalog = await this.checkSpec(context, realm, clientId, spec, await this.heldGrants(context, realm, clientId));
    return this.withLock(realm, clientId, async () => {
      const row = await this.findSettledRow(realm, clientId);
      if (!row) return this.provision(context, realm, clientId, spec, catalog, options);
      this.assertVisible(context, row);
      if (options.set) await this.claimSet(context, row, options.set);
      return this.reconcile(context, row, spec, catalog, options);
    });
  }

  async patch(context: OperationContext, realm: string, clientId: string, patch: PatchServiceAccountInput): Promise<UpsertResult> {
    this.assertRealm(realm);
    const row = await this.getRow(context, realm, clientId);
    const current = specOf(row);
    const apply = (list: string[], change?: { add: string[]; remove: string[] }) =>
      change ? [...new Set([...list.filter((x) => !change.remove.includes(x)), ...change.add])] : list;
    const clientRoles = { ...current.clientRoles };
    for (const [client, roles] of Object.entries(patch.clientRoles?.add ?? {})) clientRoles[client] = apply(clientRoles[client] ?? [], { add: roles, remove: [] });
    for (const [client, roles] of Object.entries(patch.clientRoles?.remove ?? {})) {
      clientRoles[client] = apply(clientRoles[client] ?? [], { add: [], remove: roles });
      if (clientRoles[client].length === 0) delete clientRoles[client];
    }
    const apiKeyPolicy = { ...current.apiKeyPolicy, ...(patch.apiKeyPolicy ?? {}) };
    if (apiKeyPolicy.defaultTtlDays > apiKeyPolicy.maxTtlDays) {
      throw DomainError.validation([{ field: 'apiKeyPolicy.defaultTtlDays', message: 'must not exceed maxTtlDays' }]);
    }
    const spec: ServiceAccountSpec = {
      description: patch.description ?? current.description,
      owner: patch.owner ?? current.owner,
      enabled: patch.enabled ?? current.enabled,
      realmRoles: apply(current.realmRoles, patch.realmRoles),
      clientRoles,
      defaultScopes: apply(current.defaultScopes, patch.defaultScopes),
      optionalScopes: apply(current.optionalScopes, patch.optionalScopes),
      secretRotation: { ...current.secretRotation, ...(patch.secretRotation ?? {}) },
      apiKeyPolicy,
    };
    return this.upsert(context, realm, clientId, spec, { managedBy: row.managedBy, source: context.source ?? row.source });
  }

  /**
   * What `upsert` would change, without writing anything, with the guard-rail violations of the
   * grants it would add (judged for `context`'s caller; operators by default).
   */
  async plan(realm: string, clientId: string, spec: ServiceAccountSpec, context: CallerScopes = { callerScopes: null }): Promise<PlanResult> {
    this.assertRealm(realm);
    const row = await this.findRow(realm, clientId);
    if (!row) {
      const foreign = await this.keycloak.findClient(realm, clientId);
      if (foreign) {
        throw new DomainError(ErrorCode.ClientExists, `A client ${clientId} exists in realm ${realm} but Keysmith did not make it; it is never adopted.`, { clientId });
      }
      await this.resolveCatalog(realm, spec);
      const violations = await this.grantViolations(context, realm, spec);
      return { action: 'create', changes: [], forbidden: grantsOf(violations), violations };
    }
    const catalog = await this.resolveCatalog(realm, spec);
    const violations = await this.grantViolations(context, realm, spec, specOf(row));
    const { changes } = await this.computeChanges(row, spec, catalog);
    return { action: changes.length ? 'update' : 'noop', changes, forbidden: grantsOf(violations), violations };
  }

  /**
   * How Keycloak differs from the account's last applied spec (changes made by hand), by name.
   * Empty when there is no drift.
   */
  async detectDrift(realm: string, clientId: string): Promise<Change[]> {
    const row = await this.findRow(realm, clientId);
    if (!row || row.state !== 'ready') return [];
    const spec = specOf(row);
    const catalog = await this.resolveCatalog(realm, spec);
    return (await this.computeChanges(row, spec, catalog)).changes;
  }

  /** Puts Keycloak back to the account's last applied spec. */
  async repairDrift(context: OperationContext, realm: string, clientId: string): Promise<Change[]> {
    const row = await this.findRow(realm, clientId);
    if (!row || row.state !== 'ready') return [];
    return (await this.upsert(context, realm, clientId, specOf(row), { managedBy: row.managedBy, source: row.source })).changes;
  }

  /** Deletes the account; with `onlyInSet` (GitOps prune) only while it still belongs to that set. */
  async remove(context: OperationContext, realm: string, clientId: string, options: { onlyInSet?: string } = {}): Promise<void> {
    this.assertRealm(realm);
    await this.withLock(realm, clientId, async () => {
      const row = await this.getRow(context, realm, clientId, { includePending: true });
      const guard = options.onlyInSet === undefined ? {} : { managedBy: 'gitops' as const, gitopsSet: options.onlyInSet };
      const marked = await this.accounts.update({ id: row.id, ...guard }, { state: 'deleting', updatedAt: this.clock.now() });
      if (options.onlyInSet !== undefined && !marked.affected) {
        throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} no longer belongs to the GitOps set ${options.onlyInSet}; it was not deleted.`, { clientId });
      }
      try {
        await this.finishDeletion(context, row);
      } catch (error) {
        await this.audit.record(context, { action: 'service_account.deleted', outcome: 'failure', realm, clientId, detail: { reason: reason(error) } });
        throw error;
      }
    });
  }

  async get(context: OperationContext, realm: string, clientId: string): Promise<ServiceAccountView> {
    this.assertRealm(realm);
    return toServiceAccountView(await this.getRow(context, realm, clientId));
  }

  /** A live (not deleted, fully provisioned) account, with no owner check: for other features. */
  async findLive(realm: string, clientId: string): Promise<ServiceAccountView | null> {
    const row = await this.accounts.findOne({ where: { realm, clientId, deletedAt: IsNull(), state: Not('provisioning') } });
    return row ? toServiceAccountView(row) : null;
  }

  async list(context: OperationContext, realm: string, filter: ListFilter, limit: number, cursor?: string): Promise<Page<ServiceAccountView>> {
    this.assertRealm(realm);
    const after = decodeCursor(cursor);
    const where: FindOptionsWhere<ServiceAccountEntity> = { realm, deletedAt: IsNull(), state: Not('provisioning') };
    if (context.owner) where.owner = context.owner;
    if (filter.owner) {
      if (context.owner && filter.owner !== context.owner) return { items: [], nextCursor: null };
      where.owner = filter.owner;
    }
    if (filter.clientIdPrefix) where.clientId = Like(`${filter.clientIdPrefix.replace(/[%_\\]/g, '\\$&')}%`);
    if (after) where.id = MoreThan(after);
    const rows = await this.accounts.find({ where, order: { id: 'ASC' }, take: limit + 1 });
    return toPage(rows, limit, (row) => row.id, toServiceAccountView);
  }

  /** Every live account of a realm (GitOps export, plan with prune, drift). */
  async listAll(realm: string): Promise<ServiceAccountView[]> {
    const rows = await this.accounts.find({ where: { realm, deletedAt: IsNull(), state: Not('provisioning') }, order: { clientId: 'ASC' } });
    return rows.map(toServiceAccountView);
  }

  /**
   * Assigns a GitOps account that has no set to `set` (the explicit step for accounts GitOps made
   * before sets existed). An account already in `set` is left as it is; one of another set, or one
   * made through the API, is refused: moving between sets is done by an apply with --adopt-from-set.
   */
  async assignSet(context: OperationContext, realm: string, clientId: string, set: string): Promise<'assigned' | 'unchanged'> {
    this.assertRealm(realm);
    return this.withLock(realm, clientId, async () => {
      const row = await this.getRow(context, realm, clientId);
      if (row.gitopsSet === set && row.managedBy === 'gitops') return 'unchanged';
      if (row.managedBy !== 'gitops') {
        throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} was made through the API, not by GitOps; an apply that names it adopts it into its set.`, { clientId });
      }
      if (row.gitopsSet !== null) {
        throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} belongs to the GitOps set ${row.gitopsSet}; move it with apply --set ${set} --adopt-from-set ${row.gitopsSet}.`, { clientId, set: row.gitopsSet });
      }
      const result = await this.accounts.update({ id: row.id, managedBy: 'gitops', gitopsSet: IsNull() }, { gitopsSet: set });
      if (!result.affected) throw new DomainError(ErrorCode.SetConflict, `Service account ${realm}/${clientId} changed sets meanwhile; list it again.`, { clientId });
      await this.audit.record(context, { action: 'service_account.set_assigned', realm, clientId, target: row.keycloakId, detail: { from: null, to: set } });
      return 'assigned';
    });
  }

  /** The current client secret, from Keysmith's encrypted store (Keycloak when none is stored). Audited. */
  async readSecret(context: OperationContext, realm: string, clientId: string): Promise<{ clientSecret: string; rotatedAt: string | null }> {
    this.assertRealm(realm);
    const row = await this.auditedRefusal(context, 'client_secret.read', realm, clientId, () => this.getRow(context, realm, clientId));
    const clientSecret = row.secretCiphertext
      ? this.vault.decrypt(row.secretCiphertext, row.id)
      : await this.keycloak.getClientSecret(realm, row.keycloakId!);
    await this.audit.record(context, { action: 'client_secret.read', realm, clientId });
    return { clientSecret, rotatedAt: row.lastRotatedAt?.toISOString() ?? null };
  }

  /** A new client secret now; the previous one stays valid for `graceHours` (the account's policy by default). */
  async rotateSecret(context: OperationContext, realm: string, clientId: string, graceHours?: number): Promise<{ clientSecret: string; previousSecretValidUntil: string }> {
    this.assertRealm(realm);
    return this.withLock(realm, clientId, async () => {
      const row = await this.auditedRefusal(context, 'client_secret.rotated', realm, clientId, () => this.getRow(context, realm, clientId));
      return this.rotation.rotateNow(context, row, graceHours);
    });
  }

  /**
   * Completes or undoes every change a crash or an outage interrupted: half-made clients are
   * removed, interrupted updates re-applied, interrupted deletions finished.
   */
  async recoverPending(): Promise<number> {
    const rows = await this.accounts.find({ where: { state: In(['provisioning', 'updating', 'deleting']) } });
    for (const row of rows) {
      await this.withLock(row.realm, row.clientId, () => this.recoverRow(row));
    }
    return rows.length;
  }

  // ---------------------------------------------------------------------------------------------

  private async provision(
    context: OperationContext,
    realm: string,
    clientId: string,
    spec: ServiceAccountSpec,
    catalog: RealmCatalog,
    options: ApplyOptions,
  ): Promise<UpsertResult> {
    const existing = await this.keycloak.findClient(realm, clientId);
    if (existing) {
      const ours = existing.attributes?.[MANAGED_BY_ATTRIBUTE] === MANAGED_BY_VALUE;
      throw new DomainError(
        ErrorCode.ClientExists,
        ours
          ? `A client ${clientId} made by Keysmith already exists in realm ${realm} without a matching record.`
          : `A client ${clientId} exists in realm ${realm} but Keysmith did not make it; it is never adopted or overwritten.`,
        { clientId },
      );
    }
    const now = this.clock.now();
    const row = this.accounts.create({
      id: sortableId('sa', now),
      realm,
      clientId,
      keycloakId: null,
      ...columnsOf(spec),
      lastRotatedAt: now,
      nextRotationAt: new Date(now.getTime() + spec.secretRotation.everyDays * DAY_MS),
      managedBy: options.managedBy ?? 'api',
      gitopsSet: options.set?.name ?? null,
      source: options.source ?? context.source ?? null,
      specHash: specHash(spec),
      state: 'provisioning',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    try {
      // updateEntity(false): every column is set here, so TypeORM need not read the row back.
      await this.accounts.createQueryBuilder().insert().values(row).updateEntity(false).execute();
    } catch (error) {
      if (/UNIQUE|constraint/i.test((error as Error).message)) {
        throw new DomainError(ErrorCode.ClientExists, `Service account ${clientId} already exists in realm ${realm}.`, { clientId });
      }
      throw error;
    }

    const clientSecret = randomBytes(32).toString('base64url');
    try {
      // Until the row is `ready`, recovery finds the client by its account-id attribute.
      row.keycloakId = await this.keycloak.createClient(realm, this.clientRepresentation(row, spec, catalog, clientSecret));
      const state = await this.keycloak.readState(realm, { ...this.clientRepresentation(row, spec, catalog), id: row.keycloakId, clientId });
      await this.applyGrantDiff(realm, state, diffGrants(this.grantsOf(spec, catalog), state), catalog);
      row.state = 'ready';
      row.secretCiphertext = this.vault.encrypt(clientSecret, row.id);
      await this.accounts.update(row.id, { state: 'ready', keycloakId: row.keycloakId, secretCiphertext: row.secretCiphertext });
    } catch (error) {
      await this.undoProvisioning(row);
      await this.audit.record(context, { action: 'service_account.created', outcome: 'failure', realm, clientId, detail: { reason: reason(error) } });
      throw error;
    }
    const account = toServiceAccountView(row);
    await this.audit.record(context, {
      action: 'service_account.created',
      realm,
      clientId,
      target: row.keycloakId,
      detail: { owner: spec.owner, realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, defaultScopes: spec.defaultScopes, optionalScopes: spec.optionalScopes },
    });
    await this.events.publish({ type: 'changed', account, context });
    return { created: true, account, changes: [{ field: 'clientId', action: 'set', from: null, to: clientId }], clientSecret };
  }

  /**
   * Takes an existing account into the set an apply asks for, or refuses with SET_CONFLICT. The
   * write is conditional on the set read under the lock, so two instances cannot both move it.
   */
  private async claimSet(context: OperationContext, row: ServiceAccountEntity, request: SetRequest): Promise<void> {
    const transition = setTransition(row, request);
    if (transition.kind === 'conflict') {
      throw new DomainError(ErrorCode.SetConflict, transition.detail, { clientId: row.clientId, set: transition.current });
    }
    if (transition.kind !== 'move') return;
    const result = await this.accounts.update(
      { id: row.id, managedBy: row.managedBy, gitopsSet: row.gitopsSet ?? IsNull() },
      { managedBy: 'gitops', gitopsSet: transition.to },
    );
    if (!result.affected) {
      throw new DomainError(ErrorCode.SetConflict, `Service account ${row.realm}/${row.clientId} changed sets while this apply ran; plan again.`, { clientId: row.clientId });
    }
    const adopted = row.managedBy !== 'gitops';
    row.managedBy = 'gitops';
    row.gitopsSet = transition.to;
    await this.audit.record(context, { action: 'service_account.set_changed', realm: row.realm, clientId: row.clientId, target: row.keycloakId, detail: { from: transition.from, to: transition.to, adopted } });
  }

  private async reconcile(
    context: OperationContext,
    row: ServiceAccountEntity,
    spec: ServiceAccountSpec,
    catalog: RealmCatalog,
    options: ApplyOptions,
  ): Promise<UpsertResult> {
    const { changes, state, grantDiff, clientUpdate } = await this.computeChanges(row, spec, catalog);
    const source = options.source ?? context.source ?? row.source;
    if (changes.length === 0) {
      if (source !== row.source || (options.managedBy && options.managedBy !== row.managedBy)) {
        await this.accounts.update(row.id, { source, managedBy: options.managedBy ?? row.managedBy });
      }
      const current = await this.accounts.findOneByOrFail({ id: row.id });
      return { created: false, account: toServiceAccountView(current), changes };
    }
    const now = this.clock.now();
    const rotationChanged = spec.secretRotation.everyDays !== row.rotationEveryDays;
    Object.assign(row, columnsOf(spec), {
      specHash: specHash(spec),
      source,
      managedBy: options.managedBy ?? row.managedBy,
      updatedAt: now,
      state: 'updating',
      ...(rotationChanged ? { nextRotationAt: new Date((row.lastRotatedAt ?? now).getTime() + spec.secretRotation.everyDays * DAY_MS) } : {}),
    });
    await this.accounts.save(row);
    try {
      if (clientUpdate) await this.keycloak.updateClient(row.realm, row.keycloakId!, clientUpdate);
      await this.applyGrantDiff(row.realm, state, grantDiff, catalog);
      await this.accounts.update(row.id, { state: 'ready' });
      row.state = 'ready';
    } catch (error) {
      // The row keeps the desired spec in state `updating`: the next call or start-up re-applies it.
      await this.audit.record(context, { action: 'service_account.updated', outcome: 'failure', realm: row.realm, clientId: row.clientId, detail: { reason: reason(error), changes } });
      throw error;
    }
    const account = toServiceAccountView(row);
    await this.audit.record(context, { action: 'service_account.updated', realm: row.realm, clientId: row.clientId, target: row.keycloakId, detail: { changes } });
    await this.events.publish({ type: 'changed', account, context });
    return { created: false, account, changes };
  }

  private async computeChanges(
    row: ServiceAccountEntity,
    spec: ServiceAccountSpec,
    catalog: RealmCatalog,
  ): Promise<{ changes: Change[]; state: ClientState; grantDiff: GrantDiff; clientUpdate: ClientRepresentation | null }> {
    const client = await this.keycloak.findClient(row.realm, row.clientId);
    if (!client || client.id !== row.keycloakId) {
      throw new DomainError(
        ErrorCode.Conflict,
        `The Keycloak client of ${row.clientId} is missing or was replaced outside Keysmith; delete the account and create it again.`,
        { clientId: row.clientId },
      );
    }
    const state = await this.keycloak.readState(row.realm, client);
    const grantDiff = diffGrants(this.grantsOf(spec, catalog), state);
    const wanted = this.clientRepresentation(row, spec, catalog);
    const clientFields = describeFieldChanges({
      description: [client.description ?? '', spec.description],
      enabled: [client.enabled, spec.enabled],
      owner: [row.owner, spec.owner],
    });
    const flowsDrifted = CLIENT_FLAGS.some(([key, value]) => (client as unknown as Record<string, unknown>)[key] !== value);
    const attributesDrifted = Object.entries(wanted.attributes ?? {}).some(
      ([key, value]) => key !== SPEC_HASH_ATTRIBUTE && client.attributes?.[key] !== value,
    );
    const policyChanges = describeFieldChanges({
      'secretRotation.everyDays': [row.rotationEveryDays, spec.secretRotation.everyDays],
      'secretRotation.graceHours': [row.rotationGraceHours, spec.secretRotation.graceHours],
      'apiKeyPolicy.defaultTtlDays': [row.keyDefaultTtlDays, spec.apiKeyPolicy.defaultTtlDays],
      'apiKeyPolicy.maxTtlDays': [row.keyMaxTtlDays, spec.apiKeyPolicy.maxTtlDays],
      'apiKeyPolicy.rateLimit': [row.keyRateLimit, spec.apiKeyPolicy.rateLimit],
    });
    const changes = [
      ...clientFields,
      ...(flowsDrifted ? [{ field: 'flows', action: 'set' as const, from: 'drifted', to: 'service-accounts only' }] : []),
      ...(attributesDrifted ? [{ field: 'keycloakAttributes', action: 'set' as const, from: 'drifted', to: 'Keysmith ownership attributes' }] : []),
      ...describeGrantDiff(grantDiff),
      ...policyChanges,
    ];
    // Any change also refreshes the spec hash stamped on the client.
    const clientUpdate = changes.length ? { ...client, ...wanted, attributes: { ...client.attributes, ...wanted.attributes } } : null;
    return { changes, state, grantDiff, clientUpdate };
  }

  private async applyGrantDiff(realm: string, state: ClientState, diff: GrantDiff, catalog: RealmCatalog): Promise<void> {
    const userId = state.serviceAccountUserId;
    const id = state.client.id;

    if (diff.defaultScopes.add.length || diff.defaultScopes.remove.length || diff.optionalScopes.add.length || diff.optionalScopes.remove.length) {
      const scopeId = (name: string) => catalog.clientScopes.get(name)?.id;
      // Removals first, so a scope moving between default and optional is free to be added.
      for (const name of diff.defaultScopes.remove) await this.keycloak.setClientScope(realm, id, scopeId(name)!, 'default', false);
      for (const name of diff.optionalScopes.remove) await this.keycloak.setClientScope(realm, id, scopeId(name)!, 'optional', false);
      for (const name of diff.defaultScopes.add) await this.keycloak.setClientScope(realm, id, scopeId(name)!, 'default', true);
      for (const name of diff.optionalScopes.add) await this.keycloak.setClientScope(realm, id, scopeId(name)!, 'optional', true);
    }
    if (diff.realmRoles.add.length) await this.keycloak.addUserRealmRoles(realm, userId, await this.realmRolesByName(realm, diff.realmRoles.add, catalog));
    if (diff.realmRoles.remove.length) await this.keycloak.removeUserRealmRoles(realm, userId, await this.realmRolesByName(realm, diff.realmRoles.remove, catalog));
    for (const [client, d] of Object.entries(diff.clientRoles)) {
      const roles = await this.clientRolesByName(realm, client, catalog);
      if (!roles) continue;
      const named = (names: string[]) => names.map((name) => roles.byName.get(name)).filter((role) => role !== undefined);
      if (d.add.length) await this.keycloak.addUserClientRoles(realm, userId, roles.clientUuid, named(d.add));
      if (d.remove.length) await this.keycloak.removeUserClientRoles(realm, userId, roles.clientUuid, named(d.remove));
    }
  }

  /**
   * Roles by name from the catalog read for the desired spec; roles being removed may not be in
   * it (they are no longer wanted), so the realm's full catalog is read for those.
   */
  private async realmRolesByName(realm: string, names: string[], catalog: RealmCatalog) {
    if (names.every((name) => catalog.realmRoles.has(name))) return names.map((name) => catalog.realmRoles.get(name)!);
    const full = await this.keycloak.catalog(realm, []);
    return names.map((name) => full.realmRoles.get(name)).filter((role) => role !== undefined);
  }

  /** A client's UUID and roles, from the catalog or, for a client no longer wanted, read anew; undefined when it is gone. */
  private async clientRolesByName(realm: string, client: string, catalog: RealmCatalog) {
    const entry = catalog.clients.get(client) ?? (await this.keycloak.catalog(realm, [client])).clients.get(client);
    return entry ? { clientUuid: entry.id, byName: entry.roles } : undefined;
  }

  private async finishDeletion(context: OperationContext, row: ServiceAccountEntity): Promise<void> {
    if (row.keycloakId) await this.keycloak.deleteClient(row.realm, row.keycloakId);
    const now = this.clock.now();
    await this.accounts.update(row.id, { state: 'deleted', deletedAt: now, updatedAt: now });
    const account = toServiceAccountView({ ...row, state: 'deleted', deletedAt: now, updatedAt: now });
    await this.audit.record(context, { action: 'service_account.deleted', realm: row.realm, clientId: row.clientId, target: row.keycloakId });
    await this.events.publish({ type: 'deleted', account, context });
  }

  private async undoProvisioning(row: ServiceAccountEntity): Promise<void> {
    try {
      const client = row.keycloakId ? { id: row.keycloakId } : await this.findOwnClient(row);
      if (client) await this.keycloak.deleteClient(row.realm, client.id);
      await this.accounts.delete(row.id);
    } catch (error) {
      // Keycloak is unreachable: the row stays in `provisioning` and recovery removes the client later.
      this.logger.warn(`could not undo the half-made client ${row.realm}/${row.clientId}; recovery will: ${reason(error)}`);
    }
  }

  private async findOwnClient(row: ServiceAccountEntity): Promise<{ id: string } | undefined> {
    const client = await this.keycloak.findClient(row.realm, row.clientId);
    return client && client.attributes?.[ACCOUNT_ID_ATTRIBUTE] === row.id ? client : undefined;
  }

  /** The live row, after completing or undoing an unfinished change to it (call under the lock). */
  private async findSettledRow(realm: string, clientId: string): Promise<ServiceAccountEntity | null> {
    const row = await this.findRow(realm, clientId);
    if (!row || row.state === 'ready') return row;
    await this.recoverRow(row);
    return this.findRow(realm, clientId);
  }

  private async recoverRow(row: ServiceAccountEntity): Promise<void> {
    const context = systemContext('job', 'recovery');
    if (row.state === 'provisioning') {
      const client = row.keycloakId ? { id: row.keycloakId } : await this.findOwnClient(row);
      if (client) await this.keycloak.deleteClient(row.realm, client.id);
      await this.accounts.delete(row.id);
      await this.audit.record(context, { action: 'service_account.create_undone', realm: row.realm, clientId: row.clientId, target: row.keycloakId });
    } else if (row.state === 'deleting') {
      await this.finishDeletion(context, row);
    } else if (row.state === 'updating') {
      const spec = specOf(row);
      const catalog = await this.resolveCatalog(row.realm, spec);
      await this.reconcileStored(context, row, spec, catalog);
    }
  }

  private async reconcileStored(context: OperationContext, row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog): Promise<void> {
    const { state, grantDiff, clientUpdate, changes } = await this.computeChanges(row, spec, catalog);
    if (clientUpdate) await this.keycloak.updateClient(row.realm, row.keycloakId!, clientUpdate);
    await this.applyGrantDiff(row.realm, state, grantDiff, catalog);
    await this.accounts.update(row.id, { state: 'ready' });
    await this.audit.record(context, { action: 'service_account.update_completed', realm: row.realm, clientId: row.clientId, detail: { changes } });
  }

  private clientRepresentation(row: ServiceAccountEntity, spec: ServiceAccountSpec, catalog: RealmCatalog, secret?: string): ClientRepresentation {
    return {
      clientId: row.clientId,
      name: row.clientId,
      description: spec.description,
      enabled: spec.enabled,
      protocol: 'openid-connect',
      ...Object.fromEntries(CLIENT_FLAGS),
      clientAuthenticatorType: 'client-secret',
      ...(secret ? { secret } : {}),
      attributes: {
        [MANAGED_BY_ATTRIBUTE]: MANAGED_BY_VALUE,
        [OWNER_ATTRIBUTE]: spec.owner,
        [SPEC_HASH_ATTRIBUTE]: specHash(spec),
        [ACCOUNT_ID_ATTRIBUTE]: row.id,
        'oauth2.device.authorization.grant.enabled': 'false',
        'oidc.ciba.grant.enabled': 'false',
      },
      defaultClientScopes: this.grantsOf(spec, catalog).defaultScopes,
      optionalClientScopes: spec.optionalScopes,
    };
  }

  private grantsOf(spec: ServiceAccountSpec, catalog: RealmCatalog): Grants {
    const base = this.config.baseClientScopes.filter((name) => catalog.clientScopes.has(name) && !spec.optionalScopes.includes(name));
    return {
      realmRoles: spec.realmRoles,
      clientRoles: Object.fromEntries(Object.entries(spec.clientRoles).filter(([, roles]) => roles.length > 0)),
      defaultScopes: [...new Set([...base, ...spec.defaultScopes])],
      optionalScopes: spec.optionalScopes,
    };
  }

  /** Checks that every role, client and scope exists; 422 naming each missing one. */
  private async resolveCatalog(realm: string, spec: Pick<ServiceAccountSpec, 'realmRoles' | 'clientRoles' | 'defaultScopes' | 'optionalScopes'>): Promise<RealmCatalog> {
    const catalog = await this.keycloak.catalog(realm, Object.keys(spec.clientRoles));
    const missingRealmRoles = spec.realmRoles.filter((role) => !catalog.realmRoles.has(role));
    const missingClientRoles: string[] = [];
    for (const [client, roles] of Object.entries(spec.clientRoles)) {
      const known = catalog.clients.get(client);
      if (!known) missingClientRoles.push(`${client} (no such client)`);
      else missingClientRoles.push(...roles.filter((role) => !known.roles.has(role)).map((role) => `${client}:${role}`));
    }
    const overlap = spec.defaultScopes.filter((scope) => spec.optionalScopes.includes(scope));
    if (overlap.length) {
      throw DomainError.validation(overlap.map((scope) => ({ field: 'optionalScopes', message: `${scope} is also a default scope` })));
    }
    const missingScopes = [...spec.defaultScopes, ...spec.optionalScopes].filter((scope) => !catalog.clientScopes.has(scope));
    if (missingRealmRoles.length || missingClientRoles.length) {
      throw new DomainError(
        ErrorCode.UnknownRole,
        `Unknown in realm ${realm}: ${[...missingRealmRoles.map((r) => `realm role ${r}`), ...missingClientRoles.map((r) => `client role ${r}`), ...missingScopes.map((s) => `client scope ${s}`)].join(', ')}.`,
        {
          missing: { realmRoles: missingRealmRoles, clientRoles: missingClientRoles, scopes: missingScopes },
          errors: [
            ...missingRealmRoles.map((role) => ({ field: 'realmRoles', message: `unknown realm role ${role}` })),
            ...missingClientRoles.map((role) => ({ field: 'clientRoles', message: `unknown client role ${role}` })),
            ...missingScopes.map((scope) => ({ field: 'scopes', message: `unknown client scope ${scope}` })),
          ],
        },
      );
    }
    if (missingScopes.length) {
      throw new DomainError(ErrorCode.UnknownScope, `Unknown client scopes in realm ${realm}: ${missingScopes.join(', ')}.`, {
        missing: { scopes: missingScopes },
        errors: missingScopes.map((scope) => ({
          field: spec.defaultScopes.includes(scope) ? 'defaultScopes' : 'optionalScopes',
          message: `unknown client scope ${scope}`,
        })),
      });
    }
    return catalog;
  }

  /** Every check that comes before a write: realm, owner boundary, references, guard rails. */
  private async checkSpec(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, held?: Grantable): Promise<RealmCatalog> {
    this.assertRealm(realm);
    this.assertOwnerAllowed(context, spec.owner);
    const catalog = await this.resolveCatalog(realm, spec);
    await this.assertGrantsAllowed(context, realm, clientId, spec, held);
    return catalog;
  }

  /** 403 GRANT_FORBIDDEN naming each grant and its path, audited; a Keycloak failure propagates (never a pass). */
  private async assertGrantsAllowed(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, held?: Grantable): Promise<void> {
    const violations = await this.grantViolations(context, realm, spec, held);
    if (violations.length === 0) return;
    const forbidden = grantsOf(violations);
    await this.audit.record(context, { action: 'service_account.grant_refused', outcome: 'failure', realm, clientId, detail: { owner: spec.owner, forbidden, violations } });
    throw new DomainError(ErrorCode.GrantForbidden, `The guard-rail policy forbids granting ${forbidden.join(', ')}: ${describeViolations(violations)}.`, {
      forbidden,
      violations,
    });
  }

  /** The grants an existing account visible to the caller holds: a change is judged by what it adds. */
  private async heldGrants(context: OperationContext, realm: string, clientId: string): Promise<Grantable | undefined> {
    if (!this.config.isManagedRealm(realm)) return undefined;
    const row = await this.findRow(realm, clientId);
    return row && row.state !== 'provisioning' && (!context.owner || row.owner === context.owner) ? specOf(row) : undefined;
  }

  private assertRealm(realm: string): void {
    if (!this.config.isManagedRealm(realm)) {
      throw new DomainError(ErrorCode.RealmNotManaged, `Realm ${realm} is not managed by Keysmith.`, { realm });
    }
  }

  private assertOwnerAllowed(context: OperationContext, owner: string): void {
    if (context.owner && context.owner !== owner) {
      throw new DomainError(ErrorCode.OwnerForbidden, `You may only manage service accounts owned by ${context.owner}.`, { owner: context.owner });
    }
  }

  private assertVisible(context: OperationContext, row: ServiceAccountEntity): void {
    if (context.owner && row.owner !== context.owner) throw notFound(row.realm, row.clientId);
  }

  private findRow(realm: string, clientId: string): Promise<ServiceAccountEntity | null> {
    return this.accounts.findOne({ where: { realm, clientId, deletedAt: IsNull() } });
  }

  private async getRow(context: OperationContext, realm: string, clientId: string, options: { includePending?: boolean } = {}): Promise<ServiceAccountEntity> {
    const row = await this.findRow(realm, clientId);
    if (!row || (!options.includePending && row.state === 'provisioning') || (context.owner && row.owner !== context.owner)) {
      throw notFound(realm, clientId);
    }
    return row;
  }

  /** A secret is asked for: a refusal (missing, or another owner's account) is audited too. */
  private async auditedRefusal<T>(context: OperationContext, action: string, realm: string, clientId: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      await this.audit.record(context, { action, outcome: 'failure', realm, clientId, detail: { code: reason(error) } });
      throw error;
    }
  }

  /** Serialises changes to one account within this process. */
  private async withLock<T>(realm: string, clientId: string, body: () => Promise<T>): Promise<T> {
    const key = `${realm}/${clientId}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(body);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }
}

const CLIENT_FLAGS: [string, boolean][] = [
  ['publicClient', false],
  ['bearerOnly', false],
  ['serviceAccountsEnabled', true],
  ['standardFlowEnabled', false],
  ['implicitFlowEnabled', false],
  ['directAccessGrantsEnabled', false],
  ['frontchannelLogout', false],
  // On: tokens carry exactly the service-account user's roles, which Keysmith sets to the grants
  // (it also removes the realm's default-roles composite). With it off, realm roles would reach
  // tokens only through realm-role scope mappings, which Keycloak lets only `manage-realm` write.
  ['fullScopeAllowed', true],
];

function notFound(realm: string, clientId: string): DomainError {
  return new DomainError(ErrorCode.ServiceAccountNotFound, `No service account ${clientId} in realm ${realm}.`, { clientId });
}

function grantsOf(violations: GrantViolation[]): string[] {
  return [...new Set(violations.map((v) => v.grant))];
}

function reason(error: unknown): string {
  return error instanceof DomainError ? error.code : (error as Error).name;
}

export function specOf(row: ServiceAccountEntity): ServiceAccountSpec {
  return {
    description: row.description,
    owner: row.owner,
    enabled: row.enabled,
    realmRoles: row.realmRoles,
    clientRoles: row.clientRoles,
    defaultScopes: row.defaultScopes,
    optionalScopes: row.optionalScopes,
    secretRotation: { everyDays: row.rotationEveryDays, graceHours: row.rotationGraceHours },
    apiKeyPolicy: { defaultTtlDays: row.keyDefaultTtlDays, maxTtlDays: row.keyMaxTtlDays, rateLimit: row.keyRateLimit },
  };
}

function columnsOf(spec: ServiceAccountSpec): Partial<ServiceAccountEntity> {
  return {
    description: spec.description,
    owner: spec.owner,
    enabled: spec.enabled,
    realmRoles: [...spec.realmRoles].sort(),
    clientRoles: spec.clientRoles,
    defaultScopes: [...spec.defaultScopes].sort(),
    optionalScopes: [...spec.optionalScopes].sort(),
    rotationEveryDays: spec.secretRotation.everyDays,
    rotationGraceHours: spec.secretRotation.graceHours,
    keyDefaultTtlDays: spec.apiKeyPolicy.defaultTtlDays,
    keyMaxTtlDays: spec.apiKeyPolicy.maxTtlDays,
    keyRateLimit: spec.apiKeyPolicy.rateLimit,
  };
}

/** A stable hash of a spec: sorted lists, sorted keys. */
export function specHash(spec: ServiceAccountSpec): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? [...value].map(canonical).sort()
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex');
}
