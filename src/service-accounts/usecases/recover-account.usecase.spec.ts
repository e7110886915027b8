import { setFaultPoints } from '../../common/faults/fault-points.js';
import { LeaseStore } from '../../common/leases/lease.store.js';
import { AccountLease } from '../lease/account-lease.js';
import { provisioned, ScriptedFence, spec, wing, wingService, type Wing } from '../testing/wing-harness.js';

describe('RecoverAccountUseCase (recovery state machine)', () => {
  let w: Wing;
  beforeEach(async () => (w = await wing()));
  afterEach(async () => {
    setFaultPoints(undefined);
    await w.db.destroy();
  });

  /** A create interrupted after the client was made: row `provisioning`, half-made client carrying the account id. */
  async function halfMade(clientId: string) {
    setFaultPoints('provision.client-created=throw');
    w.keycloak.failOn.add('deleteAccountClient');
    await expect(w.provision.execute({ context: w.context, realm: 'platform', clientId, spec: spec(), catalog: w.catalog, options: {}, fence: new ScriptedFence() })).rejects.toThrow();
    setFaultPoints(undefined);
    w.keycloak.failOn.clear();
    w.audits.length = 0;
  }

  it('removes a half-made client and its row once, audited once', async () => {
    await halfMade('orders-app');
    const sweep = await w.recover.sweep(w.context);
    expect(sweep).toMatchObject({ found: 1, recovered: 1, held: 0, failed: 0 });
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.audits.map((a) => a.action)).toEqual(['service_account.create_undone']);
    expect((await w.recover.sweep(w.context)).found).toBe(0);
  });

  it('never touches a row whose lease a live instance holds, and recovers it once that lease expired', async () => {
    await halfMade('orders-app');
    const other = new LeaseStore(w.db, w.clock);
    await other.acquire(AccountLease.leaseName('platform', 'orders-app'), 'instance-b', 'lse_b', 30_000);
    expect(await w.recover.sweep(w.context)).toMatchObject({ found: 1, recovered: 0, held: 1 });
    expect(w.keycloak.clients.has('orders-app')).toBe(true);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('provisioning');
    w.clock.ms += 30_001;
    expect(await w.recover.sweep(w.context)).toMatchObject({ found: 1, recovered: 1, held: 0 });
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
  });

  it('never deletes a client of the same name that belongs to no half-made row', async () => {
    await halfMade('orders-app');
    w.keycloak.clients.delete('orders-app');
    w.keycloak.seedClient('orders-app', { 'keysmith.managed-by': 'keysmith', 'keysmith.account-id': 'sa_someone_else' });
    await w.recover.sweep(w.context);
    expect(w.keycloak.clients.has('orders-app')).toBe(true);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
  });

  it('re-applies an interrupted update and finishes an interrupted deletion', async () => {
    const { row: updating } = await provisioned(w, 'orders-app');
    const { row: deleting } = await provisioned(w, 'billing-app');
    setFaultPoints('reconcile.row-updating=throw,delete.row-deleting=throw');
    await expect(w.reconcile.execute({ context: w.context, row: updating, spec: spec({ realmRoles: ['orders-writer'] }), catalog: w.catalog, options: {}, fence: new ScriptedFence() })).rejects.toThrow();
    await expect(w.remove.execute({ context: w.context, row: deleting, fence: new ScriptedFence() })).rejects.toThrow();
    setFaultPoints(undefined);
    expect(await w.recover.sweep(w.context)).toMatchObject({ found: 2, recovered: 2, failed: 0 });
    expect(await w.rows.find('platform', 'orders-app')).toMatchObject({ state: 'ready' });
    expect(w.keycloak.clients.get('orders-app')!.grants.realmRoles).toEqual(['orders-writer']);
    expect(await w.rows.find('platform', 'billing-app')).toBeNull();
    expect(w.keycloak.clients.has('billing-app')).toBe(false);
  });

  it('reports a row it could not recover (Keycloak down) and leaves it for the next sweep', async () => {
    await halfMade('orders-app');
    w.keycloak.failOn.add('deleteAccountClient');
    const sweep = await w.recover.sweep(w.context);
    expect(sweep).toMatchObject({ found: 1, recovered: 0, failed: 1 });
    expect(sweep.errors).toEqual(['platform/orders-app: KEYCLOAK_UNAVAILABLE']);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('provisioning');
    w.keycloak.failOn.clear();
    expect(await w.recover.sweep(w.context)).toMatchObject({ recovered: 1 });
  });

  /** An update interrupted before it reached Keycloak: row `updating` with the spec it wanted. */
  async function interruptedUpdate(clientId: string, wanted: Parameters<typeof spec>[0]) {
    const { row } = await provisioned(w, clientId);
    setFaultPoints('reconcile.row-updating=throw');
    await expect(w.reconcile.execute({ context: w.context, row, spec: spec(wanted), catalog: w.catalog, options: {}, fence: new ScriptedFence() })).rejects.toThrow();
    setFaultPoints(undefined);
    expect((await w.rows.find('platform', clientId))?.state).toBe('updating');
  }

  it('orphans an interrupted update whose client was deleted in Keycloak meanwhile, instead of failing every run', async () => {
    await interruptedUpdate('orders-app', { realmRoles: ['orders-writer'] });
    w.keycloak.clients.delete('orders-app');
    expect(await w.recover.sweep(w.context)).toMatchObject({ found: 1, recovered: 1, failed: 0 });
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('orphaned');
    expect((await w.recover.sweep(w.context)).found).toBe(0);
  });

  it('lets a change replace an interrupted update whose spec can no longer be applied (a role deleted since)', async () => {
    await interruptedUpdate('orders-app', { realmRoles: ['orders-writer'] });
    const row = (await w.rows.find('platform', 'orders-app'))!;
    await w.rows.repository.update(row.id, { realmRoles: ['retired-role'] });
    expect(await w.recover.sweep(w.context)).toMatchObject({ failed: 1, errors: ['platform/orders-app: UNKNOWN_ROLE'] });
    // A PUT that Keycloak already matches (the interrupted update never reached it): nothing to
    // write there, but the row takes the new spec and is ready, so no recovery re-applies the old one.
    const result = await wingService(w).upsert(w.context, 'platform', 'orders-app', spec());
    expect(result.account).toMatchObject({ state: 'active', realmRoles: ['orders-reader'] });
    expect(await w.rows.find('platform', 'orders-app')).toMatchObject({ state: 'ready', realmRoles: ['orders-reader'] });
    expect((await w.recover.sweep(w.context)).found).toBe(0);
    expect(w.keycloak.clients.get('orders-app')!.grants.realmRoles).toEqual(['orders-reader']);
  });

  it('a create of the name of a create that never finished (its insert meets the row) first undoes that one, then makes the account anew', async () => {
    await halfMade('orders-app');
    const before = (await w.rows.find('platform', 'orders-app'))!;
    const halfMadeClient = w.keycloak.clients.get('orders-app')!.id;
    const result = await wingService(w).create(w.context, 'platform', { clientId: 'orders-app', ...spec() });
    expect(result).toMatchObject({ created: true, account: { state: 'active' } });
    const after = (await w.rows.find('platform', 'orders-app'))!;
    expect(after.id).not.toBe(before.id);
    expect(w.keycloak.clients.get('orders-app')).toMatchObject({ id: after.keycloakId, attributes: { 'keysmith.account-id': after.id } });
    expect(after.keycloakId).not.toBe(halfMadeClient);
    expect(w.audits.map((a) => a.action)).toEqual(['service_account.create_undone', 'service_account.created']);
  });

  it('a create of the name of a live account answers CLIENT_EXISTS and changes nothing', async () => {
    const { row } = await provisioned(w, 'orders-app');
    w.keycloak.calls.length = 0;
    await expect(wingService(w).create(w.context, 'platform', { clientId: 'orders-app', ...spec({ realmRoles: ['orders-writer'] }) })).rejects.toMatchObject({
      code: 'CLIENT_EXISTS',
      message: 'Service account orders-app already exists in realm platform.',
    });
    expect(await w.rows.find('platform', 'orders-app')).toMatchObject({ id: row.id, state: 'ready', realmRoles: ['orders-reader'] });
    expect(w.keycloak.calls).toEqual([]);
  });

  it('a delete of a create that never finished removes the client it made', async () => {
    await halfMade('orders-app');
    expect((await w.rows.find('platform', 'orders-app'))?.keycloakId).toBeNull();
    await wingService(w).remove(w.context, 'platform', 'orders-app');
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
    expect((await w.recover.sweep(w.context)).found).toBe(0);
  });
});
