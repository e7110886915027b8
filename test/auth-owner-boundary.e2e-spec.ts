import { authHeaders, remember, SEEDED_CALLERS, seededSecret, tokenFor } from './support/auth.js';
import { keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const base = '/v1/realms/platform/service-accounts';

/**
 * The owner boundary: a caller whose token carries an owner claim sees and changes only that
 * owner's service accounts and keys; another owner's answer 404 exactly like missing ones.
 */
describe('Owner boundary between teams', () => {
  let t: TestApp;
  let teamA: Record<string, string>;
  let teamB: Record<string, string>;
  let operator: Record<string, string>;
  const accountA = uniqueClientId('bound-a');
  const accountB = uniqueClientId('bound-b');
  const missing = uniqueClientId('bound-none');

  const headersFor = async (clientId: string) => {
    remember(t.secrets, await seededSecret(clientId));
    return authHeaders(remember(t.secrets, await tokenFor(clientId)));
  };
  const secrets = new Map<string, string>();
  const create = async (headers: Record<string, string>, clientId: string, owner: string) => {
    const res = await t.inject({ method: 'POST', url: base, headers, payload: { clientId, owner, description: `of ${owner}`, defaultScopes: ['read:data', 'service-accounts:read', 'api-keys:read'] } });
    expect(res.statusCode).toBe(201);
    secrets.set(clientId, remember(t.secrets, res.json().clientSecret));
  };
  /** What team A is told about team B's account must match what it is told about no account at all. */
  const expectHidden = async (method: string, path: string, payload?: unknown) => {
    const ofB = await t.inject({ method, url: `${base}/${accountB}${path}`, headers: teamA, payload });
    const ofNobody = await t.inject({ method, url: `${base}/${missing}${path}`, headers: teamA, payload });
    expect([method, path, ofB.statusCode]).toEqual([method, path, 404]);
    expect(ofB.json().code).toBe(ofNobody.json().code);
    expect(ofB.json().title).toBe(ofNobody.json().title);
  };

  beforeAll(async () => {
    t = await createTestApp();
    teamA = await headersFor(SEEDED_CALLERS.teamA);
    teamB = await headersFor(SEEDED_CALLERS.teamB);
    operator = await headersFor(SEEDED_CALLERS.operator);
    await create(teamA, accountA, 'team-a');
    await create(teamB, accountB, 'team-b');
  });
  afterAll(async () => {
    for (const clientId of [accountA, accountB]) await t.inject({ method: 'DELETE', url: `${base}/${clientId}`, headers: operator });
    await t.close();
  });

  describe('service accounts', () => {
    it('team A cannot read team B account or its secret', async () => {
      await expectHidden('GET', '');
      await expectHidden('GET', '/secret');
    });

    it('team A cannot change, rotate, take over or delete team B account', async () => {
      await expectHidden('PATCH', '', { description: 'taken over' });
      await expectHidden('POST', '/secret/rotate', { graceHours: 0 });
      // PUT is an upsert: for a free clientId it creates, so only B's answer is compared here.
      const put = await t.inject({ method: 'PUT', url: `${base}/${accountB}`, headers: teamA, payload: { owner: 'team-a', description: 'taken over', defaultScopes: ['read:data'] } });
      expect(put.statusCode).toBe(404);
      expect(put.json().code).toBe('SERVICE_ACCOUNT_NOT_FOUND');
      await expectHidden('DELETE', '');
      const intact = await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: teamB });
      expect(intact.statusCode).toBe(200);
      expect(intact.json()).toMatchObject({ owner: 'team-b', description: 'of team-b' });
      const kc = await keycloakAdmin();
      expect(await kc.clients.find({ realm: 'platform', clientId: accountB })).toHaveLength(1);
      // The secret was not rotated: B's original secret still gets a token.
      remember(t.secrets, await tokenFor(accountB, secrets.get(accountB)));
    });

    it('team A does not see team B account in lists, even when filtering by team B', async () => {
      const own = await t.inject({ method: 'GET', url: `${base}?clientId=bound-&limit=500`, headers: teamA });
      expect(own.statusCode).toBe(200);
      const ids = own.json().items.map((a: { clientId: string }) => a.clientId);
      expect(ids).toContain(accountA);
      expect(ids).not.toContain(accountB);
      expect(new Set(own.json().items.map((a: { owner: string }) => a.owner))).toEqual(new Set(['team-a']));
      const filtered = await t.inject({ method: 'GET', url: `${base}?owner=team-b`, headers: teamA });
      expect(filtered.json().items).toEqual([]);
    });

    it('team A cannot create an account for team B', async () => {
      const clientId = uniqueClientId('bound-foreign');
      const res = await t.inject({ method: 'POST', url: base, headers: teamA, payload: { clientId, owner: 'team-b', defaultScopes: ['read:data'] } });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('OWNER_FORBIDDEN');
      const kc = await keycloakAdmin();
      expect(await kc.clients.find({ realm: 'platform', clientId })).toHaveLength(0);
    });

    it('records the calling client as actor of the audit events', async () => {
      const events = await t.inject({ method: 'GET', url: `/v1/audit-events?action=service_account.created&clientId=${accountA}`, headers: operator });
      expect(events.json().items).toEqual([expect.objectContaining({ actor: { type: 'jwt', id: SEEDED_CALLERS.teamA }, clientId: accountA })]);
    });

    it('the admin scope lifts the boundary even with an owner claim', async () => {
      expect((await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: operator })).statusCode).toBe(200);
      const all = await t.inject({ method: 'GET', url: `${base}?clientId=bound-&limit=500`, headers: operator });
      expect(all.json().items.map((a: { clientId: string }) => a.clientId)).toEqual(expect.arrayContaining([accountA, accountB]));
    });
  });

  describe('API keys', () => {
    let keyOfB: { id: string; key: string };
    let keyOfA: { id: string; key: string };
    const issue = async (headers: Record<string, string>, clientId: string, scopes: string[]) => {
      const res = await t.inject({ method: 'POST', url: `${base}/${clientId}/api-keys`, headers, payload: { name: 'boundary', scopes } });
      expect(res.statusCode).toBe(201);
      return { id: res.json().id as string, key: remember(t.secrets, res.json().key as string) };
    };
    const stillWorks = async (key: string) => (await t.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': key } })).statusCode;

    beforeAll(async () => {
      keyOfB = await issue(teamB, accountB, ['read:data']);
      keyOfA = await issue(teamA, accountA, ['service-accounts:read', 'api-keys:read']);
    });

    it('team A cannot list, read, rotate or revoke team B keys, nor issue one on team B account', async () => {
      const unknownKeyId = `key_${'0'.repeat(22)}`;
      const cases: [string, string, unknown?][] = [
        ['GET', `${base}/${accountB}/api-keys`],
        ['POST', `${base}/${accountB}/api-keys`, { name: 'stolen', scopes: ['read:data'] }],
        ['GET', `/v1/api-keys/${keyOfB.id}`],
        ['POST', `/v1/api-keys/${keyOfB.id}/rotate`, { graceHours: 0 }],
        ['DELETE', `/v1/api-keys/${keyOfB.id}`],
      ];
      for (const [method, url, payload] of cases) {
        const res = await t.inject({ method, url, headers: teamA, payload });
        expect([method, url, res.statusCode]).toEqual([method, url, 404]);
      }
      // Indistinguishable from a key that does not exist.
      const ofB = await t.inject({ method: 'GET', url: `/v1/api-keys/${keyOfB.id}`, headers: teamA });
      const ofNobody = await t.inject({ method: 'GET', url: `/v1/api-keys/${unknownKeyId}`, headers: teamA });
      expect([ofB.json().code, ofB.json().title]).toEqual([ofNobody.json().code, ofNobody.json().title]);

      expect(await stillWorks(keyOfB.key)).toBe(200);
      const ownList = await t.inject({ method: 'GET', url: `${base}/${accountB}/api-keys`, headers: teamB });
      expect(ownList.json().items).toEqual([expect.objectContaining({ id: keyOfB.id, status: 'active' })]);
    });

    it('a key of team A account is confined to team A, like a team A token', async () => {
      const asKeyOfA = { 'x-api-key': keyOfA.key };
      expect((await t.inject({ method: 'GET', url: `${base}/${accountA}`, headers: asKeyOfA })).statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: asKeyOfA })).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: `/v1/api-keys/${keyOfB.id}`, headers: asKeyOfA })).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: `${base}/${accountB}/api-keys`, headers: asKeyOfA })).statusCode).toBe(404);
      const list = await t.inject({ method: 'GET', url: `${base}?limit=500`, headers: asKeyOfA });
      expect(new Set(list.json().items.map((a: { owner: string }) => a.owner))).toEqual(new Set(['team-a']));
    });

    it('the admin scope sees team B keys', async () => {
      expect((await t.inject({ method: 'GET', url: `/v1/api-keys/${keyOfB.id}`, headers: operator })).statusCode).toBe(200);
    });
  });

  describe('at the end', () => {
    it('logs no token or secret this suite used', () => {
      expectNoSecretInLogs('auth-owner-boundary');
    });
  });
});
