import { randomBytes } from 'node:crypto';
import { adminToken, apiKeyHeaders, authHeaders, remember } from './support/auth.js';
import { uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const accounts = '/v1/realms/platform/service-accounts';
const AUDIT = '/v1/audit-events';

/** Keysmith's own API called with Keysmith API keys (X-API-Key) instead of a bearer JWT. */
describe('Authentication of Keysmith API: API keys', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  const created: string[] = [];
  let account: string;

  const createAccount = async (extra: Record<string, unknown> = {}) => {
    const clientId = uniqueClientId('auth-keys');
    const res = await t.inject({
      method: 'POST',
      url: accounts,
      headers: admin,
      payload: {
        clientId,
        owner: 'team-keys',
        defaultScopes: ['audit:read', 'service-accounts:read'],
        optionalScopes: ['api-keys:read', 'api-keys:write'],
        ...extra,
      },
    });
    expect(res.statusCode).toBe(201);
    remember(t.secrets, res.json().clientSecret);
    created.push(clientId);
    return clientId;
  };
  const issue = async (scopes: string[], extra: Record<string, unknown> = {}, clientId = account) => {
    const res = await t.inject({ method: 'POST', url: `${accounts}/${clientId}/api-keys`, headers: admin, payload: { name: `k-${randomBytes(2).toString('hex')}`, scopes, ...extra } });
    expect(res.statusCode).toBe(201);
    return { id: res.json().id as string, key: remember(t.secrets, res.json().key as string) };
  };
  const get = (url: string, key: string) => t.inject({ method: 'GET', url, headers: apiKeyHeaders(key) });
  const expectInvalid = (res: Awaited<ReturnType<typeof get>>, detail: RegExp) => {
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', detail: expect.stringMatching(detail) });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="keysmith", error="invalid_token", error_description="[^"]+"$/);
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = authHeaders(remember(t.secrets, await adminToken()));
    account = await createAccount({ apiKeyPolicy: { defaultTtlDays: 30, maxTtlDays: 90, rateLimit: null } });
  });
  afterAll(async () => {
    t.clock.reset();
    for (const clientId of created) await t.inject({ method: 'DELETE', url: `${accounts}/${clientId}`, headers: admin });
    await t.close();
  });
  afterEach(() => t.clock.reset());

  it('accepts a valid key holding the route scope, confined to its account owner', async () => {
    const { key } = await issue(['service-accounts:read']);
    const one = await get(`${accounts}/${account}`, key);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ clientId: account, owner: 'team-keys' });
    const list = await get(`${accounts}?limit=500`, key);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((a: { clientId: string }) => a.clientId)).toContain(account);
    expect(new Set(list.json().items.map((a: { owner: string }) => a.owner))).toEqual(new Set(['team-keys']));
  });

  it('answers 403 INSUFFICIENT_SCOPE with required and provided for a key without the route scope', async () => {
    const { key } = await issue(['audit:read']);
    expect((await get(`${AUDIT}?limit=1`, key)).statusCode).toBe(200);
    const res = await get(accounts, key);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required: ['service-accounts:read'], provided: ['audit:read'] });
  });

  it('refuses a revoked key at once', async () => {
    const { id, key } = await issue(['audit:read']);
    expect((await get(`${AUDIT}?limit=1`, key)).statusCode).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: admin })).statusCode).toBe(204);
    expectInvalid(await get(`${AUDIT}?limit=1`, key), /revoked/);
  });

  it('refuses an expired key', async () => {
    const { key } = await issue(['audit:read'], { ttlDays: 1 });
    expect((await get(`${AUDIT}?limit=1`, key)).statusCode).toBe(200);
    t.clock.advanceDays(2);
    expectInvalid(await get(`${AUDIT}?limit=1`, key), /expired/);
  });

  it('refuses the keys of a disabled service account', async () => {
    const disabled = await createAccount();
    const { key } = await issue(['audit:read'], {}, disabled);
    expect((await t.inject({ method: 'PATCH', url: `${accounts}/${disabled}`, headers: admin, payload: { enabled: false } })).statusCode).toBe(200);
    expectInvalid(await get(`${AUDIT}?limit=1`, key), /disabled/);
  });

  it('refuses unknown keys and keys failing the checksum', async () => {
    const { key } = await issue(['audit:read']);
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expectInvalid(await get(`${AUDIT}?limit=1`, `${key.slice(0, -1)}${last}`), /malformed|not known/);
    expectInvalid(await get(`${AUDIT}?limit=1`, 'sk_live_nope'), /malformed/);
  });

  it('answers 429 with Retry-After past the account rate limit', async () => {
    const limited = await createAccount({ apiKeyPolicy: { rateLimit: { requests: 2, perSeconds: 60 } } });
    const { key } = await issue(['audit:read'], {}, limited);
    expect((await get(`${AUDIT}?limit=1`, key)).statusCode).toBe(200);
    expect((await get(`${AUDIT}?limit=1`, key)).statusCode).toBe(200);
    const res = await get(`${AUDIT}?limit=1`, key);
    expect(res.statusCode).toBe(429);
    expect(res.json().code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('records the key as actor of what it does', async () => {
    const { id, key } = await issue(['api-keys:write', 'audit:read']);
    const issued = await t.inject({ method: 'POST', url: `${accounts}/${account}/api-keys`, headers: apiKeyHeaders(key), payload: { name: 'by-key', scopes: ['audit:read'] } });
    expect(issued.statusCode).toBe(201);
    remember(t.secrets, issued.json().key);
    const events = await t.inject({ method: 'GET', url: `${AUDIT}?action=api_key.issued&actor=${id}`, headers: admin });
    expect(events.json().items).toEqual([expect.objectContaining({ actor: { type: 'api-key', id } })]);
  });

  describe('at the end', () => {
    it('logs no key, token or secret this suite used', () => {
      expectNoSecretInLogs('auth-api-keys');
    });
  });
});
