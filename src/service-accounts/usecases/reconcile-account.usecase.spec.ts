import { ErrorCode } from '../../common/errors/error-code.js';
import { setFaultPoints } from '../../common/faults/fault-points.js';
import { LeaseLostError } from '../../common/leases/leases.js';
import { provisioned, ScriptedFence, spec, wing, type Wing } from '../testing/wing-harness.js';

describe('ReconcileAccountUseCase (reconcile state machine)', () => {
  let w: Wing;
  beforeEach(async () => (w = await wing()));
  afterEach(async () => {
    setFaultPoints(undefined);
    await w.db.destroy();
  });

  const reconcile = (row: Parameters<Wing['reconcile']['execute']>[0]['row'], wanted = spec({ realmRoles: ['orders-writer'], description: 'changed' }), fence = new ScriptedFence()) =>
    w.reconcile.execute({ context: w.context, row, spec: wanted, catalog: w.catalog, options: {}, fence });

  it('changes nothing when Keycloak already matches, and answers no changes', async () => {
    const { row } = await provisioned(w, 'orders-app');
    w.keycloak.calls.length = 0;
    const result = await reconcile(row, spec());
    expect(result.changes).toEqual([]);
    expect(w.keycloak.calls).toEqual([]);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');
  });

  it('records the desired spec, updates the client and its grants by name, and ends ready with the changes listed', async () => {
    const { row } = await provisioned(w, 'orders-app');
    const fence = new ScriptedFence();
    const result = await reconcile(row, undefined, fence);
    expect(result.changes).toEqual(
      expect.arrayContaining([
        { field: 'description', action: 'set', from: 'test account', to: 'changed' },
        { field: 'realmRoles', action: 'add', value: 'orders-writer' },
        { field: 'realmRoles', action: 'remove', value: 'orders-reader' },
      ]),
    );
    expect(w.keycloak.clients.get('orders-app')!.grants.realmRoles).toEqual(['orders-writer']);
    expect(await w.rows.find('platform', 'orders-app')).toMatchObject({ state: 'ready', description: 'changed', realmRoles: ['orders-writer'] });
    expect(fence.steps).toEqual(['read client', 'update client', 'set grants', 'mark ready']);
  });

  it.each(['reconcile.row-updating', 'reconcile.client-updated', 'reconcile.grants-set'])('keeps the desired spec in `updating` when interrupted at %s, and complete() finishes it', async (point) => {
    const { row } = await provisioned(w, 'orders-app');
    setFaultPoints(`${point}=throw`);
    await expect(reconcile(row)).rejects.toThrow(`fault injected at ${point}`);
    const stuck = (await w.rows.find('platform', 'orders-app'))!;
    expect(stuck).toMatchObject({ state: 'updating', realmRoles: ['orders-writer'] });
    expect(w.audits.at(-1)).toMatchObject({ action: 'service_account.updated', outcome: 'failure' });
    setFaultPoints(undefined);
    await w.reconcile.complete(w.context, stuck, w.catalog, new ScriptedFence());
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');
    expect(w.keycloak.clients.get('orders-app')!.grants.realmRoles).toEqual(['orders-writer']);
    expect(w.audits.at(-1)).toMatchObject({ action: 'service_account.update_completed' });
  });

  it('stops before the next Keycloak write when the lease is lost, leaving `updating`', async () => {
    const { row } = await provisioned(w, 'orders-app');
    const fence = new ScriptedFence();
    fence.loseAt = 'set grants';
    await expect(reconcile(row, undefined, fence)).rejects.toBeInstanceOf(LeaseLostError);
    expect(w.keycloak.clients.get('orders-app')!.grants.realmRoles).toEqual(['orders-reader']);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('updating');
  });

  it('refuses with 409 when the client is gone or was replaced outside Keysmith', async () => {
    const { row } = await provisioned(w, 'orders-app');
    w.keycloak.clients.delete('orders-app');
    w.keycloak.seedClient('orders-app', { 'keysmith.managed-by': 'keysmith' });
    await expect(reconcile(row)).rejects.toMatchObject({ code: ErrorCode.AccountOrphaned });
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');
  });

  it('reports drift made by hand as changes against the last applied spec', async () => {
    const { row } = await provisioned(w, 'orders-app');
    w.keycloak.clients.get('orders-app')!.grants.realmRoles.push('admin');
    const diff = await w.reconcile.diff(row, spec(), w.catalog);
    expect(diff.changes).toEqual([{ field: 'realmRoles', action: 'remove', value: 'admin', origin: 'keycloak' }]);
  });
});
