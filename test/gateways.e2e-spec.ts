import { randomBytes } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { checksumOf, createAccount, deleteAccount, issueKey } from './support/api-keys.js';
import { authenticateSuite } from './support/auth.js';
import { freePort, send, startBackend, startCaddy, startNginx, type Backend, type ClientResponse, type GatewayProcess } from './support/gateways/index.js';
import { uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';
// Keysmith believes X-Forwarded-For only from the gateways, which connect from 127.0.0.1.
const TRUSTED_PROXIES = '127.0.0.1/32';
// Callers speak from other loopback addresses (all of 127.0.0.0/8 is local).
const ATTACKER = '127.0.0.2';
const USER = '127.0.0.3';

function unknownKey(): string {
  const body = `sk_live_${randomBytes(32).toString('base64url').replace(/[-_]/g, 'A').slice(0, 43)}`;
  return body + checksumOf(body);
}

describe('Gateways: the README recipes with real nginx and Caddy in front of Keysmith', () => {
  let t: TestApp;
  let backend: Backend;
  const gateways: Record<'nginx' | 'caddy', GatewayProcess> = {} as never;
  let account: string;
  let limitedAccount: string;
  let operatorAccount: string;
  const keys: Record<string, { id: string; key: string }> = {};

  const issue = async (clientId: string, name: string, scopes: string[]) => {
    const res = await issueKey(t, REALM, clientId, { name, scopes });
    expect(res.statusCode).toBe(201);
    return { id: res.json().id as string, key: res.json().key as string };
  };
  const through = (name: 'nginx' | 'caddy', path: string, options: Parameters<typeof send>[1] = {}) =>
    send(`http://127.0.0.1:${gateways[name].port}${path}`, options);
  const failedAuditAddresses = async () =>
    (await t.app.get(AuditService).list({ action: 'api_key.verified_failed' }, 500)).items.map((event) => (event.detail as { clientAddress?: string }).clientAddress);

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYSMITH_TRUSTED_PROXIES: TRUSTED_PROXIES } });
    await authenticateSuite(t);
    account = uniqueClientId('gw-orders');
    limitedAccount = uniqueClientId('gw-limited');
    operatorAccount = uniqueClientId('gw-operator');
    await createAccount(t, REALM, account, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
    await createAccount(t, REALM, limitedAccount, { defaultScopes: ['read:data'], apiKeyPolicy: { rateLimit: { requests: 1, perSeconds: 60 } } });
    await createAccount(t, REALM, operatorAccount, { defaultScopes: ['service-accounts:read'], optionalScopes: [] });
    keys.reader = await issue(account, 'reader', ['read:data']);
    keys.writer = await issue(account, 'writer', ['write:data']);
    keys.revoked = await issue(account, 'revoked', ['read:data']);
    keys.limitedNginx = await issue(limitedAccount, 'limited-nginx', ['read:data']);
    keys.limitedCaddy = await issue(limitedAccount, 'limited-caddy', ['read:data']);
    keys.operator = await issue(operatorAccount, 'operator', ['service-accounts:read']);
    expect((await t.inject({ method: 'DELETE', url: `/v1/api-keys/${keys.revoked.id}` })).statusCode).toBe(204);

    backend = await startBackend();
    const keysmith = Number(new URL(t.baseUrl).port);
    gateways.nginx = await startNginx({ keysmith, backend: backend.port });
    gateways.caddy = await startCaddy({ keysmith, backend: backend.port });
  });

  afterAll(async () => {
    for (const gateway of Object.values(gateways)) await gateway?.stop();
    await backend?.close();
    for (const clientId of [account, limitedAccount, operatorAccount]) if (clientId) await deleteAccount(t, REALM, clientId);
    await t?.close();
  });

  describe.each(['nginx', 'caddy'] as const)('through %s', (name) => {
    it("lets a valid key through; the backend sees who called (Keysmith's X-Auth-*, never the caller's) and never the key", async () => {
      const before = backend.seen.length;
      const res = await through(name, '/api/orders/42?expand=1', {
        method: 'POST',
        // Forged identity headers: the backend must see Keysmith's, never the caller's.
        headers: {
          'x-api-key': keys.reader.key,
          'x-auth-client-id': 'forged',
          'x-auth-realm': 'forged-realm',
          'x-auth-scopes': 'admin:all',
          'x-auth-key-id': 'forged-key-id',
          'content-type': 'application/json',
        },
        body: '{"order":42}',
        from: USER,
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-backend']).toBe('yes');
      expect(backend.seen).toHaveLength(before + 1);
      const seen = backend.seen[before]!;
      expect(seen).toMatchObject({ method: 'POST', url: '/api/orders/42?expand=1' });
      expect(seen.headers).toMatchObject({
        'x-auth-client-id': account,
        'x-auth-realm': REALM,
        'x-auth-scopes': 'read:data',
        'x-auth-key-id': keys.reader.id,
      });
      expect(JSON.stringify(seen.headers)).not.toMatch(/forged|admin:all/);
      expect(seen.headers['x-api-key']).toBeUndefined();
    });

    it("refuses a missing, bad or revoked key with 401 and a key without the route's scope with 403; none reaches the backend", async () => {
      const before = backend.seen.length;
      const statusOf = async (headers: Record<string, string>) => (await through(name, '/api/orders', { headers, from: USER })).status;
      expect(await statusOf({})).toBe(401);
      expect(await statusOf({ 'x-api-key': 'sk_live_nope' })).toBe(401);
      expect(await statusOf({ 'x-api-key': unknownKey() })).toBe(401);
      expect(await statusOf({ 'x-api-key': keys.revoked.key })).toBe(401);
      expect(await statusOf({ 'x-api-key': keys.writer.key })).toBe(403);
      expect(backend.seen).toHaveLength(before);
    });

    it("gives back Keysmith's 429 with Retry-After, and passes a backend failure on unchanged", async () => {
      const key = name === 'nginx' ? keys.limitedNginx : keys.limitedCaddy;
      expect((await through(name, '/api/orders', { headers: { 'x-api-key': key.key }, from: USER })).status).toBe(200);
      const limited = await through(name, '/api/orders', { headers: { 'x-api-key': key.key }, from: USER });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      const boom = await through(name, '/api/boom', { headers: { 'x-api-key': keys.reader.key }, from: USER });
      expect(boom.status).toBe(500);
      expect(boom.headers['x-backend']).toBe('yes');
    });
  });

  it('nginx answers 500, not 429 nor 200, when Keysmith cannot be reached: a real outage is not hidden', async () => {
    const nowhere = await startNginx({ keysmith: await freePort(), backend: backend.port });
    try {
      const res = await send(`http://127.0.0.1:${nowhere.port}/api/orders`, { headers: { 'x-api-key': keys.reader.key }, from: USER });
      expect(res.status).toBe(500);
      expect(res.headers['retry-after']).toBeUndefined();
    } finally {
      await nowhere.stop();
    }
  });

  describe('client addresses', () => {
    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const res = await send(`${t.baseUrl}/v1/auth/check`, { headers: { 'x-api-key': unknownKey(), 'x-forwarded-for': '127.0.0.77' }, from: '127.0.0.9' });
      expect(res.status).toBe(401);
      const addresses = await failedAuditAddresses();
      expect(addresses).toContain('127.0.0.9');
      expect(addresses).not.toContain('127.0.0.77');
    });

    it.each(['nginx', 'caddy'] as const)("through %s, a caller's made-up X-Forwarded-For is not its address", async (name) => {
      const caller = name === 'nginx' ? '127.0.0.10' : '127.0.0.11';
      const spoofed = name === 'nginx' ? '127.0.0.78' : '127.0.0.79';
      const res = await through(name, '/api/orders', { headers: { 'x-api-key': unknownKey(), 'x-forwarded-for': spoofed }, from: caller });
      expect(res.status).toBe(401);
      const addresses = await failedAuditAddresses();
      expect(addresses).toContain(caller);
      expect(addresses).not.toContain(spoofed);
    });

    it("a lockout attempt through nginx blocks only the attacker's further bad keys: not a valid key from anyone, nor the admin API", async () => {
      const budget = t.config.apiKeys.authCheckMaxFailures;
      const attempts: ClientResponse[] = [];
      for (let i = 0; i < budget + 5; i += 1) attempts.push(await through('nginx', '/api/orders', { headers: { 'x-api-key': unknownKey() }, from: ATTACKER }));
      expect(attempts.slice(0, budget).map((res) => res.status)).toEqual(Array(budget).fill(401));
      expect(attempts.slice(budget).map((res) => res.status)).toEqual(Array(5).fill(429));
      expect(Number(attempts.at(-1)!.headers['retry-after'])).toBeGreaterThan(0);

      // A valid key passes, from another caller and from the attacker's own address.
      expect((await through('nginx', '/api/orders', { headers: { 'x-api-key': keys.reader.key }, from: USER })).status).toBe(200);
      expect((await through('nginx', '/api/orders', { headers: { 'x-api-key': keys.reader.key }, from: ATTACKER })).status).toBe(200);
      expect((await through('caddy', '/api/orders', { headers: { 'x-api-key': keys.reader.key }, from: ATTACKER })).status).toBe(200);
      // Another caller's bad key is still just 401: the budget is the attacker's alone.
      expect((await through('nginx', '/api/orders', { headers: { 'x-api-key': unknownKey() }, from: USER })).status).toBe(401);

      // Keysmith's own API: a JWT caller, and a key caller from the attacker's address, bad keys included.
      expect((await t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${account}` })).statusCode).toBe(200);
      const adminUrl = `${t.baseUrl}/v1/realms/${REALM}/service-accounts/${operatorAccount}`;
      expect((await send(adminUrl, { headers: { 'x-api-key': keys.operator.key }, from: ATTACKER })).status).toBe(200);
      for (let i = 0; i < 3; i += 1) expect((await send(adminUrl, { headers: { 'x-api-key': unknownKey() }, from: ATTACKER })).status).toBe(401);
      expect((await send(adminUrl, { headers: { 'x-api-key': keys.operator.key }, from: ATTACKER })).status).toBe(200);
    });
  });

  it('logs no secret this suite knows of', () => {
    for (const { key } of Object.values(keys)) t.secrets.add(key);
    expectNoSecretInLogs('gateways');
  });
});
