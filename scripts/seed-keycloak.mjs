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
const adminRoles = ['view-realm', 'query-clients', 'view-clients', 'manage-clients', 'query-users', 'view-users', 'manage-users', 'view-events'];
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

// Admin events let Keysmith follow changes made in Keycloak directly (it reads them with view-events;
// turning them on needs manage-events, which Keysmith does not hold, so the seed does it as admin).
// Without representations (they are not needed) and kept for a day.
async function ensureAdminEvents(realm) {
  const current = await kc.realms.findOne({ realm });
  if (current.adminEventsEnabled && current.attributes?.adminEventsExpiration === '86400') return;
  await kc.realms.update({ realm }, { adminEventsEnabled: true, adminEventsDetailsEnabled: false, attributes: { ...current.attributes, adminEventsExpiration: '86400' } });
}

for (const realm of realms) {
  await ensureRealm(realm);
  await ensureAdminEvents(realm);
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

// Callers for the authentication tests (test/auth*.e2e-spec.ts). Their secrets are set once at
// creation and never rewritten: tests read them through the admin API (test/support/auth.ts).
const adminScope = process.env.KEYSMITH_SEED_ADMIN_SCOPE ?? 'keysmith:admin';
scopeIds[adminScope] = (await ensureScope(jwtRealm, adminScope)).id;
const teamScopes = ['service-accounts:read', 'service-accounts:write', 'api-keys:read', 'api-keys:write', 'secrets:read'];

const ownerClaim = (owner) => ({
  name: 'keysmith-owner', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper',
  config: { 'claim.name': 'keysmith_owner', 'claim.value': owner, 'jsonType.label': 'String', 'access.token.claim': 'true', 'id.token.claim': 'false', 'userinfo.token.claim': 'false', 'introspection.token.claim': 'true' },
});
const audienceClaim = {
  name: 'keysmith-audience', protocol: 'openid-connect', protocolMapper: 'oidc-audience-mapper',
  config: { 'included.custom.audience': 'keysmith', 'access.token.claim': 'true', 'id.token.claim': 'false' },
};

async function ensureCaller(realm, clientId, { scopes = [], audience: withAudience = true, mappers = [], lifespanSeconds } = {}) {
  const existing = await findClient(realm, clientId);
  const representation = serviceAccountClient(clientId, undefined, {
    attributes: { 'oauth2.device.authorization.grant.enabled': 'false', ...(lifespanSeconds ? { 'access.token.lifespan': String(lifespanSeconds) } : {}) },
  });
  delete representation.secret;
  let id;
  if (existing) {
    await kc.clients.update({ realm, id: existing.id }, { ...existing, ...representation, attributes: { ...existing.attributes, ...representation.attributes } });
    id = existing.id;
  } else {
    ({ id } = await kc.clients.create({ realm, ...representation, secret: randomBytes(24).toString('base64url') }));
    console.log(`created client ${clientId} in ${realm}`);
  }
  const defaults = (await kc.clients.listDefaultClientScopes({ realm, id })).map((s) => s.name);
  const wanted = [...scopes, ...(withAudience && realm === jwtRealm ? ['keysmith-audience'] : [])];
  for (const name of wanted) {
    if (!defaults.includes(name)) {
      await kc.clients.addDefaultClientScope({ realm, id, clientScopeId: name === 'keysmith-audience' ? audience.id : scopeIds[name] });
    }
  }
  // Keysmith scopes and the audience are only what a client is given here: take away the rest.
  for (const name of defaults) {
    if ((name in scopeIds || name === 'keysmith-audience') && !wanted.includes(name)) {
      const scope = name === 'keysmith-audience' ? audience : { id: scopeIds[name] };
      await kc.clients.delDefaultClientScope({ realm, id, clientScopeId: scope.id });
    }
  }
  const present = (await kc.clients.listProtocolMappers({ realm, id })).map((m) => m.name);
  for (const mapper of mappers) {
    if (!present.includes(mapper.name)) await kc.clients.addProtocolMapper({ realm, id }, mapper);
  }
}

// Not Keysmith-managed, so Keysmith accepts their tokens only when listed in KEYSMITH_TRUSTED_CALLERS
// (written to the env file below).
const seededCallers = [testClientId, 'keysmith-auditor', 'keysmith-short-lived', 'keysmith-no-audience', 'keysmith-scopeless', 'keysmith-team-a', 'keysmith-team-b', 'keysmith-operator'];
await ensureCaller(jwtRealm, 'keysmith-auditor', { scopes: ['audit:read'] });
await ensureCaller(jwtRealm, 'keysmith-short-lived', { scopes: ['audit:read'], lifespanSeconds: 60 });
await ensureCaller(jwtRealm, 'keysmith-no-audience', { scopes: keysmithScopes, audience: false });
await ensureCaller(jwtRealm, 'keysmith-scopeless', {});
await ensureCaller(jwtRealm, 'keysmith-team-a', { scopes: teamScopes, mappers: [ownerClaim('team-a')] });
await ensureCaller(jwtRealm, 'keysmith-team-b', { scopes: teamScopes, mappers: [ownerClaim('team-b')] });
// An owner claim and the admin scope: the admin scope lifts the owner boundary.
await ensureCaller(jwtRealm, 'keysmith-operator', { scopes: [...keysmithScopes, adminScope], mappers: [ownerClaim('team-a')] });
// Same client id and audience, but tokens from another realm: another issuer and other keys.
if (realms.includes('partners')) await ensureCaller('partners', 'keysmith-tester', { mappers: [audienceClaim] });

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
  KEYSMITH_TRUSTED_CALLERS: seededCallers.join(','),
  KEYCLOAK_BOOTSTRAP_USER: process.env.KEYCLOAK_BOOTSTRAP_USER ?? 'admin',
  KEYCLOAK_BOOTSTRAP_PASSWORD: process.env.KEYCLOAK_BOOTSTRAP_PASSWORD ?? 'admin',
};
if (envFile) {
  mkdirSync(dirname(envFile), { recursive: true });
  writeFileSync(envFile, Object.entries(variables).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
}
console.log(`seeded realms ${realms.join(', ')}; Keysmith client ${adminClientId} in master`);
