import { ErrorCode } from '../../common/errors/error-code.js';
import { provisioned, ScriptedFence, spec, wing, wingService, type Wing } from '../testing/wing-harness.js';
import { ServiceAccountsService } from './service-accounts.service.js';

/** The plan's reading strategy: which accounts are read in detail, from the client list's summaries or in full. */
describe('plan reading (summary or full refresh)', () => {
  let w: Wing;
  let service: ServiceAccountsService;
  beforeEach(async () => {
    w = await wing();
    service = wingService(w);
  });
  afterEach(async () => w.db.destroy());

  const detailReads = () => w.keycloak.reads.filter((read) => read.startsWith('read '));
  const summaries = () => service.clientSummaries('platform');

  it('plans unchanged accounts from one client list, with no detail read', async () => {
    await provisioned(w, 'app-a');
    await provisioned(w, 'app-b', { realmRoles: ['orders-writer'] });
    w.keycloak.reads.length = 0;
    const clients = await summaries();
    const a = await service.plan('platform', 'app-a', spec(), undefined, clients);
    const b = await service.plan('platform', 'app-b', spec({ realmRoles: ['orders-writer'] }), undefined, clients);
    expect([a, b].map((p) => [p.action, p.detailed])).toEqual([['noop', false], ['noop', false]]);
    expect(w.keycloak.reads).toEqual(['list clients']);
  });

  it('reads in detail only the account whose definition changed', async () => {
    await provisioned(w, 'app-a');
    await provisioned(w, 'app-b');
    const clients = await summaries();
    w.keycloak.reads.length = 0;
    const a = await service.plan('platform', 'app-a', spec(), undefined, clients);
    const b = await service.plan('platform', 'app-b', spec({ apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 90, rateLimit: { requests: 50, perSeconds: 1 }, tokenExchange: false } }), undefined, clients);
    expect(a).toMatchObject({ action: 'noop', detailed: false });
    expect(b).toMatchObject({ action: 'update', detailed: true, changes: [{ field: 'apiKeyPolicy.rateLimit', action: 'set', from: null, to: { requests: 50, perSeconds: 1 } }] });
    expect(detailReads()).toEqual(['read app-b']);
  });

  it('reads every account in detail without summaries (full refresh)', async () => {
    await provisioned(w, 'app-a');
    await provisioned(w, 'app-b');
    w.keycloak.reads.length = 0;
    const plans = [await service.plan('platform', 'app-a', spec()), await service.plan('platform', 'app-b', spec())];
    expect(plans.map((p) => [p.action, p.detailed])).toEqual([['noop', true], ['noop', true]]);
    expect(w.keycloak.reads).toEqual(['read app-a', 'read app-b']);
  });

  it('misses a role mapping changed in Keycloak by hand from the summary (the documented bound), and a full refresh finds it', async () => {
    await provisioned(w, 'app-a');
    w.keycloak.clients.get('app-a')!.grants.realmRoles.push('admin');
    expect(await service.plan('platform', 'app-a', spec(), undefined, await summaries())).toMatchObject({ action: 'noop', detailed: false });
    expect(await service.plan('platform', 'app-a', spec())).toMatchObject({ action: 'update', changes: [{ field: 'realmRoles', action: 'remove', value: 'admin' }] });
  });

  it('reads in detail what the summary shows changed in Keycloak: the enabled flag, a scope, the client replaced', async () => {
    await provisioned(w, 'app-a');
    await provisioned(w, 'app-b');
    await provisioned(w, 'app-c');
    const a = w.keycloak.clients.get('app-a')!;
    a.spec = { ...a.spec!, enabled: false };
    w.keycloak.clients.get('app-b')!.grants.optionalScopes.push('email');
    w.keycloak.clients.get('app-c')!.id = 'kc-replaced';
    const clients = await summaries();
    w.keycloak.reads.length = 0;
    expect(await service.plan('platform', 'app-a', spec(), undefined, clients)).toMatchObject({ action: 'update', detailed: true, changes: [{ field: 'enabled', from: false, to: true }] });
    expect(await service.plan('platform', 'app-b', spec(), undefined, clients)).toMatchObject({ action: 'update', detailed: true });
    await expect(service.plan('platform', 'app-c', spec(), undefined, clients)).rejects.toMatchObject({ code: ErrorCode.AccountOrphaned });
    expect(detailReads()).toEqual(['read app-a', 'read app-b', 'read app-c']);
  });

  it('reads in detail an account whose row is not settled, or whose client carries another hash, until a change restamps it', async () => {
    const { row } = await provisioned(w, 'app-a');
    await provisioned(w, 'app-b');
    await w.rows.repository.update(row.id, { state: 'updating' });
    const b = w.keycloak.clients.get('app-b')!;
    b.spec = { ...b.spec!, specHash: 'an-older-formula' };
    const clients = await summaries();
    expect(await service.plan('platform', 'app-a', spec(), undefined, clients)).toMatchObject({ action: 'noop', detailed: true });
    expect(await service.plan('platform', 'app-b', spec(), undefined, clients)).toMatchObject({ action: 'noop', detailed: true });
    // An apply with nothing to change restamps the hash; the next plan trusts the summary again.
    const rowB = (await w.rows.find('platform', 'app-b'))!;
    const result = await w.reconcile.execute({ context: w.context, row: rowB, spec: spec(), catalog: w.catalog, options: {}, fence: new ScriptedFence() });
    expect(result.changes).toEqual([]);
    expect(await service.plan('platform', 'app-b', spec(), undefined, await summaries())).toMatchObject({ action: 'noop', detailed: false });
  });

  it('plans a new account from the list without a look-up, and refuses a name taken by a client Keysmith did not make', async () => {
    w.keycloak.seedClient('foreign');
    const clients = await summaries();
    w.keycloak.reads.length = 0;
    expect(await service.plan('platform', 'fresh', spec(), undefined, clients)).toMatchObject({ action: 'create', detailed: false });
    await expect(service.plan('platform', 'foreign', spec(), undefined, clients)).rejects.toMatchObject({ code: ErrorCode.ClientExists });
    expect(w.keycloak.reads).toEqual([]);
  });
});
