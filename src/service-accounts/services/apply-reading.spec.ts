import { provisioned, spec, wing, wingService, type Wing } from '../testing/wing-harness.js';
import { ServiceAccountsService } from './service-accounts.service.js';

/** Applies read Keycloak as plans do: unchanged accounts judged from the client list, changed ones in full. */
describe('apply reading (summary or full refresh)', () => {
  let w: Wing;
  let service: ServiceAccountsService;
  beforeEach(async () => {
    w = await wing();
    service = wingService(w);
  });
  afterEach(async () => w.db.destroy());

  const detailReads = () => w.keycloak.reads.filter((read) => read.startsWith('read '));
  const nameLookUps = () => w.keycloak.reads.filter((read) => read.startsWith('find '));
  const upsert = (clientId: string, wanted = spec(), clients?: Awaited<ReturnType<ServiceAccountsService['clientSummaries']>>) =>
    service.upsert(w.context, 'platform', clientId, wanted, { managedBy: 'gitops', source: 'sha-2', clients });

  it('applies an unchanged account from the client list: no detail read, no Keycloak write, the source still recorded', async () => {
    await provisioned(w, 'app-a');
    const clients = await service.clientSummaries('platform');
    w.keycloak.reads.length = 0;
    w.keycloak.calls.length = 0;
    const result = await upsert('app-a', spec(), clients);
    expect(result).toMatchObject({ created: false, changes: [] });
    expect(detailReads()).toEqual([]);
    expect(w.keycloak.calls).toEqual([]);
    expect(await w.rows.find('platform', 'app-a')).toMatchObject({ state: 'ready', source: 'sha-2', managedBy: 'gitops' });
  });

  it('creates an account the client list does not show without looking its name up, and looks a listed name up again before refusing it', async () => {
    w.keycloak.seedClient('not-ours');
    const clients = await service.clientSummaries('platform');
    w.keycloak.reads.length = 0;
    expect(await upsert('app-new', spec(), clients)).toMatchObject({ created: true, account: { state: 'active' } });
    expect(nameLookUps()).toEqual([]);
    await expect(upsert('not-ours', spec(), clients)).rejects.toMatchObject({ code: 'CLIENT_EXISTS', message: expect.stringContaining('Keysmith did not make it') });
    expect(nameLookUps()).toEqual(['find not-ours']);
    expect(await w.rows.find('platform', 'not-ours')).toBeNull();
    // Gone since the list was read: the create goes ahead.
    w.keycloak.clients.delete('not-ours');
    expect(await upsert('not-ours', spec(), clients)).toMatchObject({ created: true });
  });

  it('reads in full and applies an account whose definition changed, with the client list given', async () => {
    await provisioned(w, 'app-a');
    await provisioned(w, 'app-b');
    const clients = await service.clientSummaries('platform');
    w.keycloak.reads.length = 0;
    await upsert('app-a', spec(), clients);
    const b = await upsert('app-b', spec({ realmRoles: ['orders-writer'] }), clients);
    expect(b.changes).toEqual(expect.arrayContaining([{ field: 'realmRoles', action: 'add', value: 'orders-writer' }]));
    expect(detailReads()).toEqual(expect.arrayContaining(['read app-b']));
    expect(detailReads()).not.toContain('read app-a');
    expect(w.keycloak.clients.get('app-b')!.grants.realmRoles).toEqual(['orders-writer']);
  });

  it('without the client list (refresh) reads every account in full and puts back a role mapping changed by hand', async () => {
    await provisioned(w, 'app-a');
    w.keycloak.clients.get('app-a')!.grants.realmRoles.push('admin');
    const clients = await service.clientSummaries('platform');
    expect((await upsert('app-a', spec(), clients)).changes).toEqual([]);
    w.keycloak.reads.length = 0;
    const refreshed = await upsert('app-a');
    expect(refreshed.changes).toEqual([expect.objectContaining({ field: 'realmRoles', action: 'remove', value: 'admin' })]);
    expect(detailReads().length).toBeGreaterThan(0);
    expect(w.keycloak.clients.get('app-a')!.grants.realmRoles).toEqual(['orders-reader']);
  });

  it('reads in full an account the summary shows changed in Keycloak (disabled by hand), and re-enables it', async () => {
    await provisioned(w, 'app-a');
    const client = w.keycloak.clients.get('app-a')!;
    client.spec = { ...client.spec!, enabled: false };
    const clients = await service.clientSummaries('platform');
    w.keycloak.reads.length = 0;
    const result = await upsert('app-a', spec(), clients);
    expect(result.changes).toEqual([expect.objectContaining({ field: 'enabled', from: false, to: true })]);
    expect(detailReads()).toEqual(expect.arrayContaining(['read app-a']));
  });
});
