import { jest } from '@jest/globals';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { authenticateSuite } from './support/auth.js';
import { createAccount, deleteAccount, issueKey, uniqueClientId } from './support/api-keys.js';
import { keycloakAdmin } from './support/keycloak-admin.js';
import { poll } from './support/poll.js';
import { parsePrometheusText } from './support/prometheus-text.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { DataSource } from 'typeorm';
import { KeycloakSyncService } from '../src/service-accounts/index.js';
import { pendingSchemaChanges } from './support/schema-check.js';

jest.setTimeout(120_000);

const REALM = 'platform';
/** A short bound, so the suite waits seconds, not a minute; the polls below wait up to three bounds. */
const BOUND_SECONDS = 8;
const WAIT_MS = 3 * BOUND_SECONDS * 1000;

const syncEnv = (mode: 'auto' | 'sweep') => ({
  KEYSMITH_KEYCLOAK_SYNC: 'on',
  KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS: String(BOUND_SECONDS),
  KEYSMITH_KEYCLOAK_SYNC_MODE: mode,
  KEYSMITH_KEYCLOAK_SAFETY_SWEEP_MINUTES: '0',
  KEYSMITH_API_KEY_CACHE_TTL_MS: '1000',
  KEYSMITH_MANAGED_REALMS: REALM,
  // The polls below send refused keys on purpose: no failure budget per address.
  KEYSMITH_AUTH_CHECK_MAX_FAILURES: '100000',
});

/** Each Keycloak-side change, how long it took to reach keys (read, not asserted: tests never assert on time). */
const measured: string[] = [];

async function clientOf(kc: KcAdminClient, clientId: string) {
  const [client] = await kc.clients.find({ realm: REALM, clientId });
  return client as typeof client & { id: string };
}

function suite(mode: 'auto' | 'sweep') {
  const label = mode === 'auto' ? 'admin events' : 'the sweep (admin events not used)';
  describe(`Keycloak stays the source of truth, followed through ${label}`, () => {
    let t: TestApp;
    let kc: KcAdminClient;
    const accounts: string[] = [];

    beforeAll(async () => {
      t = await createTestApp({ env: syncEnv(mode) });
      await authenticateSuite(t);
      kc = await keycloakAdmin();
    });
    afterAll(async () => {
      for (const clientId of accounts) await deleteAccount(t, REALM, clientId);
      await t.close();
    });

    const check = (key: string, scopes?: string) =>
      t.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': key, ...(scopes ? { 'x-required-scopes': scopes } : {}) } });
    const account = async (clientId: string) => (await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${clientId}` })).json();
    const plan = async (clientId: string, spec: Record<string, unknown>) =>
      (
        await t.inject({
          method: 'POST',
          url: '/v1/gitops/plan',
          payload: { definitions: [{ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: clientId, realm: REALM, owner: 'team-keys' }, spec }] },
        })
      ).json();
    const timed = async <T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
      const started = Date.now();
      const value = await poll(read, done, WAIT_MS);
      measured.push(`${label}: ${what} reached keys after ${((Date.now() - started) / 1000).toFixed(1)} s (bound ${BOUND_SECONDS} s)`);
      return value;
    };

    async function accountWithKey(prefix: string, realmRoles: string[] = []) {
      const clientId = uniqueClientId(prefix);
      accounts.push(clientId);
      await createAccount(t, REALM, clientId, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
      if (realmRoles.length) {
        const res = await t.inject({ method: 'PATCH', url: `/v1/realms/${REALM}/service-accounts/${clientId}`, payload: { realmRoles: { add: realmRoles } } });
        expect(res.statusCode).toBe(200);
      }
      const issued = (await issueKey(t, REALM, clientId, { name: 'k', scopes: ['read:data', 'write:data'] })).json();
      const key = issued.key as string;
      expect((await check(key)).statusCode).toBe(200);
      return { clientId, key, keyId: issued.id as string, client: await clientOf(kc, clientId) };
    }

    it('refuses the keys of a client disabled in Keycloak within the bound, shows it, plans it back; re-enabled, they pass', async () => {
      const { clientId, key, client } = await accountWithKey('truth-disable');
      await kc.clients.update({ realm: REALM, id: client.id }, { ...client, enabled: false });

      const refused = await timed('a disable', () => check(key), (res) => res.statusCode === 401);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().reason).toBe('CLIENT_DISABLED');
      const view = await account(clientId);
      expect(view).toMatchObject({ enabled: true, state: 'active', keycloak: { enabled: false, deleted: false }, effective: { enabled: false } });
      const planned = await plan(clientId, { enabled: true, defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
      expect(planned.accounts[0].changes).toContainEqual({ field: 'enabled', action: 'set', from: false, to: true, origin: 'keycloak' });

      await kc.clients.update({ realm: REALM, id: client.id }, { ...client, enabled: true });
      const passes = await timed('a re-enable', () => check(key), (res) => res.statusCode === 200);
      expect(passes.statusCode).toBe(200);
      expect((await account(clientId)).effective.enabled).toBe(true);
    });

    it('takes a scope removed in Keycloak from the keys, and plans it back', async () => {
      const { clientId, key, keyId, client } = await accountWithKey('truth-scope');
      const [scope] = (await kc.clientScopes.find({ realm: REALM })).filter((s) => s.name === 'write:data');
      await kc.clients.delOptionalClientScope({ realm: REALM, id: client.id, clientScopeId: scope.id! });

      const lost = await timed('a removed scope', () => check(key, 'write:data'), (res) => res.statusCode === 403);
      expect(lost.statusCode).toBe(403);
      expect((await check(key, 'read:data')).statusCode).toBe(200);
      expect((await account(clientId)).keycloak.missingScopes).toEqual(['write:data']);
      // The key's representation shows what it grants now, as verification judges it.
      expect((await t.inject({ method: 'GET', url: `/v1/api-keys/${keyId}` })).json()).toMatchObject({ issuedScopes: ['read:data', 'write:data'], scopes: ['read:data'] });
      const planned = await plan(clientId, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
      expect(planned.accounts[0].changes).toContainEqual({ field: 'optionalScopes', action: 'add', value: 'write:data', origin: 'keycloak' });
    });

    it('orphans the account of a client deleted in Keycloak: keys refused, audited, plan says so', async () => {
      const { clientId, key, client } = await accountWithKey('truth-delete');
      await kc.clients.del({ realm: REALM, id: client.id });

      const refused = await timed('a deletion', () => check(key), (res) => res.statusCode === 401);
      // Refused at once as its account is orphaned (CLIENT_DISABLED), then as revoked once the revocation policy has run.
      expect(['CLIENT_DISABLED', 'REVOKED']).toContain(refused.json().reason);
      const revoked = await poll(() => check(key), (res) => res.json().reason === 'REVOKED', WAIT_MS);
      expect(revoked.json().reason).toBe('REVOKED');
      expect(await account(clientId)).toMatchObject({ state: 'orphaned', keycloak: { deleted: true, enabled: false }, effective: { enabled: false } });
      const audit = (await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}&action=service_account.orphaned` })).json();
      expect(audit.items).toHaveLength(1);
      const planned = await plan(clientId, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
      expect(planned.accounts[0]).toMatchObject({ action: 'error', error: { code: 'ACCOUNT_ORPHANED' } });
      const drift = (await t.inject({ method: 'POST', url: '/v1/jobs/drift/run', payload: { dryRun: true } })).statusCode;
      expect(drift).toBe(202);
    });

    if (mode === 'auto') {
      it('follows role mappings of the service-account user (one event) and reports it as drift', async () => {
        const { clientId, client } = await accountWithKey('truth-roles', ['orders-reader']);
        const user = await kc.clients.getServiceAccountUser({ realm: REALM, id: client.id });
        const role = await kc.roles.findOneByName({ realm: REALM, name: 'orders-reader' });
        await kc.users.delRealmRoleMappings({ realm: REALM, id: user.id!, roles: [{ id: role!.id!, name: role!.name! }] });
        const view = await poll(() => account(clientId), (v) => v.keycloak.drift.length > 0, WAIT_MS);
        expect(view.keycloak.drift).toContainEqual({ field: 'realmRoles', action: 'add', value: 'orders-reader', origin: 'keycloak' });
      });

      it('sees a realm-wide scope deletion (one event, many accounts) and a composite edit that makes a grant forbidden', async () => {
        const scopeName = uniqueClientId('truth-scope');
        await kc.clientScopes.create({ realm: REALM, name: scopeName, protocol: 'openid-connect' });
        const scope = await kc.clientScopes.findOneByName({ realm: REALM, name: scopeName });
        const roleName = uniqueClientId('truth-role');
        await kc.roles.create({ realm: REALM, name: roleName });
        const holders = [uniqueClientId('truth-wide-a'), uniqueClientId('truth-wide-b')];
        for (const clientId of holders) {
          accounts.push(clientId);
          // Keysmith reads the realm's roles and scopes through a catalog cached for 5 s: the new ones appear within it.
          const res = await poll(
            () =>
              t.inject({
                method: 'POST',
                url: `/v1/realms/${REALM}/service-accounts`,
                payload: { clientId, owner: 'team-keys', realmRoles: [roleName], defaultScopes: ['read:data'], optionalScopes: [scopeName], apiKeyPolicy: { defaultTtlDays: 90, maxTtlDays: 90, rateLimit: null } },
              }),
            (answer) => answer.statusCode !== 422 && !(answer.statusCode === 403 && answer.body.includes('unverifiable')),
            WAIT_MS,
          );
          expect([res.statusCode, res.statusCode === 201 ? '' : res.body]).toEqual([201, '']);
          t.secrets.add(res.json().clientSecret);
        }
        await kc.clientScopes.del({ realm: REALM, id: scope!.id! });
        for (const clientId of holders) {
          const view = await poll(() => account(clientId), (v) => v.keycloak.missingScopes.length > 0, WAIT_MS);
          expect(view.effective.scopes).toEqual(['read:data']);
        }

        // The role now reaches realm-management's manage-users, which the guard rails forbid.
        const managementClient = (await kc.clients.find({ realm: REALM, clientId: 'realm-management' }))[0];
        const manageUsers = await kc.clients.findRole({ realm: REALM, id: managementClient.id!, roleName: 'manage-users' });
        const role = await kc.roles.findOneByName({ realm: REALM, name: roleName });
        await kc.roles.createComposite({ roleId: role!.id!, realm: REALM }, [manageUsers!]);
        const events = await poll(
          async () => (await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${holders[0]}&action=service_account.policy_violation` })).json().items as { detail: { forbidden: string[] } }[],
          // The deleted scope may be reported first (the accounts still name it): wait for the role's report.
          (items) => items.some((item) => item.detail.forbidden.includes(`realm:${roleName}`)),
          WAIT_MS,
        );
        expect(events.flatMap((item) => item.detail.forbidden)).toContain(`realm:${roleName}`);
        for (const clientId of holders) await deleteAccount(t, REALM, clientId);
        await kc.roles.delByName({ realm: REALM, name: roleName });
      });
    }

    if (mode === 'sweep') {
      it('sweeps on time after a last-sweep stamp two minutes in the future (an older version stamped with a clock running ahead)', async () => {
        const db = t.app.get(DataSource);
        await t.app.get(KeycloakSyncService).syncRealm(REALM, true);
        await db.query(`UPDATE "keycloak_sync_state" SET "last_sweep_at" = ${Date.now() + 120_000} WHERE "realm" = '${REALM}'`);
        const read = async () => Number((await db.query(`SELECT "last_sweep_at" AS "at" FROM "keycloak_sync_state" WHERE "realm" = '${REALM}'`))[0].at);
        // The next sweep comes at its interval and stamps this instance's time: the stamp ahead of it did not hold it back.
        expect(await poll(read, (at) => at <= Date.now(), WAIT_MS)).toBeLessThanOrEqual(Date.now());
      });
    }

    it(`reports its mode and counts its Keycloak calls (${mode})`, async () => {
      const result = await t.app.get(KeycloakSyncService).syncRealm(REALM, true);
      expect(result).toMatchObject({ realm: REALM, mode: mode === 'auto' ? 'events' : 'sweep' });
      expect(result!.calls).toBeGreaterThan(0);
      const metrics = parsePrometheusText((await t.inject({ method: 'GET', url: '/metrics' })).body);
      const events = metrics.get('keysmith_keycloak_sync_events')!.samples.find((sample) => sample.labels.realm === REALM)!;
      expect(events.value).toBe(mode === 'auto' ? 1 : 0);
      measured.push(`${label}: one forced sync of realm ${REALM} took ${result!.calls} Keycloak calls`);
    });
  });
}

suite('auto');
suite('sweep');

describe('Keycloak unreachable', () => {
  it('stays ready (degraded) and keeps verifying keys from the database', async () => {
    const t = await createTestApp({ env: { KEYSMITH_MANAGED_REALMS: REALM } });
    await authenticateSuite(t);
    const clientId = uniqueClientId('truth-outage');
    await createAccount(t, REALM, clientId, { defaultScopes: ['read:data'], optionalScopes: [] });
    const key = (await issueKey(t, REALM, clientId, { name: 'k', scopes: ['read:data'] })).json().key as string;
    // A second instance on the same database whose Keycloak is a closed port.
    const down = await createTestApp({ dataDir: t.dataDir, env: { KEYSMITH_MANAGED_REALMS: REALM, KEYCLOAK_URL: 'http://127.0.0.1:9', KEYCLOAK_MAX_RETRIES: '0' } });
    try {
      // The migration of this feature matches its entities (portable columns, the new table and index).
      expect(await pendingSchemaChanges(t.app.get(DataSource))).toEqual([]);
      const ready = await down.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'degraded', details: { database: { status: 'up' }, keycloak: { status: 'degraded' } } });
      expect((await down.inject({ method: 'GET', url: '/readyz/keycloak' })).statusCode).toBe(503);
      const verified = await down.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': key } });
      expect(verified.statusCode).toBe(200);
      const metrics = parsePrometheusText((await down.inject({ method: 'GET', url: '/metrics' })).body);
      expect(metrics.get('keysmith_keycloak_up')!.samples[0].value).toBe(0);
    } finally {
      await down.close();
      await deleteAccount(t, REALM, clientId);
      await t.close();
    }
  });
});

describe('closing', () => {
  it('logs no secret this suite knows of', () => {
    process.stdout.write(`${measured.join('\n')}\n`);
    expect(measured.length).toBeGreaterThan(0);
    expectNoSecretInLogs('keycloak-sync');
  });
});
