import diagnostics from 'node:diagnostics_channel';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { setFaultPoints } from '../src/common/faults/fault-points.js';
import { KeycloakService } from '../src/keycloak/keycloak.service.js';
import { ServiceAccountsService } from '../src/service-accounts/services/service-accounts.service.js';
import { authenticateSuite } from './support/auth.js';
import { clientCredentialsToken, keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { runJob } from './support/jobs.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;

describe('Service accounts (real Keycloak)', () => {
  let t: TestApp;
  let kc: KcAdminClient;

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYCLOAK_MAX_RETRIES: '1' } });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(() => t.close());

  const body = (clientId: string, extra: Record<string, unknown> = {}) => ({
    clientId,
    owner: 'team-billing',
    description: 'Nightly billing export',
    realmRoles: ['orders-reader', 'reports-viewer'],
    clientRoles: { 'orders-api': ['read'] },
    defaultScopes: ['read:data'],
    optionalScopes: ['write:data'],
    ...extra,
  });
  const create = async (clientId: string, extra: Record<string, unknown> = {}) => {
    const res = await t.inject({ method: 'POST', url: base, payload: body(clientId, extra) });
    if (res.statusCode === 201) t.secrets.add(res.json().clientSecret);
    return res;
  };
  const findInKeycloak = async (clientId: string) => (await kc.clients.find({ realm, clientId }))[0];

  it('creates a confidential client with only the service-accounts flow, roles, scopes and ownership attributes', async () => {
    const clientId = uniqueClientId('billing-worker');
    const res = await create(clientId);
    expect(res.statusCode).toBe(201);
    const account = res.json();
    expect(account).toMatchObject({
      realm,
      clientId,
      owner: 'team-billing',
      enabled: true,
      realmRoles: ['orders-reader', 'reports-viewer'],
      clientRoles: { 'orders-api': ['read'] },
      defaultScopes: ['read:data'],
      optionalScopes: ['write:data'],
      managedBy: 'api',
      secretRotation: { everyDays: 90, graceHours: 24 },
      apiKeyPolicy: { defaultTtlDays: 90, maxTtlDays: 90 },
    });
    expect(account.clientSecret).toEqual(expect.any(String));

    const client = await findInKeycloak(clientId);
    expect(client).toMatchObject({
      id: account.keycloakId,
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      frontchannelLogout: false,
      fullScopeAllowed: true,
    });
    expect(client.attributes).toMatchObject({ 'keysmith.managed-by': 'keysmith', 'keysmith.owner': 'team-billing', 'oauth2.device.authorization.grant.enabled': 'false' });
    expect(client.attributes?.['keysmith.spec-hash']).toMatch(/^[0-9a-f]{64}$/);

    const user = await kc.clients.getServiceAccountUser({ realm, id: client.id! });
    const mappings = await kc.users.listRoleMappings({ realm, id: user.id! });
    expect(mappings.realmMappings!.map((r: { name?: string }) => r.name).sort()).toEqual(['orders-reader', 'reports-viewer']);
    expect(Object.values(mappings.clientMappings!).find((m) => m.client === 'orders-api')!.mappings!.map((r: { name?: string }) => r.name)).toEqual(['read']);
    const defaults = (await kc.clients.listDefaultClientScopes({ realm, id: client.id! })).map((s) => s.name).sort();
    const optionals = (await kc.clients.listOptionalClientScopes({ realm, id: client.id! })).map((s) => s.name);
    expect(defaults).toEqual(['basic', 'read:data', 'roles', 'service_account']);
    expect(optionals).toEqual(['write:data']);

    const token = await clientCredentialsToken(realm, clientId, account.clientSecret);
    expect(token.status).toBe(200);
    expect(token.claims!.azp).toBe(clientId);
    expect(token.claims!.realm_access.roles.sort()).toEqual(['orders-reader', 'reports-viewer']);
    expect(token.claims!.resource_access['orders-api'].roles).toEqual(['read']);
    expect(token.claims!.scope.split(' ')).toContain('read:data');
  });

  it('reads and lists accounts with filters and paging, never with a secret', async () => {
    const prefix = uniqueClientId('list');
    for (const n of [1, 2, 3]) expect((await create(`${prefix}-${n}`, { owner: n === 3 ? 'team-other' : 'team-list' })).statusCode).toBe(201);
    const one = await t.inject({ method: 'GET', url: `${base}/${prefix}-1` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).not.toHaveProperty('clientSecret');

    const page1 = await t.inject({ method: 'GET', url: `${base}?clientId=${prefix}&owner=team-list&limit=1` });
    expect(page1.statusCode).toBe(200);
    expect(page1.json().items.map((a: { clientId: string }) => a.clientId)).toEqual([`${prefix}-1`]);
    expect(page1.json().nextCursor).toEqual(expect.any(String));
    const page2 = await t.inject({ method: 'GET', url: `${base}?clientId=${prefix}&owner=team-list&limit=1&cursor=${page1.json().nextCursor}` });
    expect(page2.json().items.map((a: { clientId: string }) => a.clientId)).toEqual([`${prefix}-2`]);
    expect(page2.json().nextCursor).toBeNull();
    expect(JSON.stringify(page1.json()) + JSON.stringify(page2.json())).not.toMatch(/clientSecret/);
  });

  it('PUT adds and removes roles and scopes so Keycloak matches the body exactly', async () => {
    const clientId = uniqueClientId('put-worker');
    const created = (await create(clientId)).json();
    const res = await t.inject({
      method: 'PUT',
      url: `${base}/${clientId}`,
      payload: {
        owner: 'team-billing',
        description: 'Nightly billing export',
        realmRoles: ['orders-reader', 'orders-writer'],
        clientRoles: { 'orders-api': ['write'] },
        defaultScopes: ['write:data'],
        optionalScopes: [],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().changes).toEqual(
      expect.arrayContaining([
        { field: 'realmRoles', action: 'add', value: 'orders-writer' },
        { field: 'realmRoles', action: 'remove', value: 'reports-viewer' },
        { field: 'clientRoles.orders-api', action: 'add', value: 'write' },
        { field: 'clientRoles.orders-api', action: 'remove', value: 'read' },
        { field: 'defaultScopes', action: 'add', value: 'write:data' },
        { field: 'defaultScopes', action: 'remove', value: 'read:data' },
        { field: 'optionalScopes', action: 'remove', value: 'write:data' },
      ]),
    );
    const user = await kc.clients.getServiceAccountUser({ realm, id: created.keycloakId });
    const mappings = await kc.users.listRoleMappings({ realm, id: user.id! });
    expect(mappings.realmMappings!.map((r: { name?: string }) => r.name).sort()).toEqual(['orders-reader', 'orders-writer']);
    expect(Object.values(mappings.clientMappings!).find((m) => m.client === 'orders-api')!.mappings!.map((r: { name?: string }) => r.name)).toEqual(['write']);
    expect((await kc.clients.listDefaultClientScopes({ realm, id: created.keycloakId })).map((s) => s.name).sort()).toEqual(['basic', 'roles', 'service_account', 'write:data']);
    expect(await kc.clients.listOptionalClientScopes({ realm, id: created.keycloakId })).toEqual([]);

    const token = await clientCredentialsToken(realm, clientId, created.clientSecret);
    expect(token.claims!.realm_access.roles).toEqual(expect.arrayContaining(['orders-writer']));
    expect(token.claims!.realm_access.roles).not.toContain('reports-viewer');
    expect(token.claims!.resource_access['orders-api'].roles).toEqual(['write']);
  });

  it('PUT that changes nothing makes no write call to Keycloak and says so', async () => {
    const clientId = uniqueClientId('noop-worker');
    await create(clientId);
    const { clientId: _, ...spec } = body(clientId);
    const keycloak = t.app.get(KeycloakService);
    const writesBefore = keycloak.callCount.write;
    const res = await t.inject({ method: 'PUT', url: `${base}/${clientId}`, payload: spec });
    expect(res.statusCode).toBe(200);
    expect(res.json().changes).toEqual([]);
    expect(keycloak.callCount.write).toBe(writesBefore);
  });

  it('PUT creates an account that does not exist yet (201 with the secret once)', async () => {
    const clientId = uniqueClientId('put-create');
    const { clientId: _, ...spec } = body(clientId);
    const res = await t.inject({ method: 'PUT', url: `${base}/${clientId}`, payload: spec });
    expect(res.statusCode).toBe(201);
    t.secrets.add(res.json().clientSecret);
    expect(res.json()).toMatchObject({ clientId, clientSecret: expect.any(String), changes: expect.any(Array) });
    expect(await findInKeycloak(clientId)).toBeDefined();
  });

  it('PATCH changes description, enabled, policies and roles by add/remove lists', async () => {
    const clientId = uniqueClientId('patch-worker');
    const created = (await create(clientId)).json();
    const res = await t.inject({
      method: 'PATCH',
      url: `${base}/${clientId}`,
      payload: {
        description: 'changed',
        enabled: false,
        apiKeyPolicy: { maxTtlDays: 30, defaultTtlDays: 30 },
        realmRoles: { add: ['orders-writer'], remove: ['reports-viewer'] },
        optionalScopes: { remove: ['write:data'] },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      description: 'changed',
      enabled: false,
      realmRoles: ['orders-reader', 'orders-writer'],
      optionalScopes: [],
      apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 30 },
    });
    const client = await kc.clients.findOne({ realm, id: created.keycloakId });
    expect(client).toMatchObject({ description: 'changed', enabled: false });
    const token = await clientCredentialsToken(realm, clientId, created.clientSecret);
    expect(token.status).not.toBe(200);
  });

  it('PATCH judges the scope lists it results in: a scope in both is refused, a swap goes through', async () => {
    const clientId = uniqueClientId('patch-kinds');
    const created = (await create(clientId)).json();
    const both = await t.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload: { optionalScopes: { add: ['read:data'] } } });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'optionalScopes', message: 'read:data is also a default scope' }] });
    const optionalInKeycloak = async () => (await kc.clients.listOptionalClientScopes({ realm, id: created.keycloakId })).map((scope) => scope.name).sort();
    expect(await optionalInKeycloak()).toEqual(['write:data']);

    const swap = await t.inject({
      method: 'PATCH',
      url: `${base}/${clientId}`,
      payload: { defaultScopes: { remove: ['read:data'], add: ['write:data'] }, optionalScopes: { remove: ['write:data'], add: ['read:data'] } },
    });
    expect(swap.statusCode).toBe(200);
    expect(swap.json()).toMatchObject({ defaultScopes: ['write:data'], optionalScopes: ['read:data'] });
    expect(await optionalInKeycloak()).toEqual(['read:data']);
    const defaults = (await kc.clients.listDefaultClientScopes({ realm, id: created.keycloakId })).map((scope) => scope.name);
    expect(defaults).toContain('write:data');
    expect(defaults).not.toContain('read:data');
  });

  it('keeps its connections to Keycloak open across role removals (a DELETE with the roles as its body)', async () => {
    // Warm: the pool holds a connection for each of a create's parallel reads.
    const warm = uniqueClientId('conn-warm');
    expect((await create(warm)).statusCode).toBe(201);
    // Connections to Keycloak (the test's own requests to Keysmith go elsewhere).
    const keycloakPort = new URL(keycloakEnv().KEYCLOAK_URL).port;
    let opened = 0;
    const count = (message: unknown) => {
      if (String((message as { connectParams: { port: string | number } }).connectParams.port) === keycloakPort) opened += 1;
    };
    // Only Keysmith calls Keycloak in this window.
    diagnostics.subscribe('undici:client:connected', count);
    try {
      // Each create drops the realm's default roles; the PATCH removes a realm role and a client role.
      const clientId = uniqueClientId('conn-reuse');
      expect((await create(clientId)).statusCode).toBe(201);
      expect((await create(uniqueClientId('conn-reuse'))).statusCode).toBe(201);
      const patched = await t.inject({
        method: 'PATCH',
        url: `${base}/${clientId}`,
        payload: { realmRoles: { remove: ['reports-viewer'] }, clientRoles: { remove: { 'orders-api': ['read'] } } },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ realmRoles: ['orders-reader'], clientRoles: {} });
    } finally {
      diagnostics.unsubscribe('undici:client:connected', count);
    }
    expect(opened).toBe(0);
  });

  it('DELETE removes the Keycloak client and the account', async () => {
    const clientId = uniqueClientId('delete-worker');
    await create(clientId);
    const res = await t.inject({ method: 'DELETE', url: `${base}/${clientId}` });
    expect(res.statusCode).toBe(204);
    expect(await findInKeycloak(clientId)).toBeUndefined();
    expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
    // The clientId is free again afterwards.
    expect((await create(clientId)).statusCode).toBe(201);
  });

  it('DELETE leaves alone a hand-made client that replaced the account\'s under the same name', async () => {
    const clientId = uniqueClientId('delete-replaced');
    await create(clientId);
    await kc.clients.del({ realm, id: (await findInKeycloak(clientId)).id! });
    await kc.clients.create({ realm, clientId, description: 'hand-made', serviceAccountsEnabled: true, publicClient: false });
    const res = await t.inject({ method: 'DELETE', url: `${base}/${clientId}` });
    expect(res.statusCode).toBe(204);
    const survivor = await findInKeycloak(clientId);
    expect(survivor).toMatchObject({ description: 'hand-made' });
    expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
    await kc.clients.del({ realm, id: survivor.id! });
  });

  it('returns the current secret (audited) that Keycloak holds', async () => {
    const clientId = uniqueClientId('secret-worker');
    const created = (await create(clientId)).json();
    const res = await t.inject({ method: 'GET', url: `${base}/${clientId}/secret` });
    expect(res.statusCode).toBe(200);
    expect(res.json().clientSecret).toBe(created.clientSecret);
    const audit = await t.inject({ method: 'GET', url: `/v1/audit-events?action=client_secret.read&clientId=${clientId}` });
    expect(audit.json().items).toHaveLength(1);
    expect(JSON.stringify(audit.json())).not.toContain(created.clientSecret);
  });

  describe('refuses bad input before anything is created', () => {
    const expectNothingMade = async (clientId: string) => {
      expect(await findInKeycloak(clientId)).toBeUndefined();
      expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
    };

    it.each([['Bad_Client'], ['ab'], ['1abc'], ['a'.repeat(64)]])('bad clientId %s: 400 naming the field', async (clientId) => {
      const res = await create(clientId);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'clientId', message: expect.stringContaining('^[a-z][a-z0-9-]{2,62}$') }] });
    });

    it('unknown fields and wrong types: 400 naming each field', async () => {
      const res = await t.inject({ method: 'POST', url: base, payload: { ...body(uniqueClientId('bad')), colour: 'red', enabled: 'yes' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual(expect.arrayContaining([{ field: 'colour', message: 'is not a known field' }, { field: 'enabled', message: expect.any(String) }]));
    });

    it('a scope both default and optional (POST and PUT): 400 naming it, nothing made', async () => {
      const clientId = uniqueClientId('both-kinds');
      const overlap = { defaultScopes: ['read:data', 'write:data'], optionalScopes: ['reports:read', 'write:data'] };
      const expected = { code: 'VALIDATION_FAILED', errors: [{ field: 'optionalScopes.1', message: 'write:data is also a default scope' }] };
      const created = await create(clientId, overlap);
      expect(created.statusCode).toBe(400);
      expect(created.json()).toMatchObject(expected);
      const { clientId: _ignored, ...spec } = body(clientId, overlap);
      const put = await t.inject({ method: 'PUT', url: `${base}/${clientId}`, payload: spec });
      expect(put.statusCode).toBe(400);
      expect(put.json()).toMatchObject(expected);
      await expectNothingMade(clientId);
    });

    it('unknown realm and client roles: 422 UNKNOWN_ROLE naming each', async () => {
      const clientId = uniqueClientId('unknown-role');
      const res = await create(clientId, { realmRoles: ['orders-reader', 'no-such-role'], clientRoles: { 'orders-api': ['nope'], 'no-such-client': ['x'] } });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'UNKNOWN_ROLE', missing: { realmRoles: ['no-such-role'], clientRoles: ['orders-api:nope', 'no-such-client (no such client)'] } });
      await expectNothingMade(clientId);
    });

    it('unknown scope: 422 UNKNOWN_SCOPE naming it', async () => {
      const clientId = uniqueClientId('unknown-scope');
      const res = await create(clientId, { defaultScopes: ['read:data', 'no:such-scope'] });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'UNKNOWN_SCOPE', missing: { scopes: ['no:such-scope'] } });
      await expectNothingMade(clientId);
    });

    it.each([
      [{ realmRoles: ['admin'] }, 'realm:admin'],
      [{ clientRoles: { 'realm-management': ['manage-users'] } }, 'client:realm-management:manage-users'],
      [{ clientRoles: { broker: ['read-token'] } }, 'client:broker:read-token'],
      [{ clientRoles: { account: ['manage-account'] } }, 'client:account:manage-account'],
    ])('forbidden grant %j: 403 GRANT_FORBIDDEN naming it', async (grant, name) => {
      const clientId = uniqueClientId('forbidden');
      const res = await create(clientId, { realmRoles: [], clientRoles: {}, ...grant });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'GRANT_FORBIDDEN', forbidden: [name] });
      await expectNothingMade(clientId);
    });

    it('a second create of a live account\'s name: 409 CLIENT_EXISTS from its row, the account unchanged', async () => {
      const clientId = uniqueClientId('twice');
      expect((await create(clientId)).statusCode).toBe(201);
      const before = await t.inject({ method: 'GET', url: `${base}/${clientId}` });
      const res = await create(clientId, { description: 'second' });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'CLIENT_EXISTS', detail: `Service account ${clientId} already exists in realm ${realm}.` });
      const after = await t.inject({ method: 'GET', url: `${base}/${clientId}` });
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(after.json()).toMatchObject({ description: before.json().description, updatedAt: before.json().updatedAt, state: 'active' });
    });

    it('a client that exists in Keycloak but was not made by Keysmith: 409, untouched', async () => {
      const clientId = uniqueClientId('foreign');
      await kc.clients.create({ realm, clientId, description: 'hand-made', serviceAccountsEnabled: true, publicClient: false });
      const res = await create(clientId);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('CLIENT_EXISTS');
      const put = await t.inject({ method: 'PUT', url: `${base}/${clientId}`, payload: { owner: 'team-billing' } });
      expect(put.statusCode).toBe(409);
      const client = await findInKeycloak(clientId);
      expect(client).toMatchObject({ description: 'hand-made' });
      expect(client.attributes?.['keysmith.managed-by']).toBeUndefined();
      await kc.clients.del({ realm, id: client.id! });
    });

    it('a realm Keysmith does not manage: 404 REALM_NOT_MANAGED', async () => {
      const res = await t.inject({ method: 'POST', url: '/v1/realms/master/service-accounts', payload: body(uniqueClientId('x')) });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('REALM_NOT_MANAGED');
    });
  });

  /**
   * A create Keycloak cuts short after the client was made, and stays unreachable for the undo:
   * the fault points of those two Admin REST calls answer as an outage does.
   */
  async function createCutShort(clientId: string) {
    setFaultPoints('keycloak.grant-realm-roles=unavailable,keycloak.delete-client=unavailable');
    try {
      return await create(clientId);
    } finally {
      setFaultPoints(undefined);
    }
  }

  describe('no half-made state', () => {
    it('a failure injected after the client was created removes it again', async () => {
      const clientId = uniqueClientId('injected');
      setFaultPoints('keycloak.grant-realm-roles=throw');
      let res;
      try {
        res = await create(clientId);
      } finally {
        setFaultPoints(undefined);
      }
      expect(res.statusCode).toBe(500);
      expect(await findInKeycloak(clientId)).toBeUndefined();
      expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
      expect((await create(clientId)).statusCode).toBe(201);
    });

    it('Keycloak gone mid-way, also for the undo: 503, then recovery removes the half-made client and the row', async () => {
      // Keycloak becomes unreachable after the client was created, and stays so for the undo: the
      // fault points of those two Admin REST calls answer as an outage does (KeycloakService turns
      // a dead connection into KEYCLOAK_UNAVAILABLE; the foundation and unit suites show that with a
      // stopped server and a closed port).
      const clientId = uniqueClientId('stopped');
      const res = await createCutShort(clientId);
      expect(await findInKeycloak(clientId)).toBeDefined();
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('KEYCLOAK_UNAVAILABLE');
      // The row stays pending (provisioning) and is hidden from readers.
      expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
      // Keycloak is back: the next start-up (or call) completes the undo.
      expect(await t.app.get(ServiceAccountsService).recoverPending()).toBeGreaterThanOrEqual(1);
      expect(await findInKeycloak(clientId)).toBeUndefined();
      expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).statusCode).toBe(404);
      const audit = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}` });
      expect(audit.json().items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toEqual(
        expect.arrayContaining(['service_account.created:failure', 'service_account.create_undone:success']),
      );
    });
  });

  it('a DELETE of a create that Keycloak cut short removes the half-made client, and the clientId can be created again', async () => {
    const clientId = uniqueClientId('half-deleted');
    const res = await createCutShort(clientId);
    expect(res.statusCode).toBe(503);
    expect(await findInKeycloak(clientId)).toBeDefined();
    expect((await t.inject({ method: 'DELETE', url: `${base}/${clientId}` })).statusCode).toBe(204);
    expect(await findInKeycloak(clientId)).toBeUndefined();
    expect((await create(clientId)).statusCode).toBe(201);
  });

  it('concurrent creates of the same clientId: exactly one 201, the rest 409', async () => {
    const clientId = uniqueClientId('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => create(clientId)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    expect((await kc.clients.find({ realm, clientId })).length).toBe(1);
  });

  it('writes an audit event for each change, without secrets', async () => {
    const clientId = uniqueClientId('audited');
    const created = (await create(clientId)).json();
    await t.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload: { description: 'x' } });
    await t.inject({ method: 'DELETE', url: `${base}/${clientId}` });
    const res = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${clientId}` });
    expect(res.json().items.map((e: { action: string }) => e.action)).toEqual(['service_account.deleted', 'service_account.updated', 'service_account.created']);
    expect(res.json().items[2]).toMatchObject({ realm, clientId, outcome: 'success', actor: expect.any(Object) });
    expect(JSON.stringify(res.json())).not.toContain(created.clientSecret);
  });

  it('the drift job records hand-made changes, and repairs them only when configured to', async () => {
    const clientId = uniqueClientId('drifting');
    const created = (await create(clientId)).json();
    const user = await kc.clients.getServiceAccountUser({ realm, id: created.keycloakId });
    const writer = await kc.roles.findOneByName({ realm, name: 'orders-writer' });
    await kc.users.addRealmRoleMappings({ realm, id: user.id!, roles: [{ id: writer!.id!, name: 'orders-writer' }] });
    const drift = [{ field: 'realmRoles', action: 'remove', value: 'orders-writer', origin: 'keycloak' }];

    const recorded = await runJob(t, 'drift');
    expect(recorded.details).toEqual(expect.arrayContaining([{ realm, clientId, changes: drift, repaired: false }]));
    const roles = async () => (await kc.users.listRealmRoleMappings({ realm, id: user.id! })).map((r) => r.name).sort();
    expect(await roles()).toContain('orders-writer');

    const repairing = await createTestApp({ dataDir: t.dataDir, env: { KEYSMITH_DRIFT_REPAIR: 'true' } });
    await authenticateSuite(repairing);
    try {
      const repaired = await runJob(repairing, 'drift');
      expect(repaired.details).toEqual(expect.arrayContaining([{ realm, clientId, changes: drift, repaired: true }]));
      expect(await roles()).toEqual(['orders-reader', 'reports-viewer']);
    } finally {
      await repairing.close();
    }
  });

  it('names the realm-management roles it needs when its own client lacks one', async () => {
    // A second Keysmith client in master without manage-users: it may create clients, not grant roles.
    const limitedId = uniqueClientId('keysmith-limited');
    const limitedSecret = `limited-${Math.random().toString(36).slice(2)}-secret`;
    t.secrets.add(limitedSecret);
    await kc.clients.create({ realm: 'master', clientId: limitedId, secret: limitedSecret, publicClient: false, serviceAccountsEnabled: true, standardFlowEnabled: false });
    const [limited] = await kc.clients.find({ realm: 'master', clientId: limitedId });
    const [realmClient] = await kc.clients.find({ realm: 'master', clientId: `${realm}-realm` });
    const roles = await Promise.all(
      ['view-realm', 'query-clients', 'view-clients', 'manage-clients', 'query-users', 'view-users'].map((roleName) =>
        kc.clients.findRole({ realm: 'master', id: realmClient.id!, roleName }),
      ),
    );
    const user = await kc.clients.getServiceAccountUser({ realm: 'master', id: limited.id! });
    await kc.users.addClientRoleMappings({ realm: 'master', id: user.id!, clientUniqueId: realmClient.id!, roles: roles.map((r) => ({ id: r!.id!, name: r!.name! })) });
    const restricted = await createTestApp({ env: { KEYCLOAK_CLIENT_ID: limitedId, KEYCLOAK_CLIENT_SECRET: limitedSecret } });
    try {
      await authenticateSuite(restricted);
      const clientId = uniqueClientId('needs-roles');
      const res = await restricted.inject({ method: 'POST', url: base, payload: body(clientId) });
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ code: 'KEYCLOAK_PERMISSION_MISSING', neededRoles: expect.arrayContaining(['manage-users']) });
      expect(res.json().detail).toContain('grant realm roles');
      // It could still remove the client it had made: nothing is left behind.
      expect(await findInKeycloak(clientId)).toBeUndefined();
      expect(restricted.logs.leaked([limitedSecret])).toEqual([]);
    } finally {
      await restricted.close();
      await kc.clients.del({ realm: 'master', id: limited.id! });
    }
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('service-accounts');
  });
});
