// Seeds a local Keycloak for Keysmith: managed realms with roles, scopes and clients to grant,
// Keysmith's own least-privilege admin client, and a client for tests to get JWTs with.
// Idempotent: safe to run on every start. Writes the resulting variables to KEYSMITH_SEED_ENV_FILE.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import KcAdminClient from '@keycloak/keycloak-admin-client';

const url = process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8180';
const envFile = process.env.KEYSMITH_SEED_ENV_FILE;
const realms = (process.env.KEYSMITH_SEED_REALMS ?? 'platform,partners').split(',');
const jwtRealm = realms[0];
const adminClientId = 'keysmith-admin';
const testClientId = 'keysmith-tester';

// Keep in step with REQUIRED_REALM_MANAGEMENT_ROLES in src/keycloak/keycloak.service.ts.
const adminRoles = ['view-realm', 'query-clients', 'view-clients', 'manage-clients', 'query-users', 'view-users', 'manage-users'];
const keysmithScopes = [
  'service-accounts:read', 'service-accounts:write', 'api-keys:read', 'api-keys:write', 'api-keys:verify',
  'secrets:read', 'audit:read', 'jobs:read', 'jobs:run', 'gitops:apply',
];
const realmRoles = ['orders-reader', 'orders-writer', 'reports-viewer', 'admin'];
const grantScopes = ['read:data', 'write:data', 'reports:read'];

const previous = envFile && existsSync(envFile)
  ? Object.fromEntries(readFileSync(envFile, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  : {};
const secretFor = (name) => previous[name] || randomBytes(24).toString('base64url');

const kc = new KcAdminClient({ baseUrl: url, realmName: 'master' });
await kc.auth({
  grantType: 'password',
  clientId: 'admin-cli',
  username: process.env.KEYCLOAK_BOOTSTRAP_USER ?? 'admin',
  password: process.env.KEYCLOAK_BOOTSTRAP_PASSWORD ?? 'admin',
});

async function ensureRealm(realm) {
  if (!(await kc.realms.findOne({ realm }))) {
    await kc.realms.create({ realm, enabled: true, accessTokenLifespan: 300 });
    console.log(`created realm ${realm}`);
  }
}

async function ensureRealmRole(realm, name) {
  if (!(await kc.roles.findOneByName({ realm, name }))) await kc.roles.create({ realm, name, description: `seeded role ${name}` });
}

async function findClient(realm, clientId) {
  return (await kc.clients.find({ realm, clientId }))[0];
}

async function ensureClient(realm, representation) {
  const existing = await findClient(realm, representation.clientId);
  if (existing) {
    await kc.clients.update({ realm, id: existing.id }, { ...existing, ...representation });
    return existing.id;
  }
  const { id } = await kc.clients.create({ realm, ...representation });
  console.log(`created client ${representation.clientId} in ${realm}`);
  return id;
}

async function ensureScope(realm, name, extra = {}) {
  let scope = await kc.clientScopes.findOneByName({ realm, name });
  if (!scope) {
    await kc.clientScopes.create({
      realm, name, protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' },
      ...extra,
    });
    scope = await kc.clientScopes.findOneByName({ realm, name });
  }
  return scope;
}

// Client-secret rotation for Keysmith's clients only: a profile with the secret-rotation executor
// and a policy whose condition matches the keysmith.managed-by attribute. Other clients keep their
// secret policy. The periods are long on purpose: Keysmith's schedule decides when a secret is
// rotated and when a rotated one ends (it invalidates it after the grace window), not Keycloak.
async function ensureSecretRotationPolicy(realm) {
  const profileName = 'keysmith-secret-rotation';
  const { profiles = [] } = await kc.clientPolicies.listProfiles({ realm });
  const profile = {
    name: profileName,
    description: 'Keysmith-managed clients: the previous secret stays valid until Keysmith invalidates it',
    executors: [{ executor: 'secret-rotation', configuration: {
      'expiration-period': String(10 * 365 * 86400),
      'rotated-expiration-period': String(31 * 86400),
      'remaining-rotation-period': '1',
    } }],
  };
  await kc.clientPolicies.createProfiles({ realm, profiles: [...profiles.filter((p) => p.name !== profileName), profile] });
  const { policies = [] } = await kc.clientPolicies.listPolicies({ realm });
  const policy = {
    name: 'keysmith-managed-clients',
    description: 'Clients made by Keysmith',
    enabled: true,
    conditions: [{ condition: 'client-attributes', configuration: { attributes: JSON.stringify([{ key: 'keysmith.managed-by', value: 'keysmith' }]), is_negative_logic: false } }],
    profiles: [profileName],
  };
  await kc.clientPolicies.updatePolicy({ realm, policies: [...policies.filter((p) => p.name !== policy.name), policy] });
}

const serviceAccountClient = (clientId, secret, extra = {}) => ({
  clientId, protocol: 'openid-connect', enabled: true, publicClient: false, clientAuthenticatorType: 'client-secret',
  secret, serviceAccountsEnabled: true, standardFlowEnabled: false, implicitFlowEnabled: false,
  directAccessGrantsEnabled: false, frontchannelLogout: false, fullScopeAllowed: false,
  attributes: { 'oauth2.device.authorization.grant.enabled': 'false' }, ...extra,
});

for (const realm of realms) {
  await ensureRealm(realm);
  for (const role of realmRoles) await ensureRealmRole(realm, role);
  const ordersId = await ensureClient(realm, {
    clientId: 'orders-api', enabled: true, publicClient: false, serviceAccountsEnabled: false,
    standardFlowEnabled: false, directAccessGrantsEnabled: false, implicitFlowEnabled: false,
  });
  for (const name of ['read', 'write']) {
    if (!(await kc.clients.findRole({ realm, id: ordersId, roleName: name }))) await kc.clients.createRole({ realm, id: ordersId, name });
  }
  for (const name of grantScopes) await ensureScope(realm, name);
  await ensureSecretRotationPolicy(realm);
}

// Keysmith's own API scopes and audience live in the realm whose JWTs Keysmith accepts.
const scopeIds = {};
for (const name of keysmithScopes) scopeIds[name] = (await ensureScope(jwtRealm, name)).id;
const audience = await ensureScope(jwtRealm, 'keysmith-audience', {
  protocolMappers: [{
    name: 'keysmith-audience', protocol: 'openid-connect', protocolMapper: 'oidc-audience-mapper',
    config: { 'included.custom.audience': 'keysmith', 'access.token.claim': 'true', 'id.token.claim': 'false' },
  }],
  attributes: { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'false' },
});

// A client whose tokens carry every Keysmith scope and the audience: the tests' and quick start's caller.
const testSecret = secretFor('KEYSMITH_TEST_CLIENT_SECRET');
const testId = await ensureClient(jwtRealm, serviceAccountClient(testClientId, testSecret));
const testDefaults = (await kc.clients.listDefaultClientScopes({ realm: jwtRealm, id: testId })).map((s) => s.name);
for (const name of [...keysmithScopes, 'keysmith-audience']) {
  if (!testDefaults.includes(name)) {
    await kc.clients.addDefaultClientScope({ realm: jwtRealm, id: testId, clientScopeId: name === 'keysmith-audience' ? audience.id : scopeIds[name] });
  }
}

// Keysmith's own client lives in the master realm and holds, for each managed realm, only the
// realm-management roles it needs (on that realm's `<realm>-realm` client in master).
const adminSecret = secretFor('KEYCLOAK_CLIENT_SECRET');
const adminId = await ensureClient('master', serviceAccountClient(adminClientId, adminSecret));
const adminUser = await kc.clients.getServiceAccountUser({ realm: 'master', id: adminId });
for (const realm of realms) {
  const realmClient = await findClient('master', `${realm}-realm`);
  const roles = await Promise.all(adminRoles.map((roleName) => kc.clients.findRole({ realm: 'master', id: realmClient.id, roleName })));
  await kc.users.addClientRoleMappings({
    realm: 'master', id: adminUser.id, clientUniqueId: realmClient.id,
    roles: roles.map((role) => ({ id: role.id, name: role.name })),
  });
  // fullScopeAllowed is off: the roles must also be in the client's scope to reach its tokens.
  await kc.clients.addClientScopeMappings(
    { realm: 'master', id: adminId, client: realmClient.id },
    roles.map((role) => ({ id: role.id, name: role.name })),
  );
}

const variables = {
  KEYCLOAK_URL: url,
  KEYCLOAK_ADMIN_REALM: 'master',
  KEYCLOAK_CLIENT_ID: adminClientId,
  KEYCLOAK_CLIENT_SECRET: adminSecret,
  KEYSMITH_MANAGED_REALMS: realms.join(','),
  KEYSMITH_JWT_REALM: jwtRealm,
  KEYSMITH_TEST_CLIENT_ID: testClientId,
  KEYSMITH_TEST_CLIENT_SECRET: testSecret,
  KEYCLOAK_BOOTSTRAP_USER: process.env.KEYCLOAK_BOOTSTRAP_USER ?? 'admin',
  KEYCLOAK_BOOTSTRAP_PASSWORD: process.env.KEYCLOAK_BOOTSTRAP_PASSWORD ?? 'admin',
};
if (envFile) {
  mkdirSync(dirname(envFile), { recursive: true });
  writeFileSync(envFile, Object.entries(variables).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
}
console.log(`seeded realms ${realms.join(', ')}; Keysmith client ${adminClientId} in master`);
