import type { AuditRecord } from '../../audit/index.js';
import type { AuditService } from '../../audit/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AppConfig } from '../../config/app-config.js';
import type { ServiceAccountSpec } from '../../service-accounts/index.js';
import { setTransition, type SetRequest } from '../../service-accounts/index.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { definitionSchema, type Definition } from '../definitions/definition.schema.js';
import type { GitopsAccounts } from '../ports/gitops-accounts.port.js';
import { renderApply, renderPlan } from '../render/gitops-renderer.js';
import { ApplyDefinitionsUseCase } from './apply-definitions.usecase.js';
import { PlanDefinitionsUseCase } from './plan-definitions.usecase.js';

/** An in-memory stand-in for the service-accounts feature: the Keycloak contract is covered by the e2e suites. */
class FakeAccounts implements GitopsAccounts {
  readonly rows = new Map<string, ServiceAccountView & { spec: ServiceAccountSpec }>();
  readonly failOn = new Set<string>();
  readonly removed: string[] = [];
  readonly sources: (string | null)[] = [];
  /** Called as each upsert starts, before it writes. */
  onUpsert: (clientId: string) => void = () => undefined;

  seed(clientId: string, managedBy: 'api' | 'gitops', spec: Partial<ServiceAccountSpec> = {}, gitopsSet: string | null = managedBy === 'gitops' ? 'apps' : null) {
    const full = definitionSchema.parse({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: clientId, realm: 'platform', owner: spec.owner ?? 'team-a' }, spec: {} }).spec;
    this.store(clientId, { ...full, owner: 'team-a', ...spec }, managedBy, gitopsSet);
  }

  private store(clientId: string, spec: ServiceAccountSpec, managedBy: 'api' | 'gitops', gitopsSet: string | null) {
    this.rows.set(clientId, {
      realm: 'platform', clientId, keycloakId: 'uuid', description: spec.description, owner: spec.owner, enabled: spec.enabled,
      realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, defaultScopes: spec.defaultScopes, optionalScopes: spec.optionalScopes,
      secretRotation: { ...spec.secretRotation, lastRotatedAt: null, nextRotationAt: null }, apiKeyPolicy: spec.apiKeyPolicy,
      managedBy, gitopsSet, source: null, createdAt: '', updatedAt: '', spec, state: 'active',
      keycloak: { checkedAt: null, enabled: spec.enabled, deleted: false, missingScopes: [], drift: [] },
      effective: { enabled: spec.enabled, scopes: [...spec.defaultScopes, ...spec.optionalScopes] },
    });
  }

  forbiddenGrants(spec: Pick<ServiceAccountSpec, 'realmRoles'>) {
    return spec.realmRoles.filter((role) => role === 'admin').map((role) => `realm:${role}`);
  }

  async plan(_realm: string, clientId: string, spec: ServiceAccountSpec) {
    const row = this.rows.get(clientId);
    const forbidden = this.forbiddenGrants(spec);
    const violations = forbidden.map((grant) => ({ grant, path: [grant], reason: 'denied' as const, message: `${grant} is forbidden by the guard-rail policy` }));
    if (!row) return { action: 'create' as const, changes: [], forbidden, violations, detailed: false };
    const add = spec.realmRoles.filter((r) => !row.spec.realmRoles.includes(r)).map((value) => ({ field: 'realmRoles', action: 'add' as const, value }));
    const remove = row.spec.realmRoles.filter((r) => !spec.realmRoles.includes(r)).map((value) => ({ field: 'realmRoles', action: 'remove' as const, value }));
    const changes = [...add, ...remove];
    return { action: changes.length ? ('update' as const) : ('noop' as const), changes, forbidden, violations, detailed: true };
  }

  async clientSummaries() {
    return new Map();
  }

  async upsert(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, options: { managedBy?: 'api' | 'gitops'; source?: string | null; set?: SetRequest }) {
    this.sources.push(options.source ?? null);
    this.onUpsert(clientId);
    if (this.failOn.has(clientId)) throw new DomainError(ErrorCode.UnknownRole, `Unknown in realm ${realm}: realm role nope.`);
    if (this.forbiddenGrants(spec).length) throw new DomainError(ErrorCode.GrantForbidden, 'forbidden');
    const { changes } = await this.plan(realm, clientId, spec);
    const row = this.rows.get(clientId);
    const created = !row;
    let gitopsSet = row ? row.gitopsSet : (options.set?.name ?? null);
    if (row && options.set) {
      const transition = setTransition(row, options.set);
      if (transition.kind === 'conflict') throw new DomainError(ErrorCode.SetConflict, transition.detail);
      if (transition.kind === 'move') gitopsSet = transition.to;
    }
    this.store(clientId, spec, options.managedBy ?? 'api', gitopsSet);
    return { created, account: this.rows.get(clientId)!, changes: created ? [] : changes, ...(created ? { clientSecret: 'very-secret-value' } : {}) };
  }

  async remove(_context: OperationContext, _realm: string, clientId: string, options: { onlyInSet?: string } = {}) {
    if (options.onlyInSet !== undefined && this.rows.get(clientId)?.gitopsSet !== options.onlyInSet) throw new DomainError(ErrorCode.SetConflict, 'moved');
    this.removed.push(clientId);
    this.rows.delete(clientId);
  }

  async assignSet(_context: OperationContext, _realm: string, clientId: string, set: string) {
    const row = this.rows.get(clientId)!;
    if (row.gitopsSet === set) return 'unchanged' as const;
    if (row.managedBy !== 'gitops' || row.gitopsSet !== null) throw new DomainError(ErrorCode.SetConflict, 'not unassigned');
    row.gitopsSet = set;
    return 'assigned' as const;
  }

  async listAll(realm: string) {
    return [...this.rows.values()].filter((row) => row.realm === realm);
  }
}

const def = (name: string, realmRoles: string[] = ['orders-reader'], owner = 'team-a'): { definition: Definition } => ({
  definition: definitionSchema.parse({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name, realm: 'platform', owner }, spec: { realmRoles } }),
});

describe('GitOps plan and apply use cases', () => {
  const config = { isManagedRealm: (realm: string) => realm === 'platform', gitops: { maxDeletions: 10 }, keycloak: { maxConcurrency: 4 } } as unknown as AppConfig;
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

    const plan = await planner.execute(desired, { prune: true, set: 'apps' });
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

    const withoutPrune = await planner.execute(desired, { prune: false, set: 'apps' });
    expect(withoutPrune.accounts.map((a) => a.clientId)).not.toContain('orphan-gitops');
    expect(withoutPrune.notPruned).toEqual([{ realm: 'platform', clientId: 'orphan-gitops' }]);
  });

  it('reports a realm Keysmith does not manage as an error of that account', async () => {
    const other = { definition: { ...def('elsewhere').definition, metadata: { ...def('elsewhere').definition.metadata, realm: 'other' } } };
    accounts.plan = async () => {
      throw new DomainError(ErrorCode.RealmNotManaged, 'Realm other is not managed by Keysmith.');
    };
    const plan = await planner.execute([other], { prune: true, set: 'apps' });
    expect(plan.accounts).toEqual([expect.objectContaining({ clientId: 'elsewhere', action: 'error', error: { code: 'REALM_NOT_MANAGED', detail: expect.any(String) } })]);
  });

  it('applies every account, lists failures without hiding the others, and never returns a secret', async () => {
    accounts.seed('changed-one', 'gitops', { realmRoles: ['orders-reader'] });
    accounts.failOn.add('broken-one');
    const summary = await applier.execute(context, [def('changed-one', ['orders-writer']), def('broken-one'), def('brand-new')], { prune: false, set: 'apps', source: 'abc123' });

    expect(summary.ok).toBe(false);
    expect(summary.applied.map((a) => [a.clientId, a.action])).toEqual([['brand-new', 'created'], ['changed-one', 'updated']]);
    expect(summary.applied[0].secret).toBe('GET /v1/realms/platform/service-accounts/brand-new/secret');
    expect(summary.failed).toEqual([{ realm: 'platform', clientId: 'broken-one', action: 'create', code: 'UNKNOWN_ROLE', detail: expect.stringContaining('nope') }]);
    expect(JSON.stringify(summary)).not.toContain('very-secret-value');
    expect(renderApply(summary).join('\n')).not.toContain('very-secret-value');
    expect(accounts.sources).toEqual(['abc123', 'abc123', 'abc123']);
    expect(accounts.rows.get('brand-new')!).toMatchObject({ managedBy: 'gitops', gitopsSet: 'apps' });
    expect(audits).toEqual([expect.objectContaining({ action: 'gitops.applied', outcome: 'failure' })]);
  });

  it('stops when asked: finishes the accounts under way, starts no other, deletes nothing more, and says what was not started', async () => {
    accounts.seed('orphan-one', 'gitops');
    const desired = Array.from({ length: 20 }, (_, i) => def(`account-${String(i).padStart(2, '0')}`));
    const controller = new AbortController();
    accounts.onUpsert = (clientId) => {
      if (clientId === 'account-00') controller.abort('SIGTERM received');
    };
    const summary = await applier.execute(context, desired, { prune: true, set: 'apps', signal: controller.signal });

    expect(summary.ok).toBe(false);
    expect(summary.stopped?.reason).toBe('SIGTERM received');
    const notStarted = summary.stopped!.notStarted.map((a) => a.clientId);
    // The accounts already under way (up to twice KEYCLOAK_MAX_CONCURRENCY) were finished; every other one was left alone.
    expect(summary.applied.map((a) => a.action)).toEqual(summary.applied.map(() => 'created'));
    expect(summary.applied.length).toBeGreaterThanOrEqual(1);
    expect(summary.applied.length).toBeLessThanOrEqual(8);
    expect([...summary.applied.map((a) => a.clientId), ...notStarted].sort()).toEqual([...desired.map((d) => d.definition.metadata.name), 'orphan-one'].sort());
    for (const clientId of notStarted) expect(accounts.rows.has(clientId) === (clientId === 'orphan-one')).toBe(true);
    expect(accounts.removed).toEqual([]);
    expect(renderApply(summary).join('\n')).toContain(`■ stopped (SIGTERM received): the accounts under way were finished; not started, run apply again for them:\n  platform/${notStarted[0]}`);
    expect(renderApply(summary).at(-1)).toBe(`Apply stopped: ${summary.applied.length} created, 0 changed, 0 deleted, 0 unchanged, 0 failed, ${notStarted.length} not started (set apps).`);
    expect(audits).toEqual([expect.objectContaining({ action: 'gitops.applied', outcome: 'failure', detail: expect.objectContaining({ stopped: 'SIGTERM received', notStarted: notStarted.length }) })]);
  });

  it('is complete, not stopped, when the stop comes once every account has started', async () => {
    const controller = new AbortController();
    accounts.onUpsert = (clientId) => {
      if (clientId === 'last-one') controller.abort('SIGTERM received');
    };
    const summary = await applier.execute(context, [def('last-one')], { prune: true, set: 'apps', signal: controller.signal });
    expect(controller.signal.aborted).toBe(true);
    expect(summary.ok).toBe(true);
    expect(summary.stopped).toBeUndefined();
    expect(summary.applied.map((a) => [a.clientId, a.action])).toEqual([['last-one', 'created']]);
    expect(renderApply(summary).join('\n')).not.toContain('stopped');
    expect(audits).toEqual([expect.objectContaining({ action: 'gitops.applied', outcome: 'success' })]);
  });

  it('prunes only GitOps-managed accounts, only with prune, and refuses to exceed the deletion cap', async () => {
    for (const name of ['orphan-one', 'orphan-two', 'orphan-three']) accounts.seed(name, 'gitops');
    accounts.seed('made-by-api', 'api');

    await applier.execute(context, [def('kept-one')], { prune: false, set: 'apps' });
    expect(accounts.removed).toEqual([]);

    const refused = await applier.execute(context, [def('kept-one')], { prune: true, set: 'apps', maxDeletions: 2 });
    expect(refused.ok).toBe(false);
    expect(refused.refused).toEqual({ reason: expect.stringContaining('3 deletions exceed the limit of 2'), deletions: 3, maxDeletions: 2 });
    expect(accounts.removed).toEqual([]);

    const forced = await applier.execute(context, [def('kept-one')], { prune: true, set: 'apps', maxDeletions: 2, forceDeletions: true });
    expect(forced.ok).toBe(true);
    expect(accounts.removed.sort()).toEqual(['orphan-one', 'orphan-three', 'orphan-two']);
    expect(accounts.rows.has('made-by-api')).toBe(true);
  });

  it('confines an owner-bound caller to its own accounts', async () => {
    accounts.seed('other-team', 'gitops', { owner: 'team-b' });
    const plan = await planner.execute([def('mine', ['orders-reader'], 'team-a'), def('theirs', ['orders-reader'], 'team-b')], { prune: true, set: 'apps', owner: 'team-a' });
    expect(plan.accounts.map((a) => [a.clientId, a.action])).toEqual([['mine', 'create'], ['theirs', 'error']]);
  });

  it("shows an owner-bound caller nothing of another owner's account its definition names, as if it did not exist", async () => {
    accounts.seed('their-worker', 'gitops', { owner: 'team-b', realmRoles: ['orders-writer'], description: 'team-b internal' });
    const plan = await planner.execute([def('their-worker', [], 'team-a')], { prune: false, set: 'apps', owner: 'team-a' });
    expect(plan.accounts).toEqual([expect.objectContaining({ clientId: 'their-worker', action: 'error', changes: [], error: { code: 'SERVICE_ACCOUNT_NOT_FOUND', detail: expect.any(String) } })]);
    expect(JSON.stringify(plan)).not.toMatch(/team-b|orders-writer|adopt/);
  });

  it('refuses prune or adoption without a named set, before reading or writing anything', async () => {
    accounts.seed('orphan-one', 'gitops');
    await expect(planner.execute([def('kept-one')], { prune: true })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', extensions: { errors: [{ field: 'set', message: expect.stringContaining('required with prune') }] } });
    await expect(applier.execute(context, [def('kept-one')], { prune: true, set: null })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(applier.execute(context, [def('kept-one')], { prune: false, adoptFromSets: ['other'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(planner.execute([def('kept-one')], { prune: false, set: 'Bad_Name' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(accounts.removed).toEqual([]);
    expect(accounts.rows.has('kept-one')).toBe(false);
  });

  it('prunes only its own set: other sets, unassigned and API-made accounts survive and unassigned ones are reported', async () => {
    accounts.seed('mine-gone', 'gitops', {}, 'apps');
    accounts.seed('bootstrap-op', 'gitops', {}, 'bootstrap');
    accounts.seed('legacy-one', 'gitops', {}, null);
    accounts.seed('made-by-api', 'api');

    const plan = await planner.execute([def('kept-one')], { prune: true, set: 'apps' });
    expect(plan.accounts.filter((a) => a.action === 'delete').map((a) => a.clientId)).toEqual(['mine-gone']);
    expect(plan.unassigned).toEqual([{ realm: 'platform', clientId: 'legacy-one' }]);
    expect(renderPlan(plan).join('\n')).toContain('platform/legacy-one: GitOps account with no set, not in the definitions; never pruned');

    const summary = await applier.execute(context, [def('kept-one')], { prune: true, set: 'apps' });
    expect(summary).toMatchObject({ ok: true, set: 'apps', unassigned: [{ realm: 'platform', clientId: 'legacy-one' }] });
    expect(accounts.removed).toEqual(['mine-gone']);
    expect([...accounts.rows.keys()].sort()).toEqual(['bootstrap-op', 'kept-one', 'legacy-one', 'made-by-api']);
  });

  it('refuses an account of another set unless adopted from it, and shows the move in the plan', async () => {
    accounts.seed('bootstrap-op', 'gitops', { realmRoles: ['orders-reader'] }, 'bootstrap');
    const conflict = await planner.execute([def('bootstrap-op')], { prune: false, set: 'apps' });
    expect(conflict.accounts[0]).toMatchObject({ action: 'error', error: { code: 'SET_CONFLICT', detail: expect.stringContaining('--adopt-from-set bootstrap') } });
    const refused = await applier.execute(context, [def('bootstrap-op')], { prune: false, set: 'apps' });
    expect(refused.failed).toEqual([expect.objectContaining({ clientId: 'bootstrap-op', code: 'SET_CONFLICT' })]);
    expect(accounts.rows.get('bootstrap-op')!.gitopsSet).toBe('bootstrap');

    const move = await planner.execute([def('bootstrap-op')], { prune: false, set: 'apps', adoptFromSets: ['bootstrap'] });
    expect(move.accounts[0]).toMatchObject({ action: 'noop', setChange: { from: 'bootstrap', to: 'apps' } });
    expect(move.hasChanges).toBe(true);
    expect(renderPlan(move)).toEqual(expect.arrayContaining(['  platform/bootstrap-op: move', '    ~ set: bootstrap → apps']));
    const moved = await applier.execute(context, [def('bootstrap-op')], { prune: false, set: 'apps', adoptFromSets: ['bootstrap'] });
    expect(moved.applied).toEqual([expect.objectContaining({ clientId: 'bootstrap-op', action: 'updated', changes: [{ field: 'set', action: 'set', from: 'bootstrap', to: 'apps' }] })]);
    expect(accounts.rows.get('bootstrap-op')!.gitopsSet).toBe('apps');
  });

  it('updates an unassigned account it names but leaves it unassigned, unless told to adopt it', async () => {
    accounts.seed('legacy-one', 'gitops', { realmRoles: ['orders-reader'] }, null);
    const plan = await planner.execute([def('legacy-one', ['orders-writer'])], { prune: true, set: 'apps' });
    expect(plan.accounts).toEqual([expect.objectContaining({ clientId: 'legacy-one', action: 'update', unassigned: true })]);
    const kept = await applier.execute(context, [def('legacy-one', ['orders-writer'])], { prune: true, set: 'apps' });
    expect(kept.applied).toEqual([expect.objectContaining({ clientId: 'legacy-one', action: 'updated', unassigned: true })]);
    expect(accounts.rows.get('legacy-one')!.gitopsSet).toBeNull();

    const adopted = await applier.execute(context, [def('legacy-one', ['orders-writer'])], { prune: true, set: 'apps', adoptUnassigned: true });
    expect(adopted.applied).toEqual([expect.objectContaining({ clientId: 'legacy-one', changes: [{ field: 'set', action: 'set', from: null, to: 'apps' }] })]);
    expect(accounts.rows.get('legacy-one')!.gitopsSet).toBe('apps');
  });

  it('does not delete an account that left the set between selection and deletion', async () => {
    accounts.seed('mine-gone', 'gitops', {}, 'apps');
    const remove = accounts.remove.bind(accounts);
    accounts.remove = async (ctx, realm, clientId, options) => {
      accounts.rows.get(clientId)!.gitopsSet = 'elsewhere';
      return remove(ctx, realm, clientId, options);
    };
    const summary = await applier.execute(context, [def('kept-one')], { prune: true, set: 'apps' });
    expect(summary.failed).toEqual([expect.objectContaining({ clientId: 'mine-gone', action: 'delete', code: 'SET_CONFLICT' })]);
    expect(accounts.rows.has('mine-gone')).toBe(true);
  });
});
