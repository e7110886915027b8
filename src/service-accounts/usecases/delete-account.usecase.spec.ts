import { ErrorCode } from '../../common/errors/error-code.js';
import { setFaultPoints } from '../../common/faults/fault-points.js';
import { provisioned, ScriptedFence, wing, type Wing } from '../testing/wing-harness.js';

describe('DeleteAccountUseCase (delete state machine)', () => {
  let w: Wing;
  beforeEach(async () => (w = await wing()));
  afterEach(async () => {
    setFaultPoints(undefined);
    await w.db.destroy();
  });

  it('marks the row deleting, removes the client, keeps the row as deleted and tells API keys', async () => {
    const { row } = await provisioned(w, 'orders-app');
    const fence = new ScriptedFence();
    await w.remove.execute({ context: w.context, row, fence });
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(await w.rows.repository.findOneBy({ id: row.id })).toMatchObject({ state: 'deleted' });
    expect(w.events.at(-1)?.type).toBe('deleted');
    expect(w.keysRevoked).toEqual(['platform/orders-app']);
    expect(fence.steps).toEqual(['delete client', 'mark deleted']);
  });

  it('refuses a prune of an account that left the set, changing nothing', async () => {
    const { row } = await provisioned(w, 'orders-app');
    await expect(w.remove.execute({ context: w.context, row, onlyInSet: 'apps', fence: new ScriptedFence() })).rejects.toMatchObject({ code: ErrorCode.SetConflict });
    expect(w.keycloak.clients.has('orders-app')).toBe(true);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');
  });

  it('leaves `deleting` when Keycloak fails, audited as a failure; finish() completes it later', async () => {
    const { row } = await provisioned(w, 'orders-app');
    w.keycloak.failOn.add('deleteAccountClient');
    await expect(w.remove.execute({ context: w.context, row, fence: new ScriptedFence() })).rejects.toMatchObject({ code: ErrorCode.KeycloakUnavailable });
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('deleting');
    expect(w.audits.at(-1)).toMatchObject({ action: 'service_account.deleted', outcome: 'failure' });
    w.keycloak.failOn.clear();
    await w.remove.finish(w.context, row, new ScriptedFence());
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
  });

  it.each(['delete.row-deleting', 'delete.client-deleted'])('a crash at %s leaves `deleting` for recovery', async (point) => {
    const { row } = await provisioned(w, 'orders-app');
    setFaultPoints(`${point}=throw`);
    await expect(w.remove.execute({ context: w.context, row, fence: new ScriptedFence() })).rejects.toThrow(point);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('deleting');
  });

  it('revokes the keys before the row is deleted: a crash after that leaves `deleting` with the keys revoked, and finish() completes it', async () => {
    const { row } = await provisioned(w, 'orders-app');
    setFaultPoints('delete.keys-revoked=throw');
    await expect(w.remove.execute({ context: w.context, row, fence: new ScriptedFence() })).rejects.toThrow('delete.keys-revoked');
    expect(w.keysRevoked).toEqual(['platform/orders-app']);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('deleting');
    setFaultPoints(undefined);
    await w.remove.finish(w.context, row, new ScriptedFence());
    expect(await w.rows.repository.findOneBy({ id: row.id })).toMatchObject({ state: 'deleted' });
    expect(w.keysRevoked).toEqual(['platform/orders-app', 'platform/orders-app']);
  });

  it('does not touch Keycloak once the lease is lost', async () => {
    const { row } = await provisioned(w, 'orders-app');
    const fence = new ScriptedFence();
    fence.loseAt = 'delete client';
    await expect(w.remove.execute({ context: w.context, row, fence })).rejects.toMatchObject({ code: ErrorCode.LeaseLost });
    expect(w.keycloak.clients.has('orders-app')).toBe(true);
  });
});
