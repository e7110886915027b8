import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { apiKeyHeaders, authenticateSuite, authHeaders, remember, SEEDED_CALLERS, seededSecret, tokenFor } from './support/auth.js';
import type { TestResponse } from './support/http.js';
import { keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { pendingSchemaChanges } from './support/schema-check.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;
type Headers = Record<string, string>;

/**
 * Authority never grows through a caller: key scopes are bounded by the issuer, a Keycloak token is
 * confined by its client rather than a claim, keys follow their account's current scopes, and
 * owner-bound callers reach only their owner's audit, jobs and secrets. Every attempt below is
 * refused with its code and audited, and the same request succeeds for a caller entitled to it.
 */
describe('Caller authority', () => {
  let t: TestApp;
  let teamA: Headers;
  let teamB: Headers;
  let operator: Headers;
  const accountA = uniqueClientId('authz-a');
  const accountB = uniqueClientId('authz-b');
  const accountOps = uniqueClientId('authz-ops');
  const accountB2 = uniqueClientId('authz-b2');
  const accountAGitops = uniqueClientId('authz-a-gitops');
  const secrets = new Map<string, string>();
  const keys = new Map<string, { id: string; key: string }>();
  const ownScopes = ['read:data', 'audit:read', 'jobs:read', 'jobs:run', 'service-accounts:read', 'api-keys:read', 'api-keys:write', 'keysmith-audience'];

  const headersFor = async (clientId: string) => {
    remember(t.secrets, await seededSecret(clientId));
    return authHeaders(remember(t.secrets, await tokenFor(clientId)));
  };
  const create = async (clientId: string, owner: string, defaultScopes: string[], headers: Headers = {}) => {
    const res = await t.inject({ method: 'POST', url: base, headers, payload: { clientId, owner, defaultScopes } });
    expect([clientId, res.statusCode, res.body.slice(0, 300)]).toEqual([clientId, 201, expect.any(String)]);
    secrets.set(clientId, remember(t.secrets, res.json().clientSecret as string));
  };
  const issue = (clientId: string, scopes: string[], headers: Headers = {}) =>
    t.inject({ method: 'POST', url: `${base}/${clientId}/api-keys`, headers, payload: { name: `authz-${randomBytes(3).toString('hex')}`, scopes } });
  const issued = async (name: string, clientId: string, scopes: string[], headers: Headers = {}) => {
    const res = await issue(clientId, scopes, headers);
    expect([name, res.statusCode]).toEqual([name, 201]);
    const key = { id: res.json().id as string, key: remember(t.secrets, res.json().key as string) };
    keys.set(name, key);
    return key;
  };
  const lastEvent = async (query: string) => (await t.inject({ method: 'GET', url: `/v1/audit-events?${query}&limit=1` })).json().items[0];
  const expectRefused = (res: TestResponse, status: number, code: string) => {
    expect([res.statusCode, res.json().code]).toEqual([status, code]);
  };

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    teamA = await headersFor(SEEDED_CALLERS.teamA);
    teamB = await headersFor(SEEDED_CALLERS.teamB);
    operator = await headersFor(SEEDED_CALLERS.operator);
    await create(accountA, 'team-a', ownScopes);
    await create(accountB, 'team-b', ownScopes);
    // Only a holder of keysmith:admin may put it on an account.
    await create(accountOps, 'platform-ops', ['keysmith:admin', 'service-accounts:read', 'keysmith-audience'], operator);
  });
  afterAll(async () => {
    for (const clientId of [accountA, accountB, accountOps, accountB2, accountAGitops]) await t.inject({ method: 'DELETE', url: `${base}/${clientId}`, headers: operator });
    await t.close();
  });

  describe('key scopes are bounded by the issuer', () => {
    it('a key cannot issue a key broader than itself; a key holding the scopes can', async () => {
      const narrow = await issued('narrow', accountA, ['api-keys:write']);
      const refused = await issue(accountA, ['read:data'], apiKeyHeaders(narrow.key));
      expectRefused(refused, 403, 'SCOPE_ESCALATION');
      expect(refused.json().scopes).toEqual(['read:data']);
      expect(await lastEvent(`action=api_key.issued&clientId=${accountA}&actor=${narrow.id}`)).toMatchObject({ outcome: 'failure', detail: { code: 'SCOPE_ESCALATION', scopes: ['read:data'] } });

      const broad = await issued('broad', accountA, ['api-keys:write', 'read:data']);
      expect((await issue(accountA, ['read:data'], apiKeyHeaders(broad.key))).statusCode).toBe(201);
    });

    it('a caller cannot put a Keysmith scope it lacks on a key; a holder can', async () => {
      // Team A's token holds no audit:read; its account does.
      const refused = await issue(accountA, ['audit:read'], teamA);
      expectRefused(refused, 403, 'SCOPE_ESCALATION');
      expect(await lastEvent(`action=api_key.issued&clientId=${accountA}&actor=${SEEDED_CALLERS.teamA}`)).toMatchObject({ outcome: 'failure', owner: 'team-a' });
      expect((await issue(accountA, ['audit:read'])).statusCode).toBe(201);
    });

    it('keysmith:admin goes on a key only by a holder of keysmith:admin, also on rotation', async () => {
      expectRefused(await issue(accountOps, ['keysmith:admin']), 403, 'SCOPE_ESCALATION');
      const admin = await issued('ops-admin', accountOps, ['keysmith:admin'], operator);
      const rotate = (headers: Headers) => t.inject({ method: 'POST', url: `/v1/api-keys/${admin.id}/rotate`, headers, payload: { graceHours: 0 } });
      expectRefused(await rotate({}), 403, 'SCOPE_ESCALATION');
      expect(await lastEvent(`action=api_key.rotated&clientId=${accountOps}`)).toMatchObject({ outcome: 'failure', target: admin.id });
      const rotated = await rotate(operator);
      expect(rotated.statusCode).toBe(201);
      remember(t.secrets, rotated.json().key);
    });
  });

  describe("an account's secret goes only to a holder of its Keysmith scopes", () => {
    it('reading or rotating the secret of an account holding keysmith:admin needs keysmith:admin', async () => {
      const read = (headers: Headers) => t.inject({ method: 'GET', url: `${base}/${accountOps}/secret`, headers });
      const refused = await read({});
      expectRefused(refused, 403, 'SCOPE_ESCALATION');
      expect(refused.json().scopes).toEqual(['keysmith:admin']);
      expect(refused.body).not.toContain(secrets.get(accountOps)!);
      expect(await lastEvent(`action=client_secret.read&clientId=${accountOps}`)).toMatchObject({ outcome: 'failure', detail: { code: 'SCOPE_ESCALATION' } });
      const rotation = await t.inject({ method: 'POST', url: `${base}/${accountOps}/secret/rotate`, headers: {}, payload: { graceHours: 1 } });
      expectRefused(rotation, 403, 'SCOPE_ESCALATION');
      expect(await lastEvent(`action=client_secret.rotated&clientId=${accountOps}`)).toMatchObject({ outcome: 'failure', detail: { code: 'SCOPE_ESCALATION' } });
      // The holder reads it, and it is still the secret given at creation (the refused rotation changed nothing).
      const allowed = await read(operator);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json().clientSecret).toBe(secrets.get(accountOps));
      // The holder rotates it too.
      const rotated = await t.inject({ method: 'POST', url: `${base}/${accountOps}/secret/rotate`, headers: operator, payload: { graceHours: 1 } });
      expect(rotated.statusCode).toBe(200);
      secrets.set(accountOps, remember(t.secrets, rotated.json().clientSecret as string));
      expect(rotated.json().clientSecret).not.toBe(allowed.json().clientSecret);
    });
  });

  describe('a Keycloak token is confined by its client', () => {
    it("a managed client's own token is confined to its account's owner", async () => {
      const token = remember(t.secrets, await tokenFor(accountA, secrets.get(accountA)));
      const list = await t.inject({ method: 'GET', url: `${base}?limit=500`, headers: authHeaders(token) });
      expect(list.statusCode).toBe(200);
      expect(new Set(list.json().items.map((a: { owner: string }) => a.owner))).toEqual(new Set(['team-a']));
      expect((await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: authHeaders(token) })).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: `${base}/${accountA}`, headers: authHeaders(token) })).statusCode).toBe(200);
    });

    it('a managed client whose account legitimately holds keysmith:admin is not confined', async () => {
      const token = remember(t.secrets, await tokenFor(accountOps, secrets.get(accountOps)));
      const res = await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: authHeaders(token) });
      expect(res.statusCode).toBe(200);
    });

    it('an owner claim added behind Keysmith\'s back cannot move a managed client to another owner', async () => {
      const kc = await keycloakAdmin();
      const [client] = await kc.clients.find({ realm, clientId: accountA });
      await kc.clients.addProtocolMapper({ realm, id: client.id! }, {
        name: 'forged-owner', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper',
        config: { 'claim.name': 'keysmith_owner', 'claim.value': 'team-b', 'jsonType.label': 'String', 'access.token.claim': 'true' },
      });
      try {
        const token = remember(t.secrets, await tokenFor(accountA, secrets.get(accountA)));
        const res = await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: authHeaders(token) });
        expectRefused(res, 401, 'INVALID_CREDENTIALS');
        expect(res.json().detail).toMatch(/owner claim does not match/);
        expect(await lastEvent(`action=auth.refused&actor=${accountA}`)).toMatchObject({ outcome: 'failure', detail: { code: 'INVALID_CREDENTIALS' } });
      } finally {
        const mappers = await kc.clients.listProtocolMappers({ realm, id: client.id! });
        for (const mapper of mappers.filter((m) => m.name === 'forged-owner')) await kc.clients.delProtocolMapper({ realm, id: client.id!, mapperId: mapper.id! });
      }
    });

    it("one token of a managed client loses at once what its account loses, and regains it with the account", async () => {
      // The same token throughout: its claims do not change, only the account Keysmith judges it by.
      const token = remember(t.secrets, await tokenFor(accountA, secrets.get(accountA)));
      const readAudit = () => t.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: authHeaders(token) });
      const patch = async (body: unknown) => expect((await t.inject({ method: 'PATCH', url: `${base}/${accountA}`, payload: body })).statusCode).toBe(200);
      expect((await readAudit()).statusCode).toBe(200);
      try {
        await patch({ defaultScopes: { remove: ['audit:read'] } });
        expectRefused(await readAudit(), 403, 'INSUFFICIENT_SCOPE');
        await patch({ defaultScopes: { add: ['audit:read'] } });
        expect((await readAudit()).statusCode).toBe(200);

        await patch({ enabled: false });
        const refused = await readAudit();
        expectRefused(refused, 401, 'INVALID_CREDENTIALS');
        expect(refused.json().detail).toMatch(/is disabled/);
      } finally {
        await patch({ enabled: true, defaultScopes: { add: ['audit:read'] } });
      }
      expect((await readAudit()).statusCode).toBe(200);
    });

    it('a token of a client Keysmith does not manage is refused unless the operator trusts it', async () => {
      const kc = await keycloakAdmin();
      const clientId = uniqueClientId('authz-stranger');
      const secret = remember(t.secrets, randomBytes(24).toString('base64url'));
      const { id } = await kc.clients.create({
        realm, clientId, secret, publicClient: false, serviceAccountsEnabled: true, standardFlowEnabled: false, directAccessGrantsEnabled: false,
      });
      try {
        for (const name of ['keysmith-audience', 'audit:read']) {
          const scope = await kc.clientScopes.findOneByName({ realm, name });
          await kc.clients.addDefaultClientScope({ realm, id, clientScopeId: scope!.id! });
        }
        const token = remember(t.secrets, await tokenFor(clientId, secret));
        const refused = await t.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: authHeaders(token) });
        expectRefused(refused, 401, 'INVALID_CREDENTIALS');
        expect(refused.headers['www-authenticate']).toContain('KEYSMITH_TRUSTED_CALLERS');
        expect(await lastEvent(`action=auth.refused&actor=${clientId}`)).toMatchObject({ outcome: 'failure', detail: { code: 'INVALID_CREDENTIALS' } });

        const trusting = await createTestApp({ env: { KEYSMITH_TRUSTED_CALLERS: `${SEEDED_CALLERS.tester},${clientId}` } });
        try {
          const res = await trusting.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: authHeaders(token) });
          expect(res.statusCode).toBe(200);
        } finally {
          await trusting.close();
        }
      } finally {
        await kc.clients.del({ realm, id });
      }
    });
  });

  describe('keys follow their account\'s current scopes', () => {
    it('a key loses a scope removed from its account, and regains it when the account does', async () => {
      const auditor = await issued('auditor', accountA, ['audit:read', 'read:data']);
      const readAudit = () => t.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: apiKeyHeaders(auditor.key) });
      expect((await readAudit()).statusCode).toBe(200);

      const patch = (body: unknown) => t.inject({ method: 'PATCH', url: `${base}/${accountA}`, payload: body });
      expect((await patch({ defaultScopes: { remove: ['audit:read'] } })).statusCode).toBe(200);
      expectRefused(await readAudit(), 403, 'INSUFFICIENT_SCOPE');
      expect(await lastEvent(`action=auth.refused&actor=${auditor.id}`)).toMatchObject({ detail: { code: 'INSUFFICIENT_SCOPE' } });

      const view = (await t.inject({ method: 'GET', url: `/v1/api-keys/${auditor.id}` })).json();
      expect(view).toMatchObject({ issuedScopes: ['audit:read', 'read:data'], scopes: ['read:data'] });
      const verified = (await t.inject({ method: 'POST', url: '/v1/api-keys/verify', payload: { key: auditor.key, requiredScopes: ['audit:read'] } })).json();
      expect(verified).toEqual({ valid: false, code: 'INSUFFICIENT_SCOPE' });
      const check = await t.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': auditor.key } });
      expect([check.statusCode, check.headers['x-auth-scopes']]).toEqual([200, 'read:data']);

      const report = (await t.inject({ method: 'GET', url: '/v1/api-keys/scope-report', headers: teamA })).json();
      expect(report.enforcement).toBe('enforce');
      expect(report.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: auditor.id, excessScopes: ['audit:read'], scopes: ['read:data'] })]));
      expect((await t.inject({ method: 'GET', url: '/v1/api-keys/scope-report', headers: teamB })).json().items.map((i: { id: string }) => i.id)).not.toContain(auditor.id);
      const excessEvents = await t.inject({ method: 'GET', url: `/v1/audit-events?action=api_key.scope_excess&clientId=${accountA}` });
      expect(excessEvents.json().items.filter((e: { target: string }) => e.target === auditor.id)).toHaveLength(1);

      expect((await patch({ defaultScopes: { add: ['audit:read'] } })).statusCode).toBe(200);
      expect((await readAudit()).statusCode).toBe(200);
    });
  });

  describe('owner-bound callers reach only their owner', () => {
    let keyA: string;
    let keyB: string;

    beforeAll(async () => {
      keyA = (await issued('owner-a', accountA, ['audit:read', 'jobs:read', 'jobs:run'])).key;
      keyB = (await issued('owner-b', accountB, ['audit:read', 'jobs:read'])).key;
    });

    it("a PUT with If-Match learns nothing of another owner's account: the answer of an account that does not exist", async () => {
      const payload = { owner: 'team-a', defaultScopes: ['read:data'] };
      const theirs = await t.inject({ method: 'PUT', url: `${base}/${accountB}`, headers: { ...teamA, 'if-match': '"x"' }, payload });
      const none = await t.inject({ method: 'PUT', url: `${base}/${uniqueClientId('authz-none')}`, headers: { ...teamA, 'if-match': '"x"' }, payload });
      expectRefused(theirs, 412, 'PRECONDITION_FAILED');
      expect(theirs.json().etag).toBeNull();
      expect(theirs.json().detail).toBe(none.json().detail.replace(/authz-none-[^ ]+/, accountB));
      // Team B, whose account it is, learns the entity tag and changes the account with it.
      const read = await t.inject({ method: 'GET', url: `${base}/${accountB}`, headers: teamB });
      const own = await t.inject({ method: 'PUT', url: `${base}/${accountB}`, headers: { ...teamB, 'if-match': read.headers.etag as string }, payload: { owner: 'team-b', defaultScopes: ownScopes, description: 'changed by its owner' } });
      expect(own.statusCode).toBe(200);
      expect(own.json().description).toBe('changed by its owner');
    });

    it("a GitOps plan shows an owner-bound caller its own owner's account field by field, and another owner's as not found", async () => {
      // A caller bound to team A that may plan: a key of a team A account holding gitops:apply.
      await create(accountAGitops, 'team-a', ['gitops:apply', 'keysmith-audience']);
      const planner = apiKeyHeaders((await issued('owner-a-gitops', accountAGitops, ['gitops:apply'])).key);
      const spec = { description: 'planned by team A', defaultScopes: ownScopes.filter((scope) => scope !== 'read:data') };
      const definition = (name: string) => ({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name, realm, owner: 'team-a' }, spec });
      const plan = await t.inject({ method: 'POST', url: '/v1/gitops/plan', headers: planner, payload: { definitions: [definition(accountA), definition(accountB)] } });
      expect(plan.statusCode).toBe(200);
      const byId = new Map((plan.json().accounts as { clientId: string }[]).map((account) => [account.clientId, account]));
      // Team A's own account: what apply would change in it, as it really is.
      expect(byId.get(accountA)).toMatchObject({ action: 'update', adopt: true, forbidden: [], violations: [] });
      expect(byId.get(accountA)).not.toHaveProperty('error');
      expect((byId.get(accountA) as unknown as { changes: unknown[] }).changes).toEqual([
        { field: 'description', action: 'set', from: '', to: 'planned by team A' },
        { field: 'defaultScopes', action: 'remove', value: 'read:data' },
      ]);
      // Team B's account, the same definition: not found, and nothing of it shown.
      expect(byId.get(accountB)).toEqual(expect.objectContaining({ action: 'error', changes: [], error: { code: 'SERVICE_ACCOUNT_NOT_FOUND', detail: expect.any(String) } }));
      expect(JSON.stringify(byId.get(accountB))).not.toMatch(/team-b|changed by its owner|adopt/);
      expect(plan.json().summary).toMatchObject({ update: 1, errors: 1 });
      // A plan writes nothing.
      expect((await t.inject({ method: 'GET', url: `${base}/${accountA}` })).json()).toMatchObject({ description: '', defaultScopes: expect.arrayContaining(['read:data']) });
    });

    it('audit list and export show an owner-bound caller only its owner\'s events', async () => {
      const list = await t.inject({ method: 'GET', url: '/v1/audit-events?limit=500', headers: apiKeyHeaders(keyA) });
      expect(list.statusCode).toBe(200);
      const items = list.json().items as { owner: string | null; clientId: string | null }[];
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items.map((e) => e.owner))).toEqual(new Set(['team-a']));
      expect(items.map((e) => e.clientId)).not.toContain(accountB);
      const filtered = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${accountB}`, headers: apiKeyHeaders(keyA) });
      expect(filtered.json().items).toEqual([]);

      const exported = await t.inject({ method: 'GET', url: '/v1/audit-events/export', headers: apiKeyHeaders(keyA) });
      const lines = exported.body.trim().split('\n').map((line) => JSON.parse(line) as { owner: string; clientId: string | null });
      expect(lines.length).toBeGreaterThan(0);
      expect(new Set(lines.map((e) => e.owner))).toEqual(new Set(['team-a']));

      // Entitled: an unconfined caller sees team B's events too.
      const all = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${accountB}&action=service_account.created` });
      expect(all.json().items).toEqual([expect.objectContaining({ owner: 'team-b', clientId: accountB })]);
      const ofB = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${accountB}&action=service_account.created`, headers: apiKeyHeaders(keyB) });
      expect(ofB.json().items).toHaveLength(1);
    });

    it('an owner-bound caller cannot run a job and sees runs without what they did; an unconfined caller can', async () => {
      const refused = await t.inject({ method: 'POST', url: '/v1/jobs/key-expiry/run', headers: apiKeyHeaders(keyA), payload: { dryRun: true } });
      expectRefused(refused, 403, 'OWNER_FORBIDDEN');
      expect(await lastEvent('action=job.run_requested')).toMatchObject({ outcome: 'failure', owner: 'team-a', target: 'key-expiry' });

      const started = await t.inject({ method: 'POST', url: '/v1/jobs/key-expiry/run', payload: { dryRun: true } });
      expect(started.statusCode).toBe(202);
      const runId = started.json().runId as string;
      // The start is audited as the caller's, and the refused one stays apart.
      expect(await lastEvent('action=job.run')).toMatchObject({ outcome: 'success', target: 'key-expiry', actor: { type: 'jwt' }, detail: { runId, trigger: 'manual', dryRun: true } });
      let full: Record<string, unknown> = {};
      for (let i = 0; i < 200 && (full.outcome ?? 'running') === 'running'; i += 1) {
        full = (await t.inject({ method: 'GET', url: `/v1/jobs/key-expiry/runs/${runId}` })).json();
        if (full.outcome === 'running') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(full).toMatchObject({ outcome: 'success' });
      expect(full.redacted).toBeUndefined();

      const seen = (await t.inject({ method: 'GET', url: `/v1/jobs/key-expiry/runs/${runId}`, headers: apiKeyHeaders(keyA) })).json();
      expect(seen).toMatchObject({ id: runId, outcome: 'success', counts: {}, errors: [], details: [], redacted: true });
      const history = (await t.inject({ method: 'GET', url: '/v1/jobs/key-expiry/runs', headers: apiKeyHeaders(keyA) })).json();
      expect(history.items.every((run: { redacted?: boolean; details: unknown[] }) => run.redacted === true && run.details.length === 0)).toBe(true);
      const jobs = (await t.inject({ method: 'GET', url: '/v1/jobs', headers: apiKeyHeaders(keyA) })).json();
      expect(jobs.items.find((job: { name: string }) => job.name === 'key-expiry').lastRun).toMatchObject({ redacted: true, counts: {} });
    });

    it('team A cannot read or rotate team B\'s client secret; team B can', async () => {
      const read = await t.inject({ method: 'GET', url: `${base}/${accountB}/secret`, headers: teamA });
      expectRefused(read, 404, 'SERVICE_ACCOUNT_NOT_FOUND');
      expect(await lastEvent(`action=client_secret.read&clientId=${accountB}&actor=${SEEDED_CALLERS.teamA}`)).toMatchObject({ outcome: 'failure', owner: 'team-a' });
      const rotate = await t.inject({ method: 'POST', url: `${base}/${accountB}/secret/rotate`, headers: teamA, payload: { graceHours: 0 } });
      expectRefused(rotate, 404, 'SERVICE_ACCOUNT_NOT_FOUND');
      expect(await lastEvent(`action=client_secret.rotated&clientId=${accountB}&actor=${SEEDED_CALLERS.teamA}`)).toMatchObject({ outcome: 'failure' });

      // Team B's own account holds Keysmith scopes team B's token lacks: its secret would give them.
      const beyond = await t.inject({ method: 'GET', url: `${base}/${accountB}/secret`, headers: teamB });
      expectRefused(beyond, 403, 'SCOPE_ESCALATION');
      expect(beyond.json().scopes).toEqual(expect.arrayContaining(['audit:read', 'jobs:run']));
      // An account of team B's whose scopes team B holds: its secret is team B's to read.
      await create(accountB2, 'team-b', ['read:data']);
      const own = await t.inject({ method: 'GET', url: `${base}/${accountB2}/secret`, headers: teamB });
      expect(own.statusCode).toBe(200);
      expect(remember(t.secrets, own.json().clientSecret as string)).toBe(secrets.get(accountB2));
    });
  });

  describe('upgrading without an outage', () => {
    it('report mode keeps a key\'s old scopes and reports them; enforce mode, after a restart, cuts them', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-report-'));
      const clientId = uniqueClientId('authz-report');
      const boot = async (enforcement: string) => {
        const app = await createTestApp({ dataDir, env: { KEYSMITH_KEY_SCOPE_ENFORCEMENT: enforcement } });
        await authenticateSuite(app);
        return app;
      };
      let app = await boot('report');
      try {
        const created = await app.inject({ method: 'POST', url: base, payload: { clientId, owner: 'team-report', defaultScopes: ['read:data', 'audit:read'] } });
        expect(created.statusCode).toBe(201);
        remember(t.secrets, created.json().clientSecret as string);
        const res = await app.inject({ method: 'POST', url: `${base}/${clientId}/api-keys`, payload: { name: 'legacy', scopes: ['audit:read', 'read:data'] } });
        const key = { id: res.json().id as string, key: remember(t.secrets, res.json().key as string) };
        expect((await app.inject({ method: 'PATCH', url: `${base}/${clientId}`, payload: { defaultScopes: { remove: ['audit:read'] } } })).statusCode).toBe(200);

        const readAudit = (on: TestApp) => on.inject({ method: 'GET', url: '/v1/audit-events?limit=1', headers: apiKeyHeaders(key.key) });
        expect((await readAudit(app)).statusCode).toBe(200);
        expect((await app.inject({ method: 'GET', url: `/v1/api-keys/${key.id}` })).json()).toMatchObject({ issuedScopes: ['audit:read', 'read:data'], scopes: ['audit:read', 'read:data'] });
        const report = (await app.inject({ method: 'GET', url: '/v1/api-keys/scope-report' })).json();
        expect(report).toMatchObject({ enforcement: 'report', items: [expect.objectContaining({ id: key.id, excessScopes: ['audit:read'], scopes: ['audit:read', 'read:data'] })] });
        expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^keysmith_api_keys_scope_excess 1$/m);
        await app.close();

        app = await boot('enforce');
        expectRefused(await readAudit(app), 403, 'INSUFFICIENT_SCOPE');
        // The start-up check counts it again, but the excess is audited once across both starts.
        expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^keysmith_api_keys_scope_excess 1$/m);
        const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?action=api_key.scope_excess&clientId=${clientId}` })).json().items;
        expect(events).toEqual([expect.objectContaining({ target: key.id, owner: 'team-report', detail: expect.objectContaining({ excessScopes: ['audit:read'] }) })]);
        for (const secret of app.secrets) t.secrets.add(secret);
        expect(app.logs.leaked(t.secrets)).toEqual([]);
      } finally {
        await app.inject({ method: 'DELETE', url: `${base}/${clientId}` });
        await app.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('at the end', () => {
    it('needs no migration beyond those shipped', async () => {
      expect(await pendingSchemaChanges(t.app.get(DataSource))).toEqual([]);
    });

    it('logs no token, key or secret this suite used', () => {
      expectNoSecretInLogs('authority-callers');
    });
  });
});
