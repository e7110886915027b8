import { authHeaders, remember, SEEDED_CALLERS, seededSecret, tokenFor } from './support/auth.js';
import { keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';

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
    const res = await t.inject({ method: 'POST', url: base, headers, payload: { clientId, owner, description: `of ${owner}`, defaultScopes: ['read:data'] } });
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

  describe('at the end', () => {
    it('logs no token or secret this suite used', () => {
      expect(t.logs.leaked(t.secrets)).toEqual([]);
    });
  });
});
