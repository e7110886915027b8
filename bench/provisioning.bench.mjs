// Provisioning: 50 service accounts with 2 realm roles and 2 scopes each, created through
// Keysmith's HTTP API, against making the same Admin REST calls directly with the admin client.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { adminToken, keycloakEnv, report, startKeysmith, suffix } from './support.mjs';

const COUNT = 50;
const realm = 'platform';
const spec = { owner: 'bench', realmRoles: ['orders-reader', 'reports-viewer'], defaultScopes: ['read:data', 'reports:read'] };

async function direct(kc, ids) {
  // The calls Keysmith makes per account: find, create (scopes in the representation), read
  // service-account user, default and optional scopes and role mappings, grant roles, drop default roles.
  const roles = await kc.roles.find({ realm });
  const byName = new Map(roles.map((r) => [r.name, r]));
  const started = performance.now();
  for (const clientId of ids) {
    await kc.clients.find({ realm, clientId });
    const { id } = await kc.clients.create({
      realm, clientId, publicClient: false, serviceAccountsEnabled: true, standardFlowEnabled: false, directAccessGrantsEnabled: false,
      implicitFlowEnabled: false, frontchannelLogout: false, fullScopeAllowed: true,
      attributes: { 'keysmith.managed-by': 'bench' }, defaultClientScopes: ['basic', 'roles', 'service_account', ...spec.defaultScopes],
      optionalClientScopes: [],
    });
    const user = await kc.clients.getServiceAccountUser({ realm, id });
    await kc.clients.listDefaultClientScopes({ realm, id });
    await kc.clients.listOptionalClientScopes({ realm, id });
    await kc.users.listRoleMappings({ realm, id: user.id });
    await kc.users.addRealmRoleMappings({ realm, id: user.id, roles: spec.realmRoles.map((n) => ({ id: byName.get(n).id, name: n })) });
    const dflt = byName.get(`default-roles-${realm}`);
    await kc.users.delRealmRoleMappings({ realm, id: user.id, roles: [{ id: dflt.id, name: dflt.name }] });
  }
  return performance.now() - started;
}

export default async function provisioningBench() {
  const env = keycloakEnv();
  const kc = new KcAdminClient({ baseUrl: env.KEYCLOAK_URL, realmName: 'master' });
  await kc.auth({ grantType: 'client_credentials', clientId: env.KEYCLOAK_CLIENT_ID, clientSecret: env.KEYCLOAK_CLIENT_SECRET });
  const { app, url } = await startKeysmith();
  const token = await adminToken();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const run = suffix();
  const directIds = Array.from({ length: COUNT }, (_, i) => `bench-direct-${run}-${i}`);
  const keysmithIds = Array.from({ length: COUNT }, (_, i) => `bench-ks-${run}-${i}`);

  // Warm both paths once (token, connections, catalog) before measuring.
  await direct(kc, [`bench-warm-d-${run}`]);
  await fetch(`${url}/v1/realms/${realm}/service-accounts`, { method: 'POST', headers, body: JSON.stringify({ ...spec, clientId: `bench-warm-k-${run}` }) });

  const directMs = await direct(kc, directIds);
  const started = performance.now();
  for (const clientId of keysmithIds) {
    const res = await fetch(`${url}/v1/realms/${realm}/service-accounts`, { method: 'POST', headers, body: JSON.stringify({ ...spec, clientId }) });
    if (res.status !== 201) throw new Error(`create ${clientId}: ${res.status} ${await res.text()}`);
  }
  const keysmithMs = performance.now() - started;
  report(`create ${COUNT} service accounts (2 roles, 2 scopes): total`, keysmithMs, 'ms', directMs, '<= 1.2');
  report('  per account', keysmithMs / COUNT, 'ms', directMs / COUNT);

  // Clean up what the benchmark made.
  for (const clientId of [...directIds, `bench-warm-d-${run}`]) {
    const [client] = await kc.clients.find({ realm, clientId });
    if (client) await kc.clients.del({ realm, id: client.id });
  }
  for (const clientId of [...keysmithIds, `bench-warm-k-${run}`]) {
    await fetch(`${url}/v1/realms/${realm}/service-accounts/${clientId}`, { method: 'DELETE', headers });
  }
  await app.close();
}
