import { setFaultPoints } from '../../common/faults/fault-points.js';
import { LeaseLostError } from '../../common/leases/leases.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { ScriptedFence, spec, wing, type Wing } from '../testing/wing-harness.js';

const command = (w: Wing, clientId: string, fence = new ScriptedFence()) => ({
  context: w.context,
  realm: 'platform',
  clientId,
  spec: spec({ realmRoles: ['orders-reader'], clientRoles: { billing: ['invoice-read'] } }),
  catalog: w.catalog,
  options: {},
  fence,
});

describe('ProvisionAccountUseCase (provisioning state machine)', () => {
  let w: Wing;
  beforeEach(async () => (w = await wing()));
  afterEach(async () => {
    setFaultPoints(undefined);
    await w.db.destroy();
  });

  it('inserts the row, makes the client with its grants, stores the secret and ends ready, checking the lease before each Keycloak step', async () => {
    const fence = new ScriptedFence();
    const result = await w.provision.execute(command(w, 'orders-app', fence));
    const row = await w.rows.find('platform', 'orders-app');
    expect(row).toMatchObject({ state: 'ready', keycloakId: w.keycloak.clients.get('orders-app')!.id });
    expect(w.vault.decrypt(row!.secretCiphertext!, row!.id)).toBe(result.clientSecret);
    expect(w.keycloak.clients.get('orders-app')!.grants).toMatchObject({ realmRoles: ['orders-reader'], clientRoles: { billing: ['invoice-read'] }, defaultScopes: ['basic', 'profile', 'roles'] });
    expect(fence.steps).toEqual(['find client', 'create client', 'set grants', 'store secret']);
    expect(fence.released).toBe(true);
    expect(w.audits.map((a) => [a.action, a.outcome ?? 'success'])).toEqual([['service_account.created', 'success']]);
    expect(w.events.map((e) => e.type)).toEqual(['created']);
  });

  it('uses a look-up made before the lease that found no client, without asking Keycloak again', async () => {
    let asked = 0;
    const ownership = w.keycloak.ownership.bind(w.keycloak);
    w.keycloak.ownership = (...args: Parameters<typeof ownership>) => ((asked += 1), ownership(...args));
    await w.provision.execute({ ...command(w, 'orders-app'), found: Promise.resolve(undefined) });
    expect(asked).toBe(0);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');
  });

  it('asks again under the lease when a look-up made before it saw a client: one deleted since does not refuse the create', async () => {
    const early = Promise.resolve({ managed: true, accountId: 'sa_deleted_since' });
    await w.provision.execute({ ...command(w, 'orders-app'), found: early });
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('ready');

    // A client made since a look-up that found none: Keycloak's answer to the create refuses it.
    w.keycloak.seedClient('billing-app');
    await expect(w.provision.execute({ ...command(w, 'billing-app'), found: Promise.resolve(undefined) })).rejects.toMatchObject({ code: ErrorCode.ClientExists });
    expect(w.keycloak.clients.get('billing-app')?.spec).toBeNull();
    await expect(w.provision.execute({ ...command(w, 'billing-app'), found: early })).rejects.toMatchObject({
      code: ErrorCode.ClientExists,
      message: expect.stringContaining('Keysmith did not make it'),
    });
    expect(await w.rows.find('platform', 'billing-app')).toBeNull();
  });

  it('removes the row it inserted beside a look-up that failed, and makes no client', async () => {
    w.keycloak.failOn.add('ownership');
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toMatchObject({ code: ErrorCode.KeycloakUnavailable });
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.keycloak.calls).toEqual([]);
    expect(w.audits).toEqual([]);
  });

  it('leaves the row of a refused create to recovery when it cannot be removed', async () => {
    w.keycloak.seedClient('orders-app');
    const remove = w.rows.repository.delete.bind(w.rows.repository);
    w.rows.repository.delete = (() => Promise.reject(new Error('database gone'))) as typeof remove;
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toMatchObject({ code: ErrorCode.ClientExists });
    w.rows.repository.delete = remove;
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('provisioning');
    // Recovery finds no client carrying the row's id: it removes the row and leaves the other client.
    expect(await w.recover.sweep(w.context)).toMatchObject({ found: 1, recovered: 1, failed: 0 });
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.keycloak.clients.has('orders-app')).toBe(true);
  });

  it('refuses a client of the same name that Keysmith did not make, and writes nothing', async () => {
    w.keycloak.seedClient('orders-app');
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toMatchObject({ code: ErrorCode.ClientExists });
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.keycloak.calls).toEqual([]);
  });

  it.each(['provision.row-inserted', 'provision.client-created', 'provision.grants-set'])('undoes everything when a step fails at %s', async (point) => {
    setFaultPoints(`${point}=throw`);
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toThrow(`fault injected at ${point}`);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
    expect(w.audits.map((a) => [a.action, a.outcome])).toEqual([['service_account.created', 'failure']]);
  });

  it('leaves the row provisioning for recovery when Keycloak is also gone for the undo', async () => {
    w.keycloak.failOn.add('setGrants');
    w.keycloak.failOn.add('deleteAccountClient');
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toMatchObject({ code: ErrorCode.KeycloakUnavailable });
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('provisioning');
    expect(w.keycloak.clients.get('orders-app')?.attributes['keysmith.account-id']).toBe((await w.rows.find('platform', 'orders-app'))!.id);
  });

  it('stops at the step where the lease is lost and undoes nothing (the next holder or recovery does)', async () => {
    const fence = new ScriptedFence();
    fence.loseAt = 'set grants';
    await expect(w.provision.execute(command(w, 'orders-app', fence))).rejects.toBeInstanceOf(LeaseLostError);
    expect(w.keycloak.calls).toEqual(['create orders-app']);
    expect((await w.rows.find('platform', 'orders-app'))?.state).toBe('provisioning');
  });

  it('never reaches Keycloak when the lease is already lost', async () => {
    const fence = new ScriptedFence();
    fence.loseAt = 'find client';
    await expect(w.provision.execute(command(w, 'orders-app', fence))).rejects.toMatchObject({ code: ErrorCode.LeaseLost });
    expect(w.keycloak.calls).toEqual([]);
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
  });

  it('lease lost to a recovery, paused before the create while recovery removed its row: the client it then made is removed again', async () => {
    const create = w.keycloak.createManagedClient.bind(w.keycloak);
    w.keycloak.createManagedClient = async (realm, clientSpec) => {
      await w.rows.repository.delete({ clientId: clientSpec.clientId });
      return create(realm, clientSpec);
    };
    const fence = new ScriptedFence();
    fence.loseAt = 'set grants';
    await expect(w.provision.execute(command(w, 'orders-app', fence))).rejects.toThrow(/LEASE_LOST|lock/);
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
  });

  it('lease lost to a recovery, paused after its last check while recovery removed the row and the client: no 201 with a secret of a client that is gone', async () => {
    const setGrants = w.keycloak.setGrants.bind(w.keycloak);
    w.keycloak.setGrants = async (...args: Parameters<typeof setGrants>) => {
      const diff = await setGrants(...args);
      await w.rows.repository.delete({ clientId: 'orders-app' });
      w.keycloak.clients.delete('orders-app');
      return diff;
    };
    await expect(w.provision.execute(command(w, 'orders-app'))).rejects.toThrow(
      /expired or was taken over before store secret/,
    );
    expect(await w.rows.find('platform', 'orders-app')).toBeNull();
    expect(w.keycloak.clients.has('orders-app')).toBe(false);
  });
});
