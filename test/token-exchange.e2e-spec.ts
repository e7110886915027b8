import * as oauth from 'oauth4webapi';
import { AuditService } from '../src/audit/audit.service.js';
import { TokenExchangeService } from '../src/token-exchange/services/token-exchange.service.js';
import { authenticateSuite } from './support/auth.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { poll } from './support/poll.js';
import { TestClock } from './support/test-clock.js';
import { deleteAccount, issueKey, uniqueClientId } from './support/api-keys.js';
import { TOKEN_BODY_LIMIT_BYTES } from '../src/token-exchange/index.js';
import { clientCredentialsToken, keycloakAdmin } from './support/keycloak-admin.js';
import { ACCESS_TOKEN_TYPE, API_KEY_TOKEN_TYPE, exchangeKey, TOKEN_EXCHANGE_GRANT, verifyDownstream } from './support/token-exchange.js';

const REALM = 'platform';
const base = `/v1/realms/${REALM}/service-accounts`;

interface AccountOptions {
  tokenExchange?: boolean;
  defaultScopes?: string[];
  optionalScopes?: string[];
}

describe('Token exchange: POST /v1/token trades an API key for a Keycloak token', () => {
  let t: TestApp;
  const accounts: string[] = [];
  let account: string;
  let fullKey: { id: string; key: string };

  async function createAccount(clientId: string, options: AccountOptions = {}): Promise<void> {
    const res = await t.inject({
      method: 'POST',
      url: base,
      payload: {
        clientId,
        owner: 'team-exchange',
        realmRoles: ['orders-reader'],
        clientRoles: { 'orders-api': ['read'] },
        defaultScopes: options.defaultScopes ?? ['read:data'],
        optionalScopes: options.optionalScopes ?? ['write:data', 'reports:read'],
        apiKeyPolicy: { rateLimit: null, tokenExchange: options.tokenExchange ?? true },
      },
    });
    if (res.statusCode !== 201) throw new Error(`creating ${clientId} answered ${res.statusCode}: ${res.body}`);
    t.secrets.add(res.json().clientSecret);
    accounts.push(clientId);
  }

  async function key(clientId: string, scopes: string[], name = 'exchanger'): Promise<{ id: string; key: string }> {
    const res = await issueKey(t, REALM, clientId, { name, scopes });
    if (res.statusCode !== 201) throw new Error(`issuing a key answered ${res.statusCode}: ${res.body}`);
    return res.json();
  }

  const exchange = async (secret: string, extra: Record<string, string> = {}) => {
    const answer = await exchangeKey(t.baseUrl, secret, extra);
    if (typeof answer.body.access_token === 'string') t.secrets.add(answer.body.access_token);
    return answer;
  };

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    account = uniqueClientId('exchange');
    await createAccount(account);
    fullKey = await key(account, ['read:data', 'write:data']);
  });
  afterAll(async () => {
    for (const clientId of accounts) await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it('answers a Keycloak token that a downstream check accepts, with exactly the key\'s scopes and the account\'s roles', async () => {
    const answer = await exchange(fullKey.key, { requested_token_type: ACCESS_TOKEN_TYPE });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      scope: 'read:data write:data',
    });
    expect(answer.body.expires_in).toBeGreaterThan(0);
    expect(answer.body.expires_in).toBeLessThanOrEqual(300);

    const claims = await verifyDownstream(answer.body.access_token);
    expect(claims.azp).toBe(account);
    expect(String(claims.scope).split(' ').sort()).toEqual(['read:data', 'write:data']);
    expect(claims.realm_access).toEqual({ roles: ['orders-reader'] });
    expect(claims.resource_access).toEqual({ 'orders-api': { roles: ['read'] } });
    // The account's Keycloak client has the short lifespan, so the token lives 300 s.
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('works with a standard OAuth client library (oauth4webapi): a generic grant request and its error handling', async () => {
    // The library builds the form, sends client_id as a public client (no client authentication:
    // the key is the credential), and validates the answer as RFC 6749 requires.
    const server: oauth.AuthorizationServer = { issuer: t.baseUrl, token_endpoint: `${t.baseUrl}/v1/token` };
    const client: oauth.Client = { client_id: 'keysmith-key-holder' };
    const request = (subjectToken: string, scope: string) =>
      oauth.genericTokenEndpointRequest(server, client, oauth.None(), TOKEN_EXCHANGE_GRANT, new URLSearchParams({ subject_token: subjectToken, subject_token_type: API_KEY_TOKEN_TYPE, scope }), {
        [oauth.allowInsecureRequests]: true,
      });
    const granted = await oauth.processGenericTokenEndpointResponse(server, client, await request(fullKey.key, 'read:data'));
    t.secrets.add(granted.access_token);
    expect(granted.token_type).toBe('bearer');
    expect(granted.scope).toBe('read:data');
    expect((await verifyDownstream(granted.access_token)).azp).toBe(account);

    const refused = await oauth.processGenericTokenEndpointResponse(server, client, await request(fullKey.key, 'reports:read')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('sets the short access-token lifespan on the Keycloak client only while exchange is enabled', async () => {
    const kc = await keycloakAdmin();
    const lifespan = async () => (await kc.clients.find({ realm: REALM, clientId: account }))[0].attributes?.['access.token.lifespan'];
    expect(await lifespan()).toBe('300');
    const off = await t.inject({ method: 'PATCH', url: `${base}/${account}`, payload: { apiKeyPolicy: { tokenExchange: false } } });
    expect(off.statusCode).toBe(200);
    expect(off.json().apiKeyPolicy.tokenExchange).toBe(false);
    expect(off.json().changes).toEqual([{ field: 'apiKeyPolicy.tokenExchange', action: 'set', from: true, to: false }]);
    expect(await lifespan()).toBeFalsy();
    const refused = await exchange(fullKey.key);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'unauthorized_client', error_description: expect.stringContaining('apiKeyPolicy.tokenExchange') });

    const on = await t.inject({ method: 'PATCH', url: `${base}/${account}`, payload: { apiKeyPolicy: { tokenExchange: true } } });
    expect(on.json().apiKeyPolicy.tokenExchange).toBe(true);
    expect(await lifespan()).toBe('300');
    const plan = await t.inject({ method: 'PUT', url: `${base}/${account}`, payload: { ...(await specOf(account)) } });
    expect(plan.json().changes).toEqual([]);
  });

  async function specOf(clientId: string): Promise<Record<string, unknown>> {
    const view = (await t.inject({ method: 'GET', url: `${base}/${clientId}` })).json();
    const { secretRotation, apiKeyPolicy } = view;
    return {
      description: view.description,
      owner: view.owner,
      enabled: view.enabled,
      realmRoles: view.realmRoles,
      clientRoles: view.clientRoles,
      defaultScopes: view.defaultScopes,
      optionalScopes: view.optionalScopes,
      secretRotation: { everyDays: secretRotation.everyDays, graceHours: secretRotation.graceHours },
      apiKeyPolicy,
    };
  }

  it('takes apiKeyPolicy.tokenExchange from GitOps definitions: plan names it, apply enables it', async () => {
    const clientId = uniqueClientId('exchange-gitops');
    const definitions = [
      {
        apiVersion: 'keysmith/v1',
        kind: 'ServiceAccount',
        metadata: { name: clientId, realm: REALM, owner: 'team-exchange' },
        spec: { defaultScopes: ['read:data'], apiKeyPolicy: { rateLimit: null, tokenExchange: true } },
      },
    ];
    const plan = await t.inject({ method: 'POST', url: '/v1/gitops/plan', payload: { definitions } });
    expect(plan.statusCode).toBe(200);
    expect(JSON.stringify(plan.json())).toContain('apiKeyPolicy.tokenExchange');
    const apply = await t.inject({ method: 'POST', url: '/v1/gitops/apply', payload: { definitions } });
    expect(apply.statusCode).toBe(200);
    accounts.push(clientId);
    expect((await t.inject({ method: 'GET', url: `${base}/${clientId}` })).json().apiKeyPolicy.tokenExchange).toBe(true);
    const answer = await exchange((await key(clientId, ['read:data'], 'gitops')).key);
    expect(answer.status).toBe(200);
    expect((await verifyDownstream(answer.body.access_token)).azp).toBe(clientId);
  });

  it('rate-limits per key like forward auth: 429 temporarily_unavailable with Retry-After', async () => {
    const limited = uniqueClientId('exchange-limit');
    const res = await t.inject({
      method: 'POST',
      url: base,
      payload: { clientId: limited, owner: 'team-exchange', defaultScopes: ['read:data'], apiKeyPolicy: { rateLimit: { requests: 2, perSeconds: 60 }, tokenExchange: true } },
    });
    expect(res.statusCode).toBe(201);
    t.secrets.add(res.json().clientSecret);
    accounts.push(limited);
    const limitedKey = await key(limited, ['read:data'], 'limited');
    expect((await exchange(limitedKey.key)).status).toBe(200);
    expect((await exchange(limitedKey.key)).status).toBe(200);
    const refused = await exchange(limitedKey.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  describe('scopes', () => {
    it('narrows to fewer optional scopes, which Keycloak can leave out', async () => {
      const answer = await exchange(fullKey.key, { scope: 'read:data' });
      expect(answer.status).toBe(200);
      expect(answer.body.scope).toBe('read:data');
      expect((await verifyDownstream(answer.body.access_token)).scope).toBe('read:data');
    });

    it('refuses narrowing that Keycloak cannot do: leaving out a default scope', async () => {
      const answer = await exchange(fullKey.key, { scope: 'write:data' });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_scope');
      expect(answer.body.error_description).toContain('read:data');
    });

    it('refuses a key that lacks a default scope of its account, naming it', async () => {
      const writer = await key(account, ['write:data'], 'writer');
      const answer = await exchange(writer.key);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_scope', error_description: expect.stringMatching(/default scope read:data/) });
    });

    it('refuses a scope the key does not hold, naming it; base scopes may be named and are exempt', async () => {
      const answer = await exchange(fullKey.key, { scope: 'read:data reports:read' });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('reports:read') });
      const withBase = await exchange(fullKey.key, { scope: 'read:data roles basic' });
      expect(withBase.status).toBe(200);
      expect(withBase.body.scope).toBe('read:data');
    });

    it('refuses a token to which Keycloak added a default scope behind Keysmith\'s back', async () => {
      const drifted = uniqueClientId('exchange-drift');
      await createAccount(drifted, { defaultScopes: [], optionalScopes: ['read:data'] });
      expect((await exchange((await key(drifted, ['read:data'], 'narrow')).key)).status).toBe(200);
      const kc = await keycloakAdmin();
      const client = (await kc.clients.find({ realm: REALM, clientId: drifted }))[0];
      const scope = (await kc.clientScopes.findOneByName({ realm: REALM, name: 'reports:read' }))!;
      await kc.clients.addDefaultClientScope({ realm: REALM, id: client.id!, clientScopeId: scope.id! });
      // Another key of the account: nothing cached for it, so Keycloak is asked and its answer checked.
      const answer = await exchange((await key(drifted, ['read:data'], 'second')).key);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('reports:read') });
    });
  });

  it('issues no token living longer than the exchange lifespan: a client whose lifespan was raised in Keycloak gets server_error until reconciled', async () => {
    const raised = uniqueClientId('exchange-lifespan');
    await createAccount(raised);
    const kc = await keycloakAdmin();
    const client = (await kc.clients.find({ realm: REALM, clientId: raised }))[0];
    await kc.clients.update({ realm: REALM, id: client.id! }, { ...client, attributes: { ...client.attributes, 'access.token.lifespan': '3600' } });
    const refused = await exchange((await key(raised, ['read:data'], 'long-lived')).key);
    expect(refused.status).toBe(500);
    expect(refused.body).toEqual({ error: 'server_error', error_description: expect.stringContaining('living 3600 s, longer than the 300 s') });
    // Reconciled (a PATCH sets the client's lifespan again): the next exchange gets a 300 s token.
    const patched = await t.inject({ method: 'PATCH', url: `${base}/${raised}`, payload: { description: 'lifespan set again' } });
    expect(patched.statusCode).toBe(200);
    const answer = await exchange((await key(raised, ['read:data'], 'after-repair')).key);
    expect(answer.status).toBe(200);
    expect(answer.body.expires_in).toBe(300);
  });

  describe('refusals as OAuth errors', () => {
    it('refuses a revoked, expired or disabled key, a malformed or unknown one with invalid_grant', async () => {
      const revoked = await key(account, ['read:data'], 'revoked');
      await t.inject({ method: 'DELETE', url: `/v1/api-keys/${revoked.id}` });
      expect((await exchange(revoked.key)).body).toEqual({ error: 'invalid_grant', error_description: 'The API key has been revoked.' });

      const expiring = (await issueKey(t, REALM, account, { name: 'expiring', scopes: ['read:data'], ttlDays: 1 })).json();
      t.clock.advanceDays(2);
      try {
        const answer = await exchange(expiring.key);
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: 'invalid_grant', error_description: 'The API key has expired.' });
      } finally {
        t.clock.reset();
      }

      const disabled = uniqueClientId('exchange-off');
      await createAccount(disabled);
      const offKey = await key(disabled, ['read:data'], 'off');
      expect((await exchange(offKey.key)).status).toBe(200);
      await t.inject({ method: 'PATCH', url: `${base}/${disabled}`, payload: { enabled: false } });
      expect((await exchange(offKey.key)).body).toEqual({ error: 'invalid_grant', error_description: 'The service account of the API key is disabled.' });

      expect((await exchange('sk_live_nope')).body.error).toBe('invalid_grant');
    });

    it('refuses a key of an account without exchange with unauthorized_client', async () => {
      const plain = uniqueClientId('exchange-no');
      await createAccount(plain, { tokenExchange: false });
      const plainKey = await key(plain, ['read:data']);
      const answer = await exchange(plainKey.key);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
    });

    it('answers malformed requests with invalid_request or unsupported_grant_type', async () => {
      const post = async (body: string, type = 'application/x-www-form-urlencoded') => {
        const response = await fetch(`${t.baseUrl}/v1/token`, { method: 'POST', body, headers: { 'content-type': type } });
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      };
      const grant = `grant_type=${encodeURIComponent(TOKEN_EXCHANGE_GRANT)}`;
      const type = `subject_token_type=${encodeURIComponent(API_KEY_TOKEN_TYPE)}`;
      expect(await post(`grant_type=client_credentials&subject_token=x&${type}`)).toEqual({ status: 400, body: { error: 'unsupported_grant_type', error_description: expect.any(String) } });
      expect((await post(`${grant}&${type}`)).body.error).toBe('invalid_request');
      expect((await post(`${grant}&subject_token=x`)).body.error).toBe('invalid_request');
      expect((await post(`${grant}&subject_token=x&subject_token=y&${type}`)).body.error_description).toContain('subject_token');
      expect((await post(`${grant}&subject_token=x&${type}&requested_token_type=urn:ietf:params:oauth:token-type:id_token`)).body.error).toBe('invalid_request');
      expect((await post(JSON.stringify({ grant_type: TOKEN_EXCHANGE_GRANT }), 'application/json')).body.error).toBe('invalid_request');
    });

    it('answers a request it cannot read in OAuth\'s format too, never problem+json', async () => {
      const post = async (body: string, type: string) => {
        const response = await fetch(`${t.baseUrl}/v1/token`, { method: 'POST', body, headers: { 'content-type': type } });
        return { status: response.status, type: response.headers.get('content-type'), cache: response.headers.get('cache-control'), body: (await response.json()) as Record<string, string> };
      };
      const oauth = (description: unknown) => ({ status: 400, type: expect.stringMatching(/^application\/json/), cache: 'no-store', body: { error: 'invalid_request', error_description: description } });
      // A form parameter named __proto__, a JSON body that does not parse, a media type the endpoint does not take.
      expect(await post(`__proto__=x&grant_type=${encodeURIComponent(TOKEN_EXCHANGE_GRANT)}`, 'application/x-www-form-urlencoded')).toEqual(oauth(expect.stringContaining('forbidden prototype property')));
      expect(await post('{"subject_token":"sk_live_abc" "x"}', 'application/json')).toEqual(oauth('The request could not be read: The body is not valid JSON (at character 32).'));
      expect(await post('--x--', 'multipart/form-data; boundary=x')).toEqual(
        oauth('The token endpoint takes its parameters form-encoded (Content-Type: application/x-www-form-urlencoded).'),
      );
      // A body beyond the route's 16 KB is refused unread, form-encoded or not.
      const padding = 'x'.repeat(TOKEN_BODY_LIMIT_BYTES);
      expect(await post(`grant_type=${encodeURIComponent(TOKEN_EXCHANGE_GRANT)}&pad=${padding}`, 'application/x-www-form-urlencoded')).toEqual(oauth(expect.stringMatching(/too large/i)));
      expect(await post(JSON.stringify({ pad: padding }), 'application/json')).toEqual(oauth(expect.stringMatching(/too large/i)));
    });
  });

  describe('cache and lifecycle', () => {
    it('hands out the cached token until shortly before it expires, and revocation drops it at once', async () => {
      const cachedKey = await key(account, ['read:data'], 'cached');
      const service = t.app.get(TokenExchangeService);
      const first = await exchange(cachedKey.key);
      const second = await exchange(cachedKey.key);
      expect(second.body.access_token).toBe(first.body.access_token);
      expect(service.cachedTokenCount(cachedKey.id)).toBe(1);
      // 80 % of a 300 s token later, a fresh one is fetched.
      t.clock.advance(241_000);
      try {
        const third = await exchange(cachedKey.key);
        expect(third.body.access_token).not.toBe(first.body.access_token);
      } finally {
        t.clock.reset();
      }
      await exchange(cachedKey.key);
      expect(service.cachedTokenCount(cachedKey.id)).toBe(1);
      expect((await t.inject({ method: 'DELETE', url: `/v1/api-keys/${cachedKey.id}` })).statusCode).toBe(204);
      expect(service.cachedTokenCount(cachedKey.id)).toBe(0);
      expect((await exchange(cachedKey.key)).body.error).toBe('invalid_grant');
    });

    it('keeps working through a secret rotation\'s grace window and after it', async () => {
      const rotating = uniqueClientId('exchange-rot');
      await createAccount(rotating);
      const rotKey = await key(rotating, ['read:data'], 'rotation');
      const before = await exchange(rotKey.key);
      expect(before.status).toBe(200);
      const oldSecret = (await t.inject({ method: 'GET', url: `${base}/${rotating}/secret` })).json().clientSecret;

      const rotated = await t.inject({ method: 'POST', url: `${base}/${rotating}/secret/rotate`, payload: { graceHours: 1 } });
      expect(rotated.statusCode).toBe(200);
      t.secrets.add(rotated.json().clientSecret);
      const during = await exchange(rotKey.key);
      expect(during.status).toBe(200);
      // The rotation dropped the cached token: this one was issued with the new secret.
      expect(during.body.access_token).not.toBe(before.body.access_token);
      expect((await clientCredentialsToken(REALM, rotating, oldSecret)).status).toBe(200);

      t.clock.advance(2 * 60 * 60 * 1000);
      try {
        const job = await t.inject({ method: 'POST', url: '/v1/jobs/secret-rotation/run', payload: {} });
        expect(job.statusCode).toBe(202);
        await waitFor(async () => (await clientCredentialsToken(REALM, rotating, oldSecret)).status !== 200);
        const after = await exchange(rotKey.key);
        expect(after.status).toBe(200);
        expect((await verifyDownstream(after.body.access_token)).azp).toBe(rotating);
      } finally {
        t.clock.reset();
      }
    });
  });

  describe('phantom-token forward auth: /v1/auth/exchange', () => {
    it('answers like forward auth, plus the Keycloak token in Authorization, for any method and path below it', async () => {
      const phantomKey = await key(account, ['read:data', 'write:data'], 'phantom');
      const viaToken = await exchange(phantomKey.key);
      for (const [method, url] of [['GET', '/v1/auth/exchange'], ['POST', '/v1/auth/exchange/orders/42?x=1'], ['DELETE', '/v1/auth/exchange/a/b']]) {
        const res = await t.inject({ method, url, headers: { 'x-api-key': phantomKey.key } });
        expect(res.statusCode).toBe(200);
        expect(res.body).toBe('');
        expect(res.headers['x-auth-client-id']).toBe(account);
        expect(res.headers['x-auth-key-id']).toBe(phantomKey.id);
        expect(res.headers['x-auth-scopes']).toBe('read:data write:data');
        // The same cached token POST /v1/token answered for this key and scope set.
        expect(res.headers.authorization).toBe(`Bearer ${viaToken.body.access_token}`);
      }
      const claims = await verifyDownstream(viaToken.body.access_token);
      expect(claims.azp).toBe(account);
    });

    it('refuses as forward auth does, and names why a key cannot be exchanged', async () => {
      expect((await t.inject({ method: 'GET', url: '/v1/auth/exchange', headers: {} })).json().code).toBe('AUTHENTICATION_REQUIRED');
      const scoped = await t.inject({ method: 'GET', url: '/v1/auth/exchange', headers: { 'x-api-key': fullKey.key, 'x-required-scopes': 'reports:read' } });
      expect(scoped.statusCode).toBe(403);
      expect(scoped.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required: ['reports:read'] });
      expect(scoped.headers.authorization).toBeUndefined();

      const plain = uniqueClientId('exchange-gw-no');
      await createAccount(plain, { tokenExchange: false });
      const plainKey = await key(plain, ['read:data']);
      const refused = await t.inject({ method: 'GET', url: '/v1/auth/exchange', headers: { 'x-api-key': plainKey.key } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'TOKEN_EXCHANGE_REFUSED', reason: 'EXCHANGE_NOT_ENABLED' });
      expect(refused.headers.authorization).toBeUndefined();
      // Forward auth itself still accepts the key: only the exchange is refused.
      expect((await t.inject({ method: 'GET', url: '/v1/auth/check', headers: { 'x-api-key': plainKey.key } })).statusCode).toBeLessThan(300);
    });

    it("follows a change of the account's scopes at once, though it reuses a key's scope plan between changes", async () => {
      const moving = uniqueClientId('exchange-gw-plan');
      await createAccount(moving, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
      const reader = await key(moving, ['read:data'], 'plan');
      const call = () => t.inject({ method: 'GET', url: '/v1/auth/exchange', headers: { 'x-api-key': reader.key } });
      expect((await call()).statusCode).toBe(200);
      expect((await call()).statusCode).toBe(200);
      // write:data becomes a default scope: Keycloak would add it to the key's token, which the key lacks.
      const widened = await t.inject({ method: 'PATCH', url: `${base}/${moving}`, payload: { optionalScopes: { remove: ['write:data'] }, defaultScopes: { add: ['write:data'] } } });
      expect(widened.statusCode).toBe(200);
      const refused = await call();
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'TOKEN_EXCHANGE_REFUSED', reason: 'SCOPE_NOT_GRANTABLE' });
      // Refused by the new plan, before Keycloak is asked (not by the check of the token it would answer).
      expect(refused.json().detail).toMatch(/default scope write:data to every token, but the key does not hold it/);
      expect(refused.headers.authorization).toBeUndefined();
      const narrowed = await t.inject({ method: 'PATCH', url: `${base}/${moving}`, payload: { defaultScopes: { remove: ['write:data'] }, optionalScopes: { add: ['write:data'] } } });
      expect(narrowed.statusCode).toBe(200);
      const again = await call();
      expect(again.statusCode).toBe(200);
      t.secrets.add(String(again.headers.authorization).slice('Bearer '.length));
      expect((await verifyDownstream(String(again.headers.authorization).slice('Bearer '.length))).scope).toBe('read:data');
    });

    it('is described in the OpenAPI document with the OAuth token endpoint', async () => {
      const document = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(document.paths['/v1/auth/exchange'].get.responses['200'].headers.Authorization).toBeDefined();
      expect(document.paths['/v1/auth/exchange/{path}']).toBeDefined();
      const token = document.paths['/v1/token'].post;
      expect(Object.keys(token.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
      expect(token.responses['400'].content['application/json'].schema.properties.error.enum).toContain('invalid_scope');
    });
  });

  describe('several instances on one database', () => {
    it('another instance stops handing out its cached token once its key index reads the revocation', async () => {
      const other = await createTestApp({ dataDir: t.dataDir, clock: new TestClock() });
      try {
        const shared = await key(account, ['read:data'], 'shared');
        const first = await exchangeKey(other.baseUrl, shared.key);
        expect(first.status).toBe(200);
        t.secrets.add(first.body.access_token);
        expect((await t.inject({ method: 'DELETE', url: `/v1/api-keys/${shared.id}` })).statusCode).toBe(204);
        // This instance refuses at once; the other at its next read of changed keys (KEYSMITH_KEY_INDEX_POLL_MS, 1 s).
        expect((await exchange(shared.key)).body.error).toBe('invalid_grant');
        other.clock.advance(other.config.apiKeys.cacheTtlMs + 1);
        const refused = await poll(() => exchangeKey(other.baseUrl, shared.key), (answer) => answer.status !== 200);
        expect(refused.body).toEqual({ error: 'invalid_grant', error_description: 'The API key has been revoked.' });
        expect(other.logs.leaked(t.secrets)).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it('answers 503 temporarily_unavailable with Retry-After when Keycloak cannot be reached', async () => {
      const cut = await createTestApp({ dataDir: t.dataDir, env: { KEYCLOAK_URL: 'http://127.0.0.1:9', KEYCLOAK_MAX_RETRIES: '0' } });
      try {
        const answer = await exchangeKey(cut.baseUrl, (await key(account, ['read:data'], 'unreachable')).key);
        expect(answer.status).toBe(503);
        expect(answer.body.error).toBe('temporarily_unavailable');
        expect(answer.headers.get('retry-after')).toBe('5');
      } finally {
        await cut.close();
      }
    });
  });

  it('audits exchanges as api_key.exchanged without the key or the token, and counts them in metrics', async () => {
    const events = (await t.app.get(AuditService).list({ action: 'api_key.exchanged' }, 500)).items;
    expect(events.some((event) => event.outcome === 'success' && event.target === fullKey.id && event.clientId === account)).toBe(true);
    expect(events.some((event) => event.outcome === 'failure' && (event.detail as { error?: string }).error === 'invalid_scope')).toBe(true);
    const text = JSON.stringify(events);
    for (const secret of t.secrets) expect(text).not.toContain(secret);
    const metrics = (await t.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/keysmith_token_exchanges_total\{via="token",outcome="issued",cache="hit"\} [1-9]/);
    expect(metrics).toMatch(/keysmith_token_exchanges_total\{via="token",outcome="issued",cache="miss"\} [1-9]/);
  });

  it('logs no secret, key or token this suite knows of', () => {
    expectNoSecretInLogs('token-exchange');
  });
});

async function waitFor(condition: () => Promise<boolean>, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('condition not met');
}
