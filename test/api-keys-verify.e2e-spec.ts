import { AuditService } from '../src/audit/audit.service.js';
import { hotDoorOf } from '../src/common/http/hot-door.js';
import { checksumOf } from '../src/api-keys/strategies/api-key-format.js';
import { authenticateSuite } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { apiHeaders, createAccount, deleteAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';

/** A key with the right prefix and checksum that was never issued. */
function wellFormedUnknownKey(): string {
  const body = `sk_live_${'A'.repeat(20)}${Date.now().toString(36).padStart(23, '0')}`.slice(0, 51);
  return `${body}${checksumOf(body)}`;
}

describe('API keys: verification codes, forward auth, rate limits', () => {
  let t: TestApp;
  const accounts: string[] = [];
  let readKey: { id: string; key: string };
  let account: string;

  const check = (headers: Record<string, string>) => t.inject({ method: 'GET', url: '/v1/auth/check', headers });

  beforeAll(async () => {
    // A small per-address failure budget, so the flood test stays short.
    t = await createTestApp({ env: { KEYSMITH_AUTH_CHECK_MAX_FAILURES: '8', KEYSMITH_AUTH_CHECK_FAILURE_WINDOW_SECONDS: '60' } });
    await authenticateSuite(t);
    account = uniqueClientId('verify-main');
    await createAccount(t, REALM, account, { defaultScopes: ['read:data', 'reports:read'], optionalScopes: ['write:data'] });
    accounts.push(account);
    readKey = (await issueKey(t, REALM, account, { name: 'reader', scopes: ['read:data', 'reports:read'] })).json();
  });
  afterAll(async () => {
    for (const clientId of accounts) await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  describe('POST /v1/api-keys/verify', () => {
    it('answers valid with the identity, and checks requiredScopes', async () => {
      expect(await verify(t, readKey.key, ['read:data'])).toMatchObject({ valid: true, keyId: readKey.id, scopes: ['read:data', 'reports:read'] });
      expect(await verify(t, readKey.key, [])).toMatchObject({ valid: true });
      expect(await verify(t, readKey.key, ['read:data', 'write:data'])).toEqual({ valid: false, code: 'INSUFFICIENT_SCOPE' });
    });

    it('answers MALFORMED for anything not shaped like a key, including a bad checksum', async () => {
      const flipped = readKey.key.slice(0, 30) + (readKey.key[30] === 'x' ? 'y' : 'x') + readKey.key.slice(31);
      for (const key of ['', 'hello', readKey.key.slice(0, -1), `${readKey.key}0`, flipped, readKey.key.replace('sk_live_', 'pk_live_')]) {
        expect(await verify(t, key)).toEqual({ valid: false, code: 'MALFORMED' });
      }
    });

    it('answers NOT_FOUND for a well-formed key that was never issued', async () => {
      const key = wellFormedUnknownKey();
      t.secrets.add(key);
      expect(await verify(t, key)).toEqual({ valid: false, code: 'NOT_FOUND' });
    });

    it('answers EXPIRED, REVOKED and CLIENT_DISABLED by state and time', async () => {
      const expiring = (await issueKey(t, REALM, account, { name: 'expiring', scopes: [], ttlDays: 1 })).json();
      t.clock.advanceDays(2);
      try {
        expect(await verify(t, expiring.key)).toEqual({ valid: false, code: 'EXPIRED' });
      } finally {
        t.clock.reset();
      }
      const revoked = (await issueKey(t, REALM, account, { name: 'revoked', scopes: [] })).json();
      await t.inject({ method: 'DELETE', url: `/v1/api-keys/${revoked.id}`, headers: apiHeaders() });
      expect(await verify(t, revoked.key)).toEqual({ valid: false, code: 'REVOKED' });

      const disabled = uniqueClientId('verify-off');
      await createAccount(t, REALM, disabled);
      accounts.push(disabled);
      const key = (await issueKey(t, REALM, disabled, { name: 'off', scopes: [] })).json();
      await t.inject({ method: 'PATCH', url: `/v1/realms/${REALM}/service-accounts/${disabled}`, headers: apiHeaders(), payload: { enabled: false } });
      expect(await verify(t, key.key)).toEqual({ valid: false, code: 'CLIENT_DISABLED' });
    });

    it('answers RATE_LIMITED over the per-key limit, and recovers when the window passes', async () => {
      const limited = uniqueClientId('verify-limit');
      await createAccount(t, REALM, limited, { apiKeyPolicy: { rateLimit: { requests: 3, perSeconds: 10 } } });
      accounts.push(limited);
      const key = (await issueKey(t, REALM, limited, { name: 'limited', scopes: [] })).json();
      for (let i = 0; i < 3; i += 1) expect((await verify(t, key.key)).valid).toBe(true);
      const refused = await verify(t, key.key);
      expect(refused).toMatchObject({ valid: false, code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(10);

      const viaCheck = await check({ 'x-api-key': key.key });
      expect(viaCheck.statusCode).toBe(429);
      expect(viaCheck.headers['retry-after']).toMatch(/^\d+$/);
      expect(viaCheck.json()).toMatchObject({ code: 'RATE_LIMITED' });

      t.clock.advance(10_000);
      try {
        expect((await verify(t, key.key)).valid).toBe(true);
      } finally {
        t.clock.reset();
      }
    });

    it('validates its body', async () => {
      const res = await t.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: apiHeaders(), payload: { key: 1, extra: true } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /v1/auth/check (forward auth)', () => {
    it('answers 200 with an empty body and the identity headers for a valid key', async () => {
      const res = await check({ 'x-api-key': readKey.key, 'x-required-scopes': 'read:data, reports:read' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(res.headers).toMatchObject({
        'x-auth-client-id': account,
        'x-auth-realm': REALM,
        'x-auth-scopes': 'read:data reports:read',
        'x-auth-key-id': readKey.id,
      });
    });

    it('answers 401 without a key and for a bad key, naming the reason', async () => {
      const none = await check({});
      expect(none.statusCode).toBe(401);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(none.json()).toMatchObject({ code: 'AUTHENTICATION_REQUIRED', requestId: none.headers['x-request-id'] });
      expect(none.headers['www-authenticate']).toMatch(/^ApiKey/);

      const bad = await check({ 'x-api-key': 'sk_live_nope' });
      expect(bad.statusCode).toBe(401);
      expect(bad.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', reason: 'MALFORMED' });
      expect(bad.headers['x-auth-client-id']).toBeUndefined();

      const revoked = (await issueKey(t, REALM, account, { name: 'check-revoked', scopes: [] })).json();
      await t.inject({ method: 'DELETE', url: `/v1/api-keys/${revoked.id}`, headers: apiHeaders() });
      expect((await check({ 'x-api-key': revoked.key })).json()).toMatchObject({ status: 401, reason: 'REVOKED' });
    });

    it('answers 403 with required and provided scopes when a required scope is missing', async () => {
      const res = await check({ 'x-api-key': readKey.key, 'x-required-scopes': 'read:data write:data' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required: ['read:data', 'write:data'], provided: ['read:data', 'reports:read'] });
    });

    it('rate-limits repeated failures per client address with 429, never a valid key, audits them sparingly, and recovers', async () => {
      const audit = t.app.get(AuditService);
      const failedBefore = (await audit.list({ action: 'api_key.verified_failed' }, 500)).items.length;
      const statuses: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        const key = wellFormedUnknownKey() + (i % 2 === 0 ? '' : 'x');
        statuses.push((await check({ 'x-api-key': key })).statusCode);
      }
      // Earlier tests of this suite spent part of the budget of 8 failures from this address.
      const firstRefusal = statuses.indexOf(429);
      expect(firstRefusal).toBeGreaterThan(0);
      expect(firstRefusal).toBeLessThanOrEqual(8);
      expect(statuses.slice(0, firstRefusal).every((status) => status === 401)).toBe(true);
      expect(statuses.slice(firstRefusal).every((status) => status === 429)).toBe(true);
      const blocked = await check({ 'x-api-key': wellFormedUnknownKey() });
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // The budget holds back failing attempts only: a valid key from the same address passes.
      expect((await check({ 'x-api-key': readKey.key })).statusCode).toBe(200);

      const failedAfter = (await audit.list({ action: 'api_key.verified_failed' }, 500)).items;
      const added = failedAfter.length - failedBefore;
      expect(added).toBeGreaterThan(0);
      expect(added).toBeLessThanOrEqual(10);
      for (const event of failedAfter) expect(JSON.stringify(event)).not.toMatch(/sk_live_[0-9A-Za-z]{20}/);

      t.clock.advance(61_000);
      try {
        expect((await check({ 'x-api-key': wellFormedUnknownKey() })).statusCode).toBe(401);
      } finally {
        t.clock.reset();
      }
    });

    it('is declared public and documented in the OpenAPI document with the scanner regex', async () => {
      const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(doc.paths['/v1/auth/check'].get['x-required-scopes']).toEqual([]);
      expect(doc.paths['/v1/api-keys/verify'].post['x-required-scopes']).toEqual(['api-keys:verify']);
      expect(doc.paths['/v1/realms/{realm}/service-accounts/{clientId}/api-keys'].post['x-required-scopes']).toEqual(['api-keys:write']);
      expect(doc.paths['/v1/api-keys/{id}'].get['x-required-scopes']).toEqual(['api-keys:read']);
      expect(doc.paths['/v1/api-keys/{id}'].delete['x-required-scopes']).toEqual(['api-keys:write']);
      expect(doc.paths['/v1/api-keys/{id}/rotate'].post['x-required-scopes']).toEqual(['api-keys:write']);
      expect(JSON.stringify(doc)).toContain('sk_(?:live|test)_[0-9A-Za-z]{49}');
    });
  });

  describe('the hot door', () => {
    it('serves the verification routes past the app instance, with the answer the app instance gives', async () => {
      const door = hotDoorOf(t.app.getHttpAdapter());
      expect(door).toBeDefined();
      const routes = Object.fromEntries(door!.routes.map(({ url, methods }) => [url, methods]));
      expect(Object.keys(routes).sort()).toEqual(['/v1/api-keys/verify', '/v1/auth/check', '/v1/auth/check/*', '/v1/auth/exchange', '/v1/auth/exchange/*', '/v1/token']);
      expect(routes['/v1/api-keys/verify']).toEqual(['POST']);
      expect(routes['/v1/auth/check/*']).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']));

      const answer = async () => {
        const response = await check({ 'x-api-key': readKey.key, 'x-required-scopes': 'read:data' });
        const verified = await verify(t, readKey.key);
        const unknown = await verify(t, wellFormedUnknownKey());
        // Without a credential (t.inject sends the suite's own).
        const anonymous = await fetch(`${t.baseUrl}/v1/api-keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: readKey.key }) });
        const refused = (await anonymous.json()) as { code: string; requestId: string };
        // A body that cannot be read: answered before the handler runs, by the error handler.
        const malformed = await fetch(`${t.baseUrl}/v1/api-keys/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': 'door-malformed-1' },
          body: '{"key":',
        });
        const unreadable = (await malformed.json()) as { code: string; requestId: string };
        return {
          status: response.statusCode,
          identity: ['x-auth-client-id', 'x-auth-realm', 'x-auth-scopes', 'x-auth-key-id'].map((name) => response.headers[name]),
          requestId: typeof response.headers['x-request-id'],
          verify: { valid: verified.valid, keyId: verified.keyId, scopes: verified.scopes, unknown },
          refusal: { status: anonymous.status, type: anonymous.headers.get('content-type'), code: refused.code, requestIdHeld: anonymous.headers.get('x-request-id') === refused.requestId },
          malformed: { status: malformed.status, code: unreadable.code, requestId: malformed.headers.get('x-request-id'), problemRequestId: unreadable.requestId },
        };
      };
      const throughDoor = await answer();
      // The last test of the suite: from here on, the app's own instance answers these routes.
      door!.close();
      expect(door!.routes).toEqual([]);
      expect(await answer()).toEqual(throughDoor);
      expect(throughDoor.identity).toEqual([account, REALM, 'read:data reports:read', readKey.id]);
      expect(throughDoor.verify).toEqual({ valid: true, keyId: readKey.id, scopes: ['read:data', 'reports:read'], unknown: { valid: false, code: 'NOT_FOUND' } });
      expect(throughDoor.refusal).toEqual({ status: 401, type: 'application/problem+json; charset=utf-8', code: 'AUTHENTICATION_REQUIRED', requestIdHeld: true });
      // The request id reaches every answer, an error before the handler included.
      expect(throughDoor.requestId).toBe('string');
      expect(throughDoor.malformed).toEqual({ status: 400, code: expect.any(String), requestId: 'door-malformed-1', problemRequestId: 'door-malformed-1' });
    });
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('api-keys-verify');
  });
});
