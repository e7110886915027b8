import { GrantGraphReader, GrantGraphUnreadable, roleGrantName, type RoleNode, type RoleRef, type ScopeNode } from '../../common/grants/grant-graph.js';
import { GrantPolicy } from './grant-policy.js';
import { GrantValidator, describeViolations, loadGrantGraph, type GrantRequest } from './grant-validator.js';

const realm = (name: string): RoleRef => ({ kind: 'realm', name });
const client = (clientId: string, name: string): RoleRef => ({ kind: 'client', clientId, name });

/** A realm in memory: roles with their children, scopes, and roles whose reads fail. */
class FakeReader extends GrantGraphReader {
  readonly roles = new Map<string, RoleRef[]>();
  readonly scopes = new Map<string, ScopeNode>();
  readonly unreadable = new Set<string>();
  readonly failing = new Set<string>();
  reads = 0;

  addRole(ref: RoleRef, ...children: RoleRef[]): this {
    this.roles.set(roleGrantName(ref), children);
    return this;
  }

  addScope(scope: Partial<ScopeNode> & { name: string }): this {
    this.scopes.set(scope.name, { protocol: 'openid-connect', mappers: [], roleMappings: [], ...scope });
    return this;
  }

  async role(_realm: string, ref: RoleRef): Promise<RoleNode | undefined> {
    this.reads += 1;
    const name = roleGrantName(ref);
    if (this.failing.has(name)) throw new Error('Keycloak unavailable');
    if (this.unreadable.has(name)) throw new GrantGraphUnreadable(`composites of ${name} have no name`);
    const children = this.roles.get(name);
    return children ? { ref, children } : undefined;
  }

  async scope(_realm: string, name: string): Promise<ScopeNode | undefined> {
    return this.scopes.get(name);
  }
}

function realmManagement(reader: FakeReader): FakeReader {
  const rm = (name: string) => client('realm-management', name);
  reader.addRole(rm('manage-users')).addRole(rm('manage-realm')).addRole(rm('view-users')).addRole(rm('query-users'));
  reader.addRole(rm('realm-admin'), rm('manage-users'), rm('manage-realm'), rm('view-users'));
  return reader.addRole(realm('admin')).addRole(realm('offline_access')).addRole(realm('orders-reader'));
}

const request = (partial: Partial<GrantRequest>): GrantRequest => ({ realmRoles: [], clientRoles: {}, scopes: [], ...partial });
const operator = { callerScopes: null };
const team = { callerScopes: ['service-accounts:write', 'api-keys:write'] };

function validator(reader: FakeReader, policy = GrantPolicy.load(undefined, [])): GrantValidator {
  return new GrantValidator(reader, { rules: policy, ownerClaim: 'keysmith_owner', adminScope: 'keysmith:admin' });
}

describe('GrantValidator', () => {
  it('passes a plain grant and reports the roles it gives', async () => {
    const reader = realmManagement(new FakeReader()).addRole(realm('reader-bundle'), realm('orders-reader'));
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['reader-bundle'] }));
    expect(verdict).toEqual({ violations: [], effectiveRoles: ['realm:orders-reader', 'realm:reader-bundle'] });
  });

  it('refuses a realm-management role given directly, naming the grant', async () => {
    const verdict = await validator(realmManagement(new FakeReader())).validate(team, 'r', request({ clientRoles: { 'realm-management': ['view-users'] } }));
    expect(verdict.violations).toEqual([
      expect.objectContaining({ grant: 'client:realm-management:view-users', path: ['client:realm-management:view-users'], reason: 'denied' }),
    ]);
  });

  it('follows composites at any depth: realm-in-realm, client-in-realm, realm-in-client', async () => {
    const reader = realmManagement(new FakeReader())
      .addRole(realm('ops'), client('realm-management', 'manage-users'))
      .addRole(realm('outer'), realm('middle'))
      .addRole(realm('middle'), realm('inner'))
      .addRole(realm('inner'), client('realm-management', 'realm-admin'))
      .addRole(client('tools', 'super'), realm('admin'));
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['ops', 'outer'], clientRoles: { tools: ['super'] } }));
    expect(verdict.violations.map((v) => [v.grant, v.path.join(' → ')])).toEqual([
      ['realm:ops', 'realm:ops → client:realm-management:manage-users'],
      ['realm:outer', 'realm:outer → realm:middle → realm:inner → client:realm-management:realm-admin'],
      ['client:tools:super', 'client:tools:super → realm:admin'],
    ]);
    expect(describeViolations(verdict.violations.slice(0, 1))).toBe(
      'realm:ops → client:realm-management:manage-users: client:realm-management:manage-users is forbidden by the guard-rail policy',
    );
  });

  it('ends on cycles and reads each role once', async () => {
    const reader = realmManagement(new FakeReader())
      .addRole(realm('a'), realm('b'))
      .addRole(realm('b'), realm('c'), realm('a'))
      .addRole(realm('c'), realm('a'), realm('b'), realm('orders-reader'));
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['a', 'b'] }));
    expect(verdict).toEqual({ violations: [], effectiveRoles: ['realm:a', 'realm:b', 'realm:c', 'realm:orders-reader'] });
    expect(reader.reads).toBe(4);
  });

  it('follows a chain deeper than any fixed limit, and refuses past the read budget', async () => {
    const reader = realmManagement(new FakeReader());
    for (let i = 0; i < 60; i += 1) reader.addRole(realm(`level-${i}`), realm(`level-${i + 1}`));
    reader.addRole(realm('level-60'), realm('admin'));
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['level-0'] }));
    expect(verdict.violations).toHaveLength(1);
    expect(verdict.violations[0].path).toHaveLength(62);
    const graph = await loadGrantGraph(reader, 'r', request({ realmRoles: ['level-0'] }), 10);
    expect([...graph.roles.values()].some((node) => 'gap' in node)).toBe(true);
  });

  it('fails closed: a composite whose children cannot be read, or a child that does not exist', async () => {
    const reader = realmManagement(new FakeReader()).addRole(realm('opaque')).addRole(realm('dangling'), realm('gone'));
    reader.unreadable.add('realm:opaque');
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['opaque', 'dangling'] }));
    expect(verdict.violations.map((v) => [v.reason, v.path.join(' → ')])).toEqual([
      ['unverifiable', 'realm:opaque'],
      ['unverifiable', 'realm:dangling → realm:gone'],
    ]);
  });

  it('lets Keycloak failures through instead of passing', async () => {
    const reader = realmManagement(new FakeReader()).addRole(realm('flaky'));
    reader.failing.add('realm:flaky');
    await expect(validator(reader).validate(team, 'r', request({ realmRoles: ['flaky'] }))).rejects.toThrow('Keycloak unavailable');
  });

  it('refuses offline_access as a role and as a scope, and the realm role admin inside a composite', async () => {
    const reader = realmManagement(new FakeReader()).addRole(realm('boss'), realm('admin')).addScope({ name: 'offline_access', roleMappings: [realm('offline_access')] });
    const verdict = await validator(reader).validate(team, 'r', request({ realmRoles: ['offline_access', 'boss'], scopes: ['offline_access'] }));
    expect(verdict.violations.map((v) => v.path.join(' → '))).toEqual(['realm:offline_access', 'realm:boss → realm:admin', 'scope:offline_access']);
  });

  it('judges a hardcoded-role mapper by the role it adds', async () => {
    const reader = realmManagement(new FakeReader()).addScope({
      name: 'sneaky',
      mappers: [{ name: 'add-admin', type: 'oidc-hardcoded-role-mapper', config: { role: 'admin' }, role: realm('admin') }],
    });
    const verdict = await validator(reader).validate(team, 'r', request({ scopes: ['sneaky'] }));
    expect(verdict.violations).toEqual([expect.objectContaining({ grant: 'scope:sneaky', path: ['scope:sneaky', 'mapper:add-admin', 'realm:admin'], reason: 'denied' })]);
  });

  it('refuses a hardcoded role it cannot resolve', async () => {
    const reader = realmManagement(new FakeReader()).addScope({
      name: 'ghost',
      mappers: [{ name: 'add-ghost', type: 'oidc-hardcoded-role-mapper', config: { role: 'nobody.none' }, role: null }],
    });
    const verdict = await validator(reader).validate(team, 'r', request({ scopes: ['ghost'] }));
    expect(verdict.violations).toEqual([expect.objectContaining({ reason: 'unverifiable', path: ['scope:ghost', 'mapper:add-ghost'] })]);
  });

  it.each([
    ['realm_access.roles', 'token-control claim'],
    ['resource_access', 'token-control claim'],
    ['scope', 'token-control claim'],
    ['azp', 'token-control claim'],
    ['keysmith_owner', 'token-control claim'],
    ['tenant', 'not on the allow-list'],
  ])('refuses a hardcoded-claim mapper writing %s', async (claim, why) => {
    const reader = realmManagement(new FakeReader()).addScope({
      name: 'claims',
      mappers: [{ name: 'forge', type: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': claim, 'claim.value': 'x' } }],
    });
    const verdict = await validator(reader).validate(team, 'r', request({ scopes: ['claims'] }));
    expect(verdict.violations).toEqual([expect.objectContaining({ reason: 'mapper', path: ['scope:claims', 'mapper:forge'] })]);
    expect(verdict.violations[0].message).toContain(why);
  });

  it('allows mappers on the allow-list: audience, profile claims, claims the policy allows', async () => {
    const reader = realmManagement(new FakeReader()).addScope({
      name: 'fine',
      mappers: [
        { name: 'aud', type: 'oidc-audience-mapper', config: { 'included.custom.audience': 'orders' } },
        { name: 'email', type: 'oidc-usermodel-property-mapper', config: { 'claim.name': 'email', 'user.attribute': 'email' } },
        { name: 'tenant', type: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'tenant', 'claim.value': 'a' } },
        { name: 'roles', type: 'oidc-usermodel-realm-role-mapper', config: { 'claim.name': 'realm_access.roles' } },
      ],
    });
    const policy = new GrantPolicy(['realm:admin'], [], ['tenant']);
    expect((await validator(reader, policy).validate(team, 'r', request({ scopes: ['fine'] }))).violations).toEqual([]);
    reader.addScope({ name: 'script', mappers: [{ name: 'js', type: 'oidc-script-based-protocol-mapper', config: {} }] });
    const verdict = await validator(reader, policy).validate(team, 'r', request({ scopes: ['script'] }));
    expect(verdict.violations[0].message).toContain('not on the allow-list');
  });

  it('refuses a forbidden role scope mapping as defence in depth, and says so', async () => {
    const reader = realmManagement(new FakeReader()).addScope({ name: 'mapped', roleMappings: [client('realm-management', 'realm-admin')] });
    const verdict = await validator(reader).validate(team, 'r', request({ scopes: ['mapped'] }));
    expect(verdict.violations).toEqual([expect.objectContaining({ reason: 'scope-mapping', path: ['scope:mapped', 'client:realm-management:realm-admin'] })]);
    expect(verdict.violations[0].message).toContain('fullScopeAllowed');
  });

  it("refuses Keysmith's own scopes the caller does not hold; operators and holders may grant them", async () => {
    const reader = realmManagement(new FakeReader()).addScope({ name: 'keysmith:admin' }).addScope({ name: 'audit:read' }).addScope({ name: 'api-keys:write' });
    const req = request({ scopes: ['keysmith:admin', 'audit:read', 'api-keys:write'] });
    const verdict = await validator(reader).validate(team, 'r', req);
    expect(verdict.violations.map((v) => [v.grant, v.reason])).toEqual([
      ['scope:keysmith:admin', 'keysmith-scope'],
      ['scope:audit:read', 'keysmith-scope'],
    ]);
    expect(verdict.violations[0].message).toContain('owner boundary');
    expect((await validator(reader).validate(operator, 'r', req)).violations).toEqual([]);
    expect((await validator(reader).validate({ callerScopes: ['keysmith:admin', 'audit:read', 'api-keys:write'] }, 'r', req)).violations).toEqual([]);
    const allowAll = new GrantPolicy([], ['scope:*']);
    expect((await validator(reader, allowAll).validate(team, 'r', req)).violations).toHaveLength(2);
  });

  it('allow is the entitled override for a role, everything under it, and a scope with its mappers', async () => {
    const reader = realmManagement(new FakeReader())
      .addRole(realm('ops'), client('realm-management', 'view-users'))
      .addScope({ name: 'claims', mappers: [{ name: 'forge', type: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'realm_access', 'claim.value': 'x' } }] });
    const policy = GrantPolicy.load(undefined, []);
    const entitled = new GrantPolicy(policy.denyPatterns, ['realm:ops', 'scope:claims']);
    const req = request({ realmRoles: ['ops'], scopes: ['claims'] });
    expect((await validator(reader, policy).validate(team, 'r', req)).violations).toHaveLength(2);
    const verdict = await validator(reader, entitled).validate(team, 'r', req);
    expect(verdict).toEqual({ violations: [], effectiveRoles: ['client:realm-management:view-users', 'realm:ops'] });
    const specific = new GrantPolicy(policy.denyPatterns, ['client:realm-management:view-users']);
    expect((await validator(reader, specific).validate(team, 'r', request({ realmRoles: ['ops'] }))).violations).toEqual([]);
  });
});
