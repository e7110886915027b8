import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { jest } from '@jest/globals';
import { GrantValidator } from '../src/service-accounts/policy/grant-validator.js';
import { SEEDED_CALLERS, authHeaders, authenticateSuite, remember, tokenFor } from './support/auth.js';
import { keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { runJob } from './support/jobs.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

/**
 * The escalation table: each attempt grants, through Keysmith, something that gives more than it
 * names (composites, client scopes with mappers or role scope mappings, Keysmith's own scopes).
 * A caller confined to owner team-a without admin rights is refused with the path; an entitled
 * caller (a policy `allow`, or a holder of the Keysmith scope) succeeds, and Keycloak's own
 * evaluation (effective role mappings, example access token) matches what Keysmith predicted.
 */
// Each attempt makes several Admin REST calls on a Keycloak shared with other suites.
jest.setTimeout(60_000);

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;
const p = uniqueClientId('esc').replace(/^esc-/, 'e');
const role = (name: string) => `${p}-${name}`;
const tools = `${p}-tools`;
const rmRoleName = (name: string) => `client:realm-management:${name}`;

type Grant = { realmRoles?: string[]; clientRoles?: Record<string, string[]>; defaultScopes?: string[]; optionalScopes?: string[] };
interface Attempt {
  name: string;
  grant: Grant;
  /** A path the refusal names, from the grant to what makes it forbidden. */
  path: string[];
  /** Who may make the same grant: the policy-allow instance, or a caller holding Keysmith's scopes. */
  entitled: 'policy allow' | 'admin token';
  /** A claim the example token carries because of the grant (mapper cases), instead of the role comparison. */
  forgedClaim?: string;
}

const ATTEMPTS: Attempt[] = [
  { name: 'a realm-management role, directly', grant: { clientRoles: { 'realm-management': ['view-users'] } }, path: [rmRoleName('view-users')], entitled: 'policy allow' },
  { name: 'a realm composite containing realm-admin', grant: { realmRoles: [role('rm-admin')] }, path: [`realm:${role('rm-admin')}`, rmRoleName('realm-admin')], entitled: 'policy allow' },
  { name: 'a composite of manage-realm and manage-users', grant: { realmRoles: [role('mr-mu')] }, path: [`realm:${role('mr-mu')}`, rmRoleName('manage-users')], entitled: 'policy allow' },
  { name: 'realm-in-realm, one level deeper', grant: { realmRoles: [role('outer')] }, path: [`realm:${role('outer')}`, `realm:${role('inner')}`, rmRoleName('manage-users')], entitled: 'policy allow' },
  { name: 'client-in-realm', grant: { realmRoles: [role('cir')] }, path: [`realm:${role('cir')}`, `client:${tools}:nested`, rmRoleName('view-users')], entitled: 'policy allow' },
  { name: 'realm-in-client', grant: { clientRoles: { [tools]: ['ric'] } }, path: [`client:${tools}:ric`, `realm:${role('inner')}`, rmRoleName('manage-users')], entitled: 'policy allow' },
  { name: "another client's role containing realm-admin", grant: { clientRoles: { [tools]: ['super'] } }, path: [`client:${tools}:super`, rmRoleName('realm-admin')], entitled: 'policy allow' },
  { name: 'a composite containing admin', grant: { realmRoles: [role('boss')] }, path: [`realm:${role('boss')}`, 'realm:admin'], entitled: 'policy allow' },
  { name: 'offline_access as a role', grant: { realmRoles: ['offline_access'] }, path: ['realm:offline_access'], entitled: 'policy allow' },
  { name: 'offline_access as a scope', grant: { optionalScopes: ['offline_access'] }, path: ['scope:offline_access'], entitled: 'policy allow' },
  { name: 'a broker role', grant: { clientRoles: { broker: ['read-token'] } }, path: ['client:broker:read-token'], entitled: 'policy allow' },
  { name: 'an account role', grant: { clientRoles: { account: ['view-profile'] } }, path: ['client:account:view-profile'], entitled: 'policy allow' },
  { name: 'a scope with a hardcoded-role mapper adding admin', grant: { defaultScopes: [role('hr-admin')] }, path: [`scope:${role('hr-admin')}`, 'mapper:add-admin', 'realm:admin'], entitled: 'policy allow' },
  { name: 'a scope with a hardcoded-claim mapper writing realm_access', grant: { defaultScopes: [role('forge-roles')] }, path: [`scope:${role('forge-roles')}`, 'mapper:forge'], entitled: 'policy allow', forgedClaim: 'realm_access' },
  { name: 'a scope with a hardcoded-claim mapper writing the owner claim', grant: { defaultScopes: [role('forge-owner')] }, path: [`scope:${role('forge-owner')}`, 'mapper:forge'], entitled: 'policy allow', forgedClaim: 'keysmith_owner' },
  { name: 'a scope with a forbidden role scope mapping', grant: { defaultScopes: [role('mapped')] }, path: [`scope:${role('mapped')}`, rmRoleName('realm-admin')], entitled: 'policy allow' },
  { name: 'keysmith:admin, self-granted', grant: { optionalScopes: ['keysmith:admin'] }, path: ['scope:keysmith:admin'], entitled: 'admin token' },
  { name: 'audit:read, self-granted', grant: { optionalScopes: ['audit:read'] }, path: ['scope:audit:read'], entitled: 'admin token' },
  { name: 'jobs:run, self-granted', grant: { optionalScopes: ['jobs:run'] }, path: ['scope:jobs:run'], entitled: 'admin token' },
];

describe('Authority: grants are judged by what they really give (real Keycloak)', () => {
  let strict: TestApp;
  let entitled: TestApp;
  let kc: KcAdminClient;
  let policyDir: string;
  let teamA: Record<string, string>;
  let operator: Record<string, string>;
  const made: string[] = [];

  beforeAll(async () => {
    kc = await keycloakAdmin();
    await createFixtures(kc);
    policyDir = mkdtempSync(join(tmpdir(), 'keysmith-policy-'));
    const policyFile = join(policyDir, 'policy.yaml');
    writeFileSync(
      policyFile,
      [
        `allow: ["realm:${p}-*", "client:${tools}:*", "scope:${p}-*", "client:realm-management:view-users", "realm:offline_access",`,
        '  "scope:offline_access", "client:broker:read-token", "client:account:view-profile"]',
        '',
      ].join('\n'),
    );
    strict = await createTestApp();
    entitled = await createTestApp({ env: { KEYSMITH_GRANT_POLICY_FILE: policyFile } });
    await authenticateSuite(strict);
    await authenticateSuite(entitled);
    teamA = authHeaders(remember(strict.secrets, await tokenFor(SEEDED_CALLERS.teamA)));
    operator = authHeaders(remember(strict.secrets, await tokenFor(SEEDED_CALLERS.operator)));
  });

  afterAll(async () => {
    const admin = await keycloakAdmin();
    for (const clientId of made) {
      const [client] = await admin.clients.find({ realm, clientId });
      if (client) await admin.clients.del({ realm, id: client.id! });
    }
    await removeFixtures(admin);
    expect(strict.logs.leaked(strict.secrets)).toEqual([]);
    await strict.close();
    await entitled.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  const body = (clientId: string, grant: Grant) => ({ clientId, owner: 'team-a', realmRoles: [], clientRoles: {}, defaultScopes: [], optionalScopes: [], ...grant });

  async function expectRefused(t: TestApp, res: { statusCode: number; json(): any }, clientId: string, attempt: Pick<Attempt, 'path'>) { // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(res.statusCode).toBe(403);
    const problem = res.json();
    expect(problem).toMatchObject({ code: 'GRANT_FORBIDDEN', forbidden: expect.arrayContaining([attempt.path[0]]) });
    expect(problem.violations).toEqual(expect.arrayContaining([expect.objectContaining({ grant: attempt.path[0], path: attempt.path })]));
    expect(problem.detail).toContain(attempt.path.join(' → '));
    const events = (await t.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.grant_refused&clientId=${clientId}` })).json();
    expect(events.items).toEqual([expect.objectContaining({ outcome: 'failure', clientId, actor: expect.objectContaining({ type: 'jwt' }) })]);
  }

  async function expectNothingMade(clientId: string) {
    expect(await kc.clients.find({ realm, clientId })).toEqual([]);
  }

  describe.each(ATTEMPTS.map((attempt) => [attempt.name, attempt] as const))('%s', (_name, attempt) => {
    it('is refused for an owner-confined caller without admin rights: 403 with the path, audited, nothing made', async () => {
      const clientId = uniqueClientId('esc');
      const res = await strict.inject({ method: 'POST', url: base, headers: teamA, payload: body(clientId, attempt.grant) });
      await expectRefused(strict, res, clientId, attempt);
      await expectNothingMade(clientId);
    });

    it(`succeeds for an entitled caller (${attempt.entitled}), and Keycloak gives what Keysmith predicted`, async () => {
      const clientId = uniqueClientId('esc-ok');
      made.push(clientId);
      const app = attempt.entitled === 'policy allow' ? entitled : strict;
      const headers = attempt.entitled === 'policy allow' ? teamA : operator;
      const res = await app.inject({ method: 'POST', url: base, headers, payload: body(clientId, attempt.grant) });
      expect(res.statusCode).toBe(201);
      app.secrets.add(res.json().clientSecret);
      const verdict = await app.app.get(GrantValidator).validate({ callerScopes: null }, realm, {
        realmRoles: attempt.grant.realmRoles ?? [],
        clientRoles: attempt.grant.clientRoles ?? {},
        scopes: [...(attempt.grant.defaultScopes ?? []), ...(attempt.grant.optionalScopes ?? [])],
      });
      const keycloak = await keycloakView(res.json().keycloakId, attempt.grant.optionalScopes ?? []);
      for (const held of keycloak.effectiveRoles) expect(verdict.effectiveRoles).toContain(held);
      if (attempt.forgedClaim) {
        expect(keycloak.token[attempt.forgedClaim]).toBeDefined();
      } else {
        expect(keycloak.tokenRoles).toEqual(verdict.effectiveRoles);
      }
      if (attempt.entitled === 'admin token') {
        for (const scope of attempt.grant.optionalScopes ?? []) expect(String(keycloak.token.scope).split(' ')).toContain(scope);
      }
    });
  });

  it('PUT is judged like create', async () => {
    const clientId = uniqueClientId('esc-put');
    const attempt = { path: [`realm:${role('outer')}`, `realm:${role('inner')}`, rmRoleName('manage-users')] };
    const res = await strict.inject({ method: 'PUT', url: `${base}/${clientId}`, headers: teamA, payload: { ...body(clientId, { realmRoles: [role('outer')] }), clientId: undefined } });
    await expectRefused(strict, res, clientId, attempt);
    await expectNothingMade(clientId);
    made.push(clientId);
    const allowed = await entitled.inject({ method: 'PUT', url: `${base}/${clientId}`, headers: teamA, payload: { ...body(clientId, { realmRoles: [role('outer')] }), clientId: undefined } });
    expect(allowed.statusCode).toBe(201);
    entitled.secrets.add(allowed.json().clientSecret);
  });

  it('PATCH adding a forbidden composite is refused and leaves the account as it was', async () => {
    const clientId = uniqueClientId('esc-patch');
    made.push(clientId);
    const created = await strict.inject({ method: 'POST', url: base, headers: teamA, payload: body(clientId, { realmRoles: [role('plain')] }) });
    expect(created.statusCode).toBe(201);
    strict.secrets.add(created.json().clientSecret);
    const res = await strict.inject({ method: 'PATCH', url: `${base}/${clientId}`, headers: teamA, payload: { realmRoles: { add: [role('cir')], remove: [] } } });
    await expectRefused(strict, res, clientId, { path: [`realm:${role('cir')}`, `client:${tools}:nested`, rmRoleName('view-users')] });
    expect((await keycloakView(created.json().keycloakId, [])).effectiveRoles).toEqual([`realm:${role('plain')}`]);
    // Unchanged grants are not judged again: the owner can still change its description.
    const described = await strict.inject({ method: 'PATCH', url: `${base}/${clientId}`, headers: teamA, payload: { description: 'still fine' } });
    expect(described.statusCode).toBe(200);
  });

  it('GitOps plan flags the forbidden grant with its path, and apply refuses it; an entitled instance applies it', async () => {
    const clientId = uniqueClientId('esc-gitops');
    made.push(clientId);
    const definitions = [{ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: clientId, realm, owner: 'team-a' }, spec: { clientRoles: { [tools]: ['super'] } } }];
    const plan = await strict.inject({ method: 'POST', url: '/v1/gitops/plan', payload: { definitions } });
    expect(plan.statusCode).toBe(200);
    const [account] = plan.json().accounts;
    expect(account).toMatchObject({ action: 'create', forbidden: [`client:${tools}:super`] });
    expect(account.violations).toEqual([expect.objectContaining({ path: [`client:${tools}:super`, rmRoleName('realm-admin')], reason: 'denied' })]);
    expect(plan.json().summary.forbidden).toBe(1);
    const apply = await strict.inject({ method: 'POST', url: '/v1/gitops/apply', payload: { definitions } });
    expect(apply.json()).toMatchObject({ ok: false, failed: [expect.objectContaining({ clientId, code: 'GRANT_FORBIDDEN' })] });
    expect(apply.json().failed[0].detail).toContain(`client:${tools}:super → ${rmRoleName('realm-admin')}`);
    await expectNothingMade(clientId);
    const allowed = await entitled.inject({ method: 'POST', url: '/v1/gitops/apply', payload: { definitions } });
    expect(allowed.json()).toMatchObject({ ok: true, applied: [expect.objectContaining({ clientId, action: 'created' })] });
  });

  it('a composite made forbidden after it was granted: the drift job and the next start report it, the account is unchanged', async () => {
    const clientId = uniqueClientId('esc-later');
    made.push(clientId);
    const created = await strict.inject({ method: 'POST', url: base, headers: teamA, payload: body(clientId, { realmRoles: [role('later')] }) });
    expect(created.statusCode).toBe(201);
    strict.secrets.add(created.json().clientSecret);
    const later = await kc.roles.findOneByName({ realm, name: role('later') });
    await kc.roles.createComposite({ realm, roleId: later!.id! }, [await rmRole(kc, 'manage-users')]);

    // Past the few seconds for which Keysmith reuses what it read of a role.
    strict.clock.advance(60_000);
    const run = await runJob(strict, 'drift');
    expect(run.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ clientId, policyViolations: [expect.objectContaining({ path: [`realm:${role('later')}`, rmRoleName('manage-users')] })] })]),
    );
    const events = (await strict.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.policy_violation&clientId=${clientId}` })).json();
    expect(events.items.length).toBeGreaterThanOrEqual(1);
    const metrics = await strict.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(new RegExp(`keysmith_policy_violations\\{realm="${realm}"\\} [1-9]`));
    const effective = (await keycloakView(created.json().keycloakId, [])).effectiveRoles;
    expect(effective).toEqual(expect.arrayContaining([`realm:${role('later')}`, rmRoleName('manage-users')]));

    // A second instance on the same database reports it at start-up (the upgrade path).
    const next = await createTestApp({ dataDir: strict.dataDir });
    try {
      await authenticateSuite(next);
      const startupReports = async () =>
        ((await next.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.policy_violation&clientId=${clientId}` })).json().items as { actor: { type: string; id: string } }[])
          .filter((event) => event.actor.type === 'job' && event.actor.id === 'startup');
      for (let i = 0; i < 200 && (await startupReports()).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(await startupReports()).toEqual([expect.objectContaining({ detail: expect.objectContaining({ forbidden: [`realm:${role('later')}`] }) })]);
    } finally {
      await next.close();
    }
    expect((await kc.clients.find({ realm, clientId }))[0]).toBeDefined();
  });

  /**
   * An account made on `app` holding the role `name`; the role then becomes a way to manage-users,
   * and a realm admin takes it away from the account in Keycloak. `app`'s clock moves past its
   * cached role reads.
   */
  async function grantedThenTakenAway(app: TestApp, prefix: string, name: string) {
    const clientId = uniqueClientId(prefix);
    made.push(clientId);
    const created = await app.inject({ method: 'POST', url: base, headers: teamA, payload: body(clientId, { realmRoles: [role(name)] }) });
    expect(created.statusCode).toBe(201);
    app.secrets.add(created.json().clientSecret);
    const taken = (await kc.roles.findOneByName({ realm, name: role(name) }))!;
    await kc.roles.createComposite({ realm, roleId: taken.id! }, [await rmRole(kc, 'manage-users')]);
    const user = await kc.clients.getServiceAccountUser({ realm, id: created.json().keycloakId });
    await kc.users.delRealmRoleMappings({ realm, id: user.id!, roles: [{ id: taken.id!, name: taken.name! }] });
    app.clock.advance(60_000);
    return { clientId, created };
  }

  it('a role taken away in Keycloak once it became forbidden is not granted again: neither by a PATCH of something else nor by the drift repair', async () => {
    const { clientId, created } = await grantedThenTakenAway(strict, 'esc-regrant', 'regrant');

    const patched = await strict.inject({ method: 'PATCH', url: `${base}/${clientId}`, headers: teamA, payload: { description: 'a typo fixed' } });
    expect(patched.statusCode).toBe(403);
    expect(patched.json()).toMatchObject({ code: 'GRANT_FORBIDDEN', forbidden: [`realm:${role('regrant')}`] });
    expect((await keycloakView(created.json().keycloakId, [])).effectiveRoles).not.toContain(`realm:${role('regrant')}`);

    const repairing = await createTestApp({ dataDir: strict.dataDir, env: { KEYSMITH_DRIFT_REPAIR: 'true' } });
    try {
      await authenticateSuite(repairing);
      repairing.clock.advance(60_000);
      const run = await runJob(repairing, 'drift');
      expect(run.errors).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${realm}/${clientId}: GRANT_FORBIDDEN: `))]));
    } finally {
      await repairing.close();
    }
    expect((await keycloakView(created.json().keycloakId, [])).effectiveRoles).not.toContain(`realm:${role('regrant')}`);
  });

  it('a role taken away in Keycloak is granted again by a PATCH of something else where the policy allows it, and Keycloak holds it again', async () => {
    const { clientId, created } = await grantedThenTakenAway(entitled, 'esc-regiven', 'regiven');
    expect((await keycloakView(created.json().keycloakId, [])).effectiveRoles).not.toContain(`realm:${role('regiven')}`);
    strict.clock.advance(60_000);
    // The strict policy forbids it now; this instance's policy allows it.
    const grant = { realmRoles: [role('regiven')], clientRoles: {}, scopes: [] };
    expect((await strict.app.get(GrantValidator).validate({ callerScopes: null }, realm, grant)).violations).toEqual([
      expect.objectContaining({ grant: `realm:${role('regiven')}`, path: [`realm:${role('regiven')}`, rmRoleName('manage-users')] }),
    ]);

    const patched = await entitled.inject({ method: 'PATCH', url: `${base}/${clientId}`, headers: teamA, payload: { description: 'a typo fixed' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().changes).toEqual(expect.arrayContaining([{ field: 'realmRoles', action: 'add', value: role('regiven'), origin: 'keycloak' }]));
    expect(patched.json()).toMatchObject({ description: 'a typo fixed', realmRoles: [role('regiven')] });
    expect((await keycloakView(created.json().keycloakId, [])).effectiveRoles).toEqual(expect.arrayContaining([`realm:${role('regiven')}`, rmRoleName('manage-users')]));
    const refusals = (await entitled.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.grant_refused&clientId=${clientId}` })).json();
    expect(refusals.items).toEqual([]);
  });

  it('logs none of the secrets, keys and tokens this suite saw', () => {
    expectNoSecretInLogs('authority-grants');
  });

  /** Keycloak's own evaluation: the service-account user's effective roles and an example access token. */
  async function keycloakView(keycloakId: string, optionalScopes: string[]) {
    const admin = await keycloakAdmin();
    const user = await admin.clients.getServiceAccountUser({ realm, id: keycloakId });
    const realmRoles = await admin.users.listCompositeRealmRoleMappings({ realm, id: user.id! });
    const scope = ['openid', ...optionalScopes].join(' ');
    const url = `${keycloakEnv().KEYCLOAK_URL}/admin/realms/${realm}/clients/${keycloakId}/evaluate-scopes/generate-example-access-token?scope=${encodeURIComponent(scope)}&userId=${user.id}`;
    const token = (await (await fetch(url, { headers: { authorization: `Bearer ${admin.accessToken}` } })).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // Client roles the user holds, directly or through realm composites, of every client that could give one here.
    const clients = new Set(['realm-management', 'broker', 'account', tools, ...Object.keys(token.resource_access ?? {})]);
    const clientRoles: string[] = [];
    for (const clientId of clients) {
      const [client] = await admin.clients.find({ realm, clientId });
      const composite = await admin.users.listCompositeClientRoleMappings({ realm, id: user.id!, clientUniqueId: client.id! });
      clientRoles.push(...composite.map((r) => `client:${clientId}:${r.name}`));
    }
    const tokenRoles = [
      ...(token.realm_access?.roles ?? []).map((r: string) => `realm:${r}`),
      ...Object.entries((token.resource_access ?? {}) as Record<string, { roles: string[] }>).flatMap(([c, a]) => a.roles.map((r) => `client:${c}:${r}`)),
    ].sort();
    const effectiveRoles = [...realmRoles.map((r) => `realm:${r.name}`), ...clientRoles].sort();
    return { effectiveRoles, token, tokenRoles };
  }
});

async function rmRole(kc: KcAdminClient, name: string) {
  const [rm] = await kc.clients.find({ realm, clientId: 'realm-management' });
  const found = await kc.clients.findRole({ realm, id: rm.id!, roleName: name });
  return { id: found!.id!, name: found!.name! };
}

async function realmRole(kc: KcAdminClient, name: string, composites: { id: string; name: string }[] = []) {
  await kc.roles.create({ realm, name });
  const created = await kc.roles.findOneByName({ realm, name });
  if (composites.length) await kc.roles.createComposite({ realm, roleId: created!.id! }, composites);
  return { id: created!.id!, name };
}

/** Roles, a client with roles and client scopes for this run only, made as Keycloak's admin. */
async function createFixtures(kc: KcAdminClient): Promise<void> {
  const admin = (await kc.roles.findOneByName({ realm, name: 'admin' }))!;
  await realmRole(kc, role('plain'));
  await realmRole(kc, role('later'));
  await realmRole(kc, role('regrant'));
  await realmRole(kc, role('regiven'));
  await realmRole(kc, role('rm-admin'), [await rmRole(kc, 'realm-admin')]);
  await realmRole(kc, role('mr-mu'), [await rmRole(kc, 'manage-realm'), await rmRole(kc, 'manage-users')]);
  const inner = await realmRole(kc, role('inner'), [await rmRole(kc, 'manage-users')]);
  await realmRole(kc, role('outer'), [inner]);
  await realmRole(kc, role('boss'), [{ id: admin.id!, name: 'admin' }]);
  const { id: toolsId } = await kc.clients.create({ realm, clientId: tools, publicClient: false, serviceAccountsEnabled: false, standardFlowEnabled: false });
  const clientRole = async (name: string, composites: { id: string; name: string }[]) => {
    await kc.clients.createRole({ realm, id: toolsId, name });
    const created = (await kc.clients.findRole({ realm, id: toolsId, roleName: name }))!;
    await kc.roles.createComposite({ realm, roleId: created.id! }, composites);
    return { id: created.id!, name };
  };
  const nested = await clientRole('nested', [await rmRole(kc, 'view-users')]);
  await clientRole('ric', [inner]);
  await clientRole('super', [await rmRole(kc, 'realm-admin')]);
  await realmRole(kc, role('cir'), [nested]);

  const scope = async (name: string, protocolMappers: Record<string, unknown>[] = []) => {
    await kc.clientScopes.create({ realm, name, protocol: 'openid-connect', attributes: { 'include.in.token.scope': 'true' }, protocolMappers });
    return (await kc.clientScopes.findOneByName({ realm, name }))!;
  };
  const claim = (name: string, value: string, jsonType = 'String') => ({
    name: 'forge', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper',
    config: { 'claim.name': name, 'claim.value': value, 'jsonType.label': jsonType, 'access.token.claim': 'true' },
  });
  await scope(role('hr-admin'), [{ name: 'add-admin', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-role-mapper', config: { role: 'admin' } }]);
  await scope(role('forge-roles'), [claim('realm_access', '{"roles":["admin"]}', 'JSON')]);
  await scope(role('forge-owner'), [claim('keysmith_owner', 'team-b')]);
  const mapped = await scope(role('mapped'));
  const [rm] = await kc.clients.find({ realm, clientId: 'realm-management' });
  await kc.clientScopes.addClientScopeMappings({ realm, id: mapped.id!, client: rm.id! }, [await rmRole(kc, 'realm-admin')]);
}

async function removeFixtures(kc: KcAdminClient): Promise<void> {
  for (const name of ['hr-admin', 'forge-roles', 'forge-owner', 'mapped']) {
    const found = await kc.clientScopes.findOneByName({ realm, name: role(name) });
    if (found) await kc.clientScopes.del({ realm, id: found.id! });
  }
  const [client] = await kc.clients.find({ realm, clientId: tools });
  if (client) await kc.clients.del({ realm, id: client.id! });
  for (const name of ['plain', 'later', 'regrant', 'regiven', 'rm-admin', 'mr-mu', 'inner', 'outer', 'boss', 'cir']) {
    const found = await kc.roles.findOneByName({ realm, name: role(name) });
    if (found) await kc.roles.delById({ realm, id: found.id! });
  }
}
