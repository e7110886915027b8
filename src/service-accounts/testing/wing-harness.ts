import { DataSource, In } from 'typeorm';
import type { AuditRecord, AuditService } from '../../audit/index.js';
import { systemContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { setFaultPoints } from '../../common/faults/fault-points.js';
import type { InstanceId } from '../../common/leases/instance-id.js';
import { LeaseStore } from '../../common/leases/lease.store.js';
import { LeaseLostError, Leases, type Fence } from '../../common/leases/leases.js';
import { Clock } from '../../common/time/clock.js';
import type { AppConfig } from '../../config/app-config.js';
import { loadMigrations } from '../../database/migrations.loader.js';
import { diffGrants, type GrantDiff, type Grants } from '../../keycloak/index.js';
import type { KeycloakClientsGateway, ManagedClientSpec, ManagedClientState, ManagedClientSummary, RealmCatalog } from '../../keycloak/index.js';
import { SecretVault } from '../../secrets/index.js';
import { Random } from '../../common/random/random.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import { ServiceAccountEntity } from '../entities/service-account.entity.js';
import type { GrantValidator } from '../policy/grant-validator.js';
import { AccountLease } from '../lease/account-lease.js';
import type { ServiceAccountEvent, ServiceAccountEvents } from '../service-account.events.js';
import { AccountRows } from '../services/account-rows.js';
import { SpecChecker } from '../services/spec-checker.js';
import type { AccountKeys } from '../ports/account-keys.port.js';
import { DeleteAccountUseCase } from '../usecases/delete-account.usecase.js';
import { ProvisionAccountUseCase } from '../usecases/provision-account.usecase.js';
import { ReconcileAccountUseCase } from '../usecases/reconcile-account.usecase.js';
import { RecoverAccountUseCase } from '../usecases/recover-account.usecase.js';
import type { ObserveAccountUseCase } from '../usecases/follow-keycloak/observe-account.usecase.js';
import { ServiceAccountsService } from '../services/service-accounts.service.js';

/** Unit-test support for the service-accounts use cases: a fake of the Keycloak gateway, a manual clock, a scripted fence. */
export class ManualClock extends Clock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {
    super();
  }
  override now(): Date {
    return new Date(this.ms);
  }
}

interface FakeClient {
  id: string;
  spec: ManagedClientSpec | null;
  attributes: Record<string, string>;
  grants: Grants;
}

const CATALOG: RealmCatalog = {
  realmRoles: new Map(['orders-reader', 'orders-writer', 'admin'].map((name) => [name, { id: `role-${name}`, name }])),
  clients: new Map([['billing', { id: 'billing-uuid', roles: new Map([['invoice-read', { id: 'r1', name: 'invoice-read' }]]) }]]),
  clientScopes: new Map(['basic', 'roles', 'profile', 'email'].map((name) => [name, { id: `scope-${name}`, name }])),
};

/**
 * The gateway port by name, in memory: clients keyed by clientId. `failOn` names gateway operations
 * that fail (as an unreachable Keycloak does); `calls` records each write.
 */
export class FakeKeycloak {
  readonly clients = new Map<string, FakeClient>();
  readonly failOn = new Set<string>();
  readonly calls: string[] = [];
  /** Each read of Keycloak state: `list clients` or `read <clientId>` (a detail read). */
  readonly reads: string[] = [];
  private next = 1;

  private maybeFail(operation: string): void {
    if (this.failOn.has(operation)) throw new DomainError(ErrorCode.KeycloakUnavailable, `Keycloak is unavailable (${operation}).`);
  }

  /** A client Keysmith did not make (or a half-made one, with `accountId`). */
  seedClient(clientId: string, attributes: Record<string, string> = {}): void {
    this.clients.set(clientId, { id: `kc-${this.next++}`, spec: null, attributes, grants: { realmRoles: [], clientRoles: {}, defaultScopes: [], optionalScopes: [] } });
  }

  async catalog(): Promise<RealmCatalog> {
    this.maybeFail('catalog');
    return CATALOG;
  }

  async ownership(_realm: string, clientId: string) {
    this.maybeFail('ownership');
    this.reads.push(`find ${clientId}`);
    const client = this.clients.get(clientId);
    return client ? { managed: client.attributes['keysmith.managed-by'] === 'keysmith', accountId: client.attributes['keysmith.account-id'] } : undefined;
  }

  async createManagedClient(_realm: string, spec: ManagedClientSpec): Promise<string> {
    this.maybeFail('createManagedClient');
    // As Keycloak answers 409 to a taken name (see KeycloakClientsGateway.createClient).
    if (this.clients.has(spec.clientId)) throw new DomainError(ErrorCode.ClientExists, `A client ${spec.clientId} was created in realm meanwhile; it is not adopted.`);
    this.calls.push(`create ${spec.clientId}`);
    const id = `kc-${this.next++}`;
    const attributes = { 'keysmith.managed-by': 'keysmith', 'keysmith.account-id': spec.accountId, 'keysmith.owner': spec.owner };
    this.clients.set(spec.clientId, { id, spec, attributes, grants: { realmRoles: [], clientRoles: {}, defaultScopes: spec.defaultScopes, optionalScopes: spec.optionalScopes } });
    return id;
  }

  /** The clients as Keycloak's client list shows them (no role mappings). */
  async clientSummaries(): Promise<Map<string, ManagedClientSummary>> {
    this.maybeFail('clientSummaries');
    this.reads.push('list clients');
    return new Map([...this.clients.keys()].map((clientId) => [clientId, this.summary(clientId)]));
  }

  async readManagedClient(_realm: string, clientId: string): Promise<ManagedClientState | undefined> {
    this.maybeFail('readManagedClient');
    this.reads.push(`read ${clientId}`);
    const client = this.clients.get(clientId);
    if (!client) return undefined;
    return { ...this.summary(clientId), handle: clientId, grants: structuredClone(client.grants) };
  }

  private summary(clientId: string): ManagedClientSummary {
    const client = this.clients.get(clientId)!;
    return {
      id: client.id,
      clientId,
      managed: client.attributes['keysmith.managed-by'] === 'keysmith',
      description: client.spec?.description ?? '',
      enabled: client.spec?.enabled ?? true,
      flagsDrifted: false,
      attributesDriftedFrom: (spec) => client.attributes['keysmith.owner'] !== spec.owner || client.attributes['keysmith.account-id'] !== spec.accountId,
      accessTokenLifespanSeconds: client.spec?.accessTokenLifespanSeconds ?? null,
      specHash: client.spec?.specHash,
      defaultScopes: [...client.grants.defaultScopes].sort(),
      optionalScopes: [...client.grants.optionalScopes].sort(),
    };
  }

  async applyClientSpec(_realm: string, current: ManagedClientState, spec: ManagedClientSpec): Promise<void> {
    this.maybeFail('applyClientSpec');
    this.calls.push(`update ${spec.clientId}`);
    const client = this.clients.get(current.handle as string)!;
    client.spec = spec;
    Object.assign(client.attributes, { 'keysmith.owner': spec.owner, 'keysmith.account-id': spec.accountId });
  }

  async setGrants(realm: string, clientId: string, grants: Grants): Promise<GrantDiff> {
    this.maybeFail('setGrants');
    const current = (await this.readManagedClient(realm, clientId))!;
    const diff = diffGrants(grants, current.grants);
    await this.applyGrantChanges(realm, current, diff);
    return diff;
  }

  async applyGrantChanges(_realm: string, current: ManagedClientState, diff: GrantDiff): Promise<void> {
    this.maybeFail('applyGrantChanges');
    this.calls.push(`grants ${current.handle as string}`);
    const client = this.clients.get(current.handle as string)!;
    const apply = (list: string[], d: { add: string[]; remove: string[] }) => [...list.filter((x) => !d.remove.includes(x)), ...d.add].sort();
    client.grants.realmRoles = apply(client.grants.realmRoles, diff.realmRoles);
    client.grants.defaultScopes = apply(client.grants.defaultScopes, diff.defaultScopes);
    client.grants.optionalScopes = apply(client.grants.optionalScopes, diff.optionalScopes);
    for (const [name, d] of Object.entries(diff.clientRoles)) client.grants.clientRoles[name] = apply(client.grants.clientRoles[name] ?? [], d);
  }

  async deleteAccountClient(_realm: string, account: { clientId: string; accountId: string; made: boolean }): Promise<boolean> {
    this.maybeFail('deleteAccountClient');
    const client = this.clients.get(account.clientId);
    if (!client) return false;
    const owner = client.attributes['keysmith.account-id'];
    const mine = owner === account.accountId || (account.made && owner === undefined && client.attributes['keysmith.managed-by'] === 'keysmith');
    if (!mine) return false;
    this.calls.push(`delete ${account.clientId}`);
    this.clients.delete(account.clientId);
    return true;
  }
}

/** A fence that records each step and, once `loseAt` is reached, behaves as a lost lease. */
export class ScriptedFence implements Fence {
  readonly name = 'account:platform/test';
  readonly token = 'lse_test';
  readonly steps: string[] = [];
  loseAt: string | null = null;
  /** Set once the body gave the lease up early (`release`). */
  released = false;
  private lost = false;

  async check(step?: string): Promise<void> {
    if (step === this.loseAt) this.lost = true;
    if (this.lost || this.released) throw new LeaseLostError(this.name, step);
    this.steps.push(step ?? '');
  }

  async release(): Promise<void> {
    this.released = true;
  }
}

export function spec(overrides: Partial<ServiceAccountSpec> = {}): ServiceAccountSpec {
  return {
    description: 'test account',
    owner: 'team-a',
    enabled: true,
    realmRoles: ['orders-reader'],
    clientRoles: {},
    defaultScopes: ['profile'],
    optionalScopes: [],
    secretRotation: { everyDays: 90, graceHours: 24 },
    apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 90, rateLimit: null, tokenExchange: false },
    ...overrides,
  };
}

/** The wing on an in-memory SQLite database (the real migrations), with the fake gateway. */
export async function wing() {
  setFaultPoints(undefined);
  const db = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [ServiceAccountEntity], migrations: await loadMigrations(), migrationsRun: true }).initialize();
  const clock = new ManualClock();
  const keycloak = new FakeKeycloak();
  const gateway = keycloak as unknown as KeycloakClientsGateway;
  const audits: AuditRecord[] = [];
  const events: ServiceAccountEvent[] = [];
  const audit = { record: async (_context: unknown, record: AuditRecord) => void audits.push(record) } as unknown as AuditService;
  const publisher = { publish: async (event: ServiceAccountEvent) => void events.push(event) } as unknown as ServiceAccountEvents;
  const config = {
    baseClientScopes: ['basic', 'roles'],
    masterKey: Buffer.alloc(32, 7),
    grantPolicy: { file: undefined, denyPatterns: [] },
    isManagedRealm: (realm: string) => realm === 'platform',
    accountLease: { ttlMs: 30_000, waitMs: 0 },
    tokenExchange: { accessTokenLifespanSeconds: 300 },
  } as unknown as AppConfig;
  const rows = new AccountRows(db.getRepository(ServiceAccountEntity));
  const vault = new SecretVault(config, new Random());
  const validator = { validate: async () => ({ violations: [] }) } as unknown as GrantValidator;
  const checker = new SpecChecker(gateway, validator, audit, config);
  const leaseStore = new LeaseStore(db, clock);
  const lease = new AccountLease(new Leases(leaseStore, clock, { value: 'instance-a' } as InstanceId), leaseStore, config);
  const provision = new ProvisionAccountUseCase(rows, gateway, audit, publisher, vault, clock, config, new Random());
  const reconcile = new ReconcileAccountUseCase(rows, gateway, audit, publisher, clock, config);
  /** Accounts whose keys the delete use case revoked (API keys' side of the AccountKeys port). */
  const keysRevoked: string[] = [];
  const keys = { revokeAllOf: async (_context: unknown, account: { realm: string; clientId: string }) => (keysRevoked.push(`${account.realm}/${account.clientId}`), 0) } as unknown as AccountKeys;
  const remove = new DeleteAccountUseCase(rows, gateway, audit, publisher, clock, keys);
  // The Keycloak observer's part in recovery: orphaning an account whose client is gone, as its state change.
  const observe = {
    orphanIfGone: async (_context: unknown, row: ServiceAccountEntity) =>
      (await rows.repository.update({ id: row.id, state: In(['ready', 'updating']) }, { state: 'orphaned' })).affected ? 'orphaned' : 'skipped',
  } as unknown as ObserveAccountUseCase;
  const recover = new RecoverAccountUseCase(rows, lease, gateway, checker, reconcile, remove, audit, observe);
  const context = systemContext('cli', 'unit-test');
  return { db, clock, keycloak, rows, vault, checker, lease, leaseStore, provision, reconcile, remove, recover, audits, events, keysRevoked, context, catalog: CATALOG };
}

export type Wing = Awaited<ReturnType<typeof wing>>;

/** Provisions `clientId` through the use case with a fence that never loses its lease. */
export async function provisioned(w: Wing, clientId: string, overrides: Partial<ServiceAccountSpec> = {}) {
  const result = await w.provision.execute({ context: w.context, realm: 'platform', clientId, spec: spec(overrides), catalog: w.catalog, options: {}, fence: new ScriptedFence() });
  return { result, row: (await w.rows.find('platform', clientId))! };
}

/**
 * The facade over a wing, with the Keycloak fake as its gateway; the collaborators the reading
 * tests never reach (grant validator, events, audit, credentials) are left out.
 */
export function wingService(w: Wing): ServiceAccountsService {
  const unused = undefined as never;
  return new ServiceAccountsService(w.rows, w.lease, w.checker, unused, w.provision, w.reconcile, w.remove, w.recover, unused, w.keycloak as unknown as KeycloakClientsGateway, unused, unused);
}
