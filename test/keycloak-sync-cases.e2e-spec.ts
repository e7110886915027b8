import { jest } from '@jest/globals';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { setFaultPoints } from '../src/common/faults/fault-points.js';
import { impactOf, KeycloakChangesReader, type AdminEvent } from '../src/keycloak/index.js';
import { KeycloakSyncService } from '../src/service-accounts/index.js';
import { authenticateSuite } from './support/auth.js';
import { createAccount, deleteAccount, issueKey, uniqueClientId } from './support/api-keys.js';
import { runJob } from './support/jobs.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { poll } from './support/poll.js';
import { parsePrometheusText } from './support/prometheus-text.js';
import { expectNoSecretInLogs, rememberSecret } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

jest.setTimeout(180_000);

// More cases of changes made in Keycloak behind Keysmith's back (see keycloak-sync.e2e-spec.ts):
// issuing against what Keycloak still grants, a secret regenerated there, the drift job's counts,
// and a realm whose admin events are off.

const REALM = 'platform';
const BOUND_SECONDS = 8;
/** Generous: three bounds. Polls end as soon as the behaviour shows. */
const WAIT_MS = 3 * BOUND_SECONDS * 1000;

const syncEnv = (mode: 'auto' | 'sweep', realms = REALM) => ({
  KEYSMITH_KEYCLOAK_SYNC: 'on',
  KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS: String(BOUND_SECONDS),
  KEYSMITH_KEYCLOAK_SYNC_MODE: mode,
  KEYSMITH_KEYCLOAK_SAFETY_SWEEP_MINUTES: '0',
  KEYSMITH_API_KEY_CACHE_TTL_MS: '1000',
  KEYSMITH_MANAGED_REALMS: realms,
  KEYSMITH_AUTH_CHECK_MAX_FAILURES: '100000',
});

async function clientOf(kc: KcAdminClient, realm: string, clientId: string) {
  const [client] = await kc.clients.find({ realm, clientId });
  return client as typeof client & { id: string };
}

const accountView = async (t: TestApp, realm: string, clientId: string) => (await t.inject({ method: 'GET', url: `/v1/realms/${realm}/service-accounts/${clientId}` })).json();
const checkKey = (t: TestApp, key: string) => t.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': key } });

describe('a scope removed in Keycloak is no longer issued', () => {
  let t: TestApp;
  let kc: KcAdminClient;
  const clientId = uniqueClientId('truth-issue');

  beforeAll(async () => {
    t = await createTestApp({ env: syncEnv('auto') });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(async () => {
    await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it('refuses to issue or rotate a key with it (SCOPE_NOT_ALLOWED, removed in Keycloak); the other scopes still issue', async () => {
    await createAccount(t, REALM, clientId, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
    const old = (await issueKey(t, REALM, clientId, { name: 'both', scopes: ['read:data', 'write:data'] })).json();
    const client = await clientOf(kc, REALM, clientId);
    const [scope] = (await kc.clientScopes.find({ realm: REALM })).filter((s) => s.name === 'write:data');
    await kc.clients.delOptionalClientScope({ realm: REALM, id: client.id, clientScopeId: scope.id! });
    const seen = await poll(() => accountView(t, REALM, clientId), (view) => view.keycloak.missingScopes.length > 0, WAIT_MS);
    expect(seen.effective.scopes).toEqual(['read:data']);

    const issued = await issueKey(t, REALM, clientId, { name: 'write', scopes: ['write:data'] });
    expect(issued.statusCode).toBe(422);
    expect(issued.headers['content-type']).toContain('application/problem+json');
    expect(issued.json()).toMatchObject({ code: 'SCOPE_NOT_ALLOWED', scopes: ['write:data'], removedInKeycloak: ['write:data'], allowed: ['read:data'] });
    expect(issued.json().detail).toMatch(/write:data.*removed .*in Keycloak|removed .*in Keycloak.*write:data/);

    const rotated = await t.inject({ method: 'POST', url: `/v1/api-keys/${old.id}/rotate`, payload: { graceHours: 0 } });
    expect(rotated.statusCode).toBe(422);
    expect(rotated.json()).toMatchObject({ code: 'SCOPE_NOT_ALLOWED', removedInKeycloak: ['write:data'] });

    expect((await issueKey(t, REALM, clientId, { name: 'read', scopes: ['read:data'] })).statusCode).toBe(201);
  });
});

describe("Keysmith's own changes in the admin events", () => {
  let t: TestApp;
  let kc: KcAdminClient;
  const clientId = uniqueClientId('truth-own');

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYSMITH_KEYCLOAK_SYNC: 'off', KEYSMITH_MANAGED_REALMS: REALM } });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(async () => {
    await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it("are told from anyone else's by the event's user: Keysmith's are not followed, the admin's are", async () => {
    const from = Date.now() - 5_000;
    await createAccount(t, REALM, clientId);
    const client = await clientOf(kc, REALM, clientId);
    await kc.clients.update({ realm: REALM, id: client.id }, { ...client, description: 'changed by an admin' });
    const reader = t.app.get(KeycloakChangesReader);
    const ofClient = async () => {
      const found: AdminEvent[] = [];
      for (let first = 0; ; first += 200) {
        const page = await reader.adminEvents(REALM, from, first, 200);
        found.push(...page.filter((event) => event.resourcePath === `clients/${client.id}`));
        if (page.length < 200) return found;
      }
    };
    const events = await poll(ofClient, (found) => found.some((event) => event.operationType === 'UPDATE'), WAIT_MS);
    const created = events.find((event) => event.operationType === 'CREATE')!;
    expect(created).toMatchObject({ byKeysmith: true });
    expect(impactOf(created)).toEqual({ kind: 'none' });
    const updated = events.filter((event) => event.operationType === 'UPDATE' && !event.byKeysmith);
    expect(updated).toHaveLength(1);
    expect(impactOf(updated[0])).toEqual({ kind: 'client', keycloakId: client.id, secret: false });
  });
});

describe.each(['auto', 'sweep'] as const)('a client secret regenerated in Keycloak (%s)', (mode) => {
  let t: TestApp;
  let kc: KcAdminClient;
  const clientId = uniqueClientId(`truth-secret-${mode}`);

  beforeAll(async () => {
    t = await createTestApp({ env: syncEnv(mode) });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(async () => {
    await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it('is detected and reported as the secret health check does (audit, metric)', async () => {
    await createAccount(t, REALM, clientId);
    const client = await clientOf(kc, REALM, clientId);
    const regenerated = await kc.clients.generateNewClientSecret({ realm: REALM, id: client.id });
    rememberSecret(regenerated.value);
    t.secrets.add(regenerated.value!);

    const mismatches = await poll(
      async () => (await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}&action=client_secret.mismatch` })).json().items as { outcome: string; detail: Record<string, unknown> }[],
      (items) => items.length > 0,
      WAIT_MS,
    );
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ outcome: 'failure', detail: { repair: false } });
    const metrics = parsePrometheusText((await t.inject({ method: 'GET', url: '/metrics' })).body);
    const counted = metrics.get('keysmith_secret_mismatches_total')!.samples.find((sample) => sample.labels.realm === REALM)!;
    expect(counted.value).toBeGreaterThanOrEqual(1);
    // Reported once per secret: later polls and sweeps do not report it again.
    await t.app.get(KeycloakSyncService).syncRealm(REALM, true);
    const again = (await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}&action=client_secret.mismatch` })).json().items;
    expect(again).toHaveLength(1);
  });
});

describe('the drift job counts every difference made in Keycloak, and failures apart', () => {
  let t: TestApp;
  let kc: KcAdminClient;
  // listAll orders by clientId: the account whose check fails comes first, so `@1` fails it alone.
  const suffix = uniqueClientId('');
  const names = { failing: `drift-a${suffix}`, deleted: `drift-b${suffix}`, disabled: `drift-c${suffix}`, scope: `drift-d${suffix}`, clean: `drift-e${suffix}` };

  beforeAll(async () => {
    // No sync: the job alone finds the differences (a deleted client stays an account with a gone client).
    t = await createTestApp({ env: { KEYSMITH_KEYCLOAK_SYNC: 'off', KEYSMITH_MANAGED_REALMS: REALM } });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(async () => {
    setFaultPoints(undefined);
    for (const clientId of Object.values(names)) await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it('counts a deleted client, a disabled client and a removed scope as drifted, a Keycloak failure as failed', async () => {
    for (const clientId of Object.values(names)) await createAccount(t, REALM, clientId);
    const deleted = await clientOf(kc, REALM, names.deleted);
    await kc.clients.del({ realm: REALM, id: deleted.id });
    const disabled = await clientOf(kc, REALM, names.disabled);
    await kc.clients.update({ realm: REALM, id: disabled.id }, { ...disabled, enabled: false });
    const scoped = await clientOf(kc, REALM, names.scope);
    const [scope] = (await kc.clientScopes.find({ realm: REALM })).filter((s) => s.name === 'write:data');
    await kc.clients.delOptionalClientScope({ realm: REALM, id: scoped.id, clientScopeId: scope.id! });

    setFaultPoints('keycloak.find-client=unavailable@1');
    let run: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      run = await runJob(t, 'drift');
    } finally {
      setFaultPoints(undefined);
    }
    expect(run.counts).toMatchObject({ checked: 5, drifted: 3, failed: 1 });
    expect(run.outcome).toBe('partial');
    const drifted = Object.fromEntries((run.details as { clientId: string; changes: unknown[] }[]).map((detail) => [detail.clientId, detail.changes]));
    expect(Object.keys(drifted).sort()).toEqual([names.deleted, names.disabled, names.scope].sort());
    expect(drifted[names.deleted]).toContainEqual(expect.objectContaining({ field: 'client' }));
    expect(drifted[names.disabled]).toContainEqual({ field: 'enabled', action: 'set', from: false, to: true, origin: 'keycloak' });
    expect(drifted[names.scope]).toContainEqual({ field: 'optionalScopes', action: 'add', value: 'write:data', origin: 'keycloak' });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(names.failing);

    const metrics = parsePrometheusText((await t.inject({ method: 'GET', url: '/metrics' })).body);
    expect(metrics.get('keysmith_drifted_service_accounts')!.samples.find((sample) => sample.labels.realm === REALM)!.value).toBe(3);
  });
});

describe('a realm with admin events off is followed by the sweep in auto mode', () => {
  const realm = uniqueClientId('truth-noevents');
  let kc: KcAdminClient;
  let t: TestApp | undefined;

  beforeAll(async () => {
    kc = await keycloakAdmin();
    await kc.realms.create({ realm, enabled: true, adminEventsEnabled: false });
    await kc.clientScopes.create({ realm, name: 'read:data', protocol: 'openid-connect' });
    // Keysmith's own client gets, for this realm only, the realm-management roles the seed gives it for the shared ones.
    const env = keycloakEnv();
    const keysmith = await clientOf(kc, 'master', env.KEYCLOAK_CLIENT_ID);
    const user = await kc.clients.getServiceAccountUser({ realm: 'master', id: keysmith.id });
    const realmClient = await clientOf(kc, 'master', `${realm}-realm`);
    const names = ['view-realm', 'query-clients', 'view-clients', 'manage-clients', 'query-users', 'view-users', 'manage-users', 'view-events'];
    const roles = await Promise.all(names.map((roleName) => kc.clients.findRole({ realm: 'master', id: realmClient.id, roleName })));
    const mappings = roles.map((role) => ({ id: role!.id!, name: role!.name! }));
    await kc.users.addClientRoleMappings({ realm: 'master', id: user.id!, clientUniqueId: realmClient.id, roles: mappings });
    await kc.clients.addClientScopeMappings({ realm: 'master', id: keysmith.id, client: realmClient.id }, mappings);
    t = await createTestApp({ env: syncEnv('auto', realm) });
    await authenticateSuite(t);
  });
  afterAll(async () => {
    await t?.close();
    // Deleting the realm also deletes its `<realm>-realm` client in master, and with it Keysmith's roles there.
    await (await keycloakAdmin()).realms.del({ realm });
  });

  it('refuses the keys of a client disabled behind its back, through a sweep', async () => {
    const app = t!;
    const clientId = uniqueClientId('truth-noevents');
    await createAccount(app, realm, clientId, { defaultScopes: ['read:data'], optionalScopes: [] });
    const key = (await issueKey(app, realm, clientId, { name: 'k', scopes: ['read:data'] })).json().key as string;
    expect((await checkKey(app, key)).statusCode).toBe(200);
    const client = await clientOf(kc, realm, clientId);
    await kc.clients.update({ realm, id: client.id }, { ...client, enabled: false });

    const refused = await poll(() => checkKey(app, key), (res) => res.statusCode === 401, WAIT_MS);
    expect(refused.json().reason).toBe('CLIENT_DISABLED');
    expect(await accountView(app, realm, clientId)).toMatchObject({ keycloak: { enabled: false }, effective: { enabled: false } });
    const audit = (await app.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}&action=service_account.keycloak_changed` })).json().items;
    expect(audit.length).toBeGreaterThan(0);
    const metrics = parsePrometheusText((await app.inject({ method: 'GET', url: '/metrics' })).body);
    // The realm is followed by sweeping (events gauge 0), and its calls were all made in sweep mode.
    expect(metrics.get('keysmith_keycloak_sync_events')!.samples.find((sample) => sample.labels.realm === realm)!.value).toBe(0);
    const calls = metrics.get('keysmith_keycloak_sync_calls_total')!.samples.filter((sample) => sample.labels.realm === realm);
    expect(calls.map((sample) => sample.labels.mode)).toEqual(['sweep']);
    expect(calls[0].value).toBeGreaterThan(0);
    await deleteAccount(app, realm, clientId);
  });
});

describe('closing', () => {
  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('keycloak-sync-cases');
  });
});
