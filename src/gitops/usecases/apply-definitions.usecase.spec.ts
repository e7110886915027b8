import type { AuditRecord } from '../../audit/audit.service.js';
import type { AuditService } from '../../audit/audit.service.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AppConfig } from '../../config/app-config.js';
import type { ServiceAccountSpec } from '../../service-accounts/dto/service-account.schemas.js';
import type { ServiceAccountView } from '../../service-accounts/service-account.view.js';
import { definitionSchema, type Definition } from '../definitions/definition.schema.js';
import type { GitopsAccounts } from '../gitops-accounts.port.js';
import { renderApply, renderPlan } from '../render/gitops-renderer.js';
import { ApplyDefinitionsUseCase } from './apply-definitions.usecase.js';
import { PlanDefinitionsUseCase } from './plan-definitions.usecase.js';

/** An in-memory stand-in for the service-accounts feature: the Keycloak contract is covered by the e2e suites. */
class FakeAccounts implements GitopsAccounts {
  readonly rows = new Map<string, ServiceAccountView & { spec: ServiceAccountSpec }>();
  readonly failOn = new Set<string>();
  readonly removed: string[] = [];
  readonly sources: (string | null)[] = [];

  seed(clientId: string, managedBy: 'api' | 'gitops', spec: Partial<ServiceAccountSpec> = {}) {
    const full = definitionSchema.parse({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: clientId, realm: 'platform', owner: spec.owner ?? 'team-a' }, spec: {} }).spec;
    this.store(clientId, { ...full, owner: 'team-a', ...spec }, managedBy);
  }

  private store(clientId: string, spec: ServiceAccountSpec, managedBy: 'api' | 'gitops') {
    this.rows.set(clientId, {
      realm: 'platform', clientId, keycloakId: 'uuid', description: spec.description, owner: spec.owner, enabled: spec.enabled,
      realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, defaultScopes: spec.defaultScopes, optionalScopes: spec.optionalScopes,
      secretRotation: { ...spec.secretRotation, lastRotatedAt: null, nextRotationAt: null }, apiKeyPolicy: spec.apiKeyPolicy,
      managedBy, source: null, createdAt: '', updatedAt: '', spec,
    });
  }

  forbiddenGrants(spec: Pick<ServiceAccountSpec, 'realmRoles'>) {
    return spec.realmRoles.filter((role) => role === 'admin').map((role) => `realm:${role}`);
  }

  async plan(_realm: string, clientId: string, spec: ServiceAccountSpec) {
    const row = this.rows.get(clientId);
    const forbidden = this.forbiddenGrants(spec);
    const violations = forbidden.map((grant) => ({ grant, path: [grant], reason: 'denied' as const, message: `${grant} is forbidden by the guard-rail policy` }));
    if (!row) return { action: 'create' as const, changes: [], forbidden, violations };
    const add = spec.realmRoles.filter((r) => !row.spec.realmRoles.includes(r)).map((value) => ({ field: 'realmRoles', action: 'add' as const, value }));
    const remove = row.spec.realmRoles.filter((r) => !spec.realmRoles.includes(r)).map((value) => ({ field: 'realmRoles', action: 'remove' as const, value }));
    const changes = [...add, ...remove];
    return { action: changes.length ? ('update' as const) : ('noop' as const), changes, forbidden, violations };
  }

  async upsert(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, options: { managedBy?: 'api' | 'gitops'; source?: string | null }) {
    this.sources.push(options.source ?? null);
    if (this.failOn.has(clientId)) throw new DomainError(ErrorCode.UnknownRole, `Unknown in realm ${realm}: realm role nope.`);
    if (this.forbiddenGrants(spec).length) throw new DomainError(ErrorCode.GrantForbidden, 'forbidden');
    const { changes } = await this.plan(realm, clientId, spec);
    const created = !this.rows.has(clientId);
    this.store(clientId, spec, options.managedBy ?? 'api');
    return { created, account: this.rows.get(clientId)!, changes: created ? [] : changes, ...(created ? { clientSecret: 'very-secret-value' } : {}) };
  }

  async remove(_context: OperationContext, _realm: string, clientId: string) {
    this.removed.push(clientId);
    this.rows.delete(clientId);
  }

  async listAll(realm: string) {
    return [...this.rows.values()].filter((row) => row.realm === realm);
  }
}

const def = (name: string, realmRoles: string[] = ['orders-reader'], owner = 'team-a'): { definition: Definition } => ({
  definition: definitionSchema.parse({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name, realm: 'platform', owner }, spec: { realmRoles } }),
});

describe('GitOps plan and apply use cases', () => {
  const config = { isManagedRealm: (realm: string) => realm === 'platform', gitops: { maxDeletions: 10 } } as unknown as AppConfig;
  const context: OperationContext = { actor: { type: 'cli', id: 'ci' }, requestId: null, owner: null, source: null, callerScopes: null };
  let accounts: FakeAccounts;
  let audits: AuditRecord[];
  let planner: PlanDefinitionsUseCase;
  let applier: ApplyDefinitionsUseCase;

  beforeEach(() => {
    accounts = new FakeAccounts();
    audits = [];
    const audit = { record: async (_: OperationContext, record: AuditRecord) => void audits.push(record) } as unknown as AuditService;
    planner = new PlanDefinitionsUseCase(accounts, config);
    applier = new ApplyDefinitionsUseCase(accounts, planner, audit, config);
  });

  it('plans creates field by field, updates by name, deletions only with prune, and flags forbidden grants', async () => {
    accounts.seed('kept-same', 'gitops', { realmRoles: ['orders-reader'] });
    accounts.seed('changed-one', 'gitops', { realmRoles: ['orders-reader'] });
    accounts.seed('orphan-gitops', 'gitops');
    accounts.seed('made-by-api', 'api');
    const desired = [def('kept-same'), def('changed-one', ['orders-writer']), def('brand-new'), def('too-powerful', ['admin'])];

    const plan = await planner.execute(desired, { prune: true });
    const byName = Object.fromEntries(plan.accounts.map((a) => [a.clientId, a]));
    expect(Object.keys(byName).sort()).toEqual(['brand-new', 'changed-one', 'kept-same', 'orphan-gitops', 'too-powerful']);
    expect(byName['kept-same'].action).toBe('noop');
    expect(byName['changed-one'].changes).toEqual([
      { field: 'realmRoles', action: 'add', value: 'orders-writer' },
      { field: 'realmRoles', action: 'remove', value: 'orders-reader' },
    ]);
    expect(byName['brand-new'].changes).toEqual(expect.arrayContaining([{ field: 'realmRoles', action: 'add', value: 'orders-reader' }, { field: 'owner', action: 'set', from: null, to: 'team-a' }]));
    expect(byName['orphan-gitops'].action).toBe('delete');
    expect(byName['too-powerful'].forbidden).toEqual(['realm:admin']);
    expect(plan.summary).toEqual({ create: 2, update: 1, delete: 1, noop: 1, forbidden: 1, errors: 0 });
    expect(renderPlan(plan).join('\n')).toContain('✗ forbidden by the guard-rail policy: realm:admin');

    const withoutPrune = await planner.execute(desired, { prune: false });
    expect(withoutPrune.accounts.map((a) => a.clientId)).not.toContain('orphan-gitops');
    expect(withoutPrune.notPruned).toEqual([{ realm: 'platform', clientId: 'orphan-gitops' }]);
  });

  it('reports a realm Keysmith does not manage as an error of that account', async () => {
    const other = { definition: { ...def('elsewhere').definition, metadata: { ...def('elsewhere').definition.metadata, realm: 'other' } } };
    accounts.plan = async () => {
      throw new DomainError(ErrorCode.RealmNotManaged, 'Realm other is not managed by Keysmith.');
    };
    const plan = await planner.execute([other], { prune: true });
    expect(plan.accounts).toEqual([expect.objectContaining({ clientId: 'elsewhere', action: 'error', error: { code: 'REALM_NOT_MANAGED', detail: expect.any(String) } })]);
  });

  it('applies every account, lists failures without hiding the others, and never returns a secret', async () => {
    accounts.seed('changed-one', 'gitops', { realmRoles: ['orders-reader'] });
    accounts.failOn.add('broken-one');
    const summary = await applier.execute(context, [def('changed-one', ['orders-writer']), def('broken-one'), def('brand-new')], { prune: false, source: 'abc123' });

    expect(summary.ok).toBe(false);
    expect(summary.applied.map((a) => [a.clientId, a.action])).toEqual([['brand-new', 'created'], ['changed-one', 'updated']]);
    expect(summary.applied[0].secret).toBe('GET /v1/realms/platform/service-accounts/brand-new/secret');
    expect(summary.failed).toEqual([{ realm: 'platform', clientId: 'broken-one', action: 'create', code: 'UNKNOWN_ROLE', detail: expect.stringContaining('nope') }]);
    expect(JSON.stringify(summary)).not.toContain('very-secret-value');
    expect(renderApply(summary).join('\n')).not.toContain('very-secret-value');
    expect(accounts.sources).toEqual(['abc123', 'abc123', 'abc123']);
    expect(accounts.rows.get('brand-new')!.managedBy).toBe('gitops');
    expect(audits).toEqual([expect.objectContaining({ action: 'gitops.applied', outcome: 'failure' })]);
  });

  it('prunes only GitOps-managed accounts, only with prune, and refuses to exceed the deletion cap', async () => {
    for (const name of ['orphan-one', 'orphan-two', 'orphan-three']) accounts.seed(name, 'gitops');
    accounts.seed('made-by-api', 'api');

    await applier.execute(context, [def('kept-one')], { prune: false });
    expect(accounts.removed).toEqual([]);

    const refused = await applier.execute(context, [def('kept-one')], { prune: true, maxDeletions: 2 });
    expect(refused.ok).toBe(false);
    expect(refused.refused).toEqual({ reason: expect.stringContaining('3 deletions exceed the limit of 2'), deletions: 3, maxDeletions: 2 });
    expect(accounts.removed).toEqual([]);

    const forced = await applier.execute(context, [def('kept-one')], { prune: true, maxDeletions: 2, forceDeletions: true });
    expect(forced.ok).toBe(true);
    expect(accounts.removed.sort()).toEqual(['orphan-one', 'orphan-three', 'orphan-two']);
    expect(accounts.rows.has('made-by-api')).toBe(true);
  });

  it('confines an owner-bound caller to its own accounts', async () => {
    accounts.seed('other-team', 'gitops', { owner: 'team-b' });
    const plan = await planner.execute([def('mine', ['orders-reader'], 'team-a'), def('theirs', ['orders-reader'], 'team-b')], { prune: true, owner: 'team-a' });
    expect(plan.accounts.map((a) => [a.clientId, a.action])).toEqual([['mine', 'create'], ['theirs', 'error']]);
  });
});
