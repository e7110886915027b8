import { deleteAccount, issueKey } from './support/api-keys.js';
import { authenticateSuite } from './support/auth.js';
import { loadYamlRecipe, send, startBackend, startCaddy, startNginx, type Backend, type GatewayProcess } from './support/gateways/index.js';
import { uniqueClientId } from './support/keycloak-admin.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { verifyDownstream } from './support/token-exchange.js';

const REALM = 'platform';
const USER = '127.0.0.3';

/**
 * Phantom tokens through real gateways: examples/phantom-token/ run with nginx and Caddy from
 * Debian in front of Keysmith's /v1/auth/exchange. The API behind them sees a Keycloak token and
 * never the key.
 */
describe('Phantom tokens: the README recipes with real nginx and Caddy', () => {
  let t: TestApp;
  let backend: Backend;
  const gateways: Record<'nginx' | 'caddy', GatewayProcess> = {} as never;
  const accounts: string[] = [];
  let account: string;
  let reader: { id: string; key: string };
  let plainKey: string;

  const createAccount = async (clientId: string, tokenExchange: boolean) => {
    const res = await t.inject({
      method: 'POST',
      url: `/v1/realms/${REALM}/service-accounts`,
      payload: { clientId, owner: 'team-gw', realmRoles: ['orders-reader'], defaultScopes: ['read:data'], optionalScopes: ['write:data'], apiKeyPolicy: { rateLimit: null, tokenExchange } },
    });
    expect(res.statusCode).toBe(201);
    t.secrets.add(res.json().clientSecret);
    accounts.push(clientId);
  };
  const issue = async (clientId: string, name: string) => {
    const res = await issueKey(t, REALM, clientId, { name, scopes: ['read:data'] });
    expect(res.statusCode).toBe(201);
    return { id: res.json().id as string, key: res.json().key as string };
  };
  const through = (name: 'nginx' | 'caddy', path: string, headers: Record<string, string>) =>
    send(`http://127.0.0.1:${gateways[name].port}${path}`, { headers, from: USER });

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYSMITH_TRUSTED_PROXIES: '127.0.0.1/32' } });
    await authenticateSuite(t);
    account = uniqueClientId('phantom');
    await createAccount(account, true);
    reader = await issue(account, 'reader');
    const plain = uniqueClientId('phantom-no');
    await createAccount(plain, false);
    plainKey = (await issue(plain, 'plain')).key;

    backend = await startBackend();
    const keysmith = Number(new URL(t.baseUrl).port);
    gateways.nginx = await startNginx({ keysmith, backend: backend.port }, '../phantom-token/nginx.conf');
    gateways.caddy = await startCaddy({ keysmith, backend: backend.port }, '../phantom-token/Caddyfile');
  });

  afterAll(async () => {
    for (const gateway of Object.values(gateways)) await gateway?.stop();
    await backend?.close();
    for (const clientId of accounts) await deleteAccount(t, REALM, clientId);
    await t?.close();
  });

  describe.each(['nginx', 'caddy'] as const)('through %s', (name) => {
    it('a request with an API key reaches the backend with only Authorization: Bearer <Keycloak JWT>, never the key', async () => {
      const before = backend.seen.length;
      const res = await through(name, '/api/orders/42', { 'x-api-key': reader.key, authorization: 'Bearer forged-by-the-caller' });
      expect(res.status).toBe(200);
      expect(backend.seen.length).toBe(before + 1);
      const seen = backend.seen.at(-1)!.headers;
      expect(seen['x-api-key']).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain(reader.key);
      const authorization = String(seen.authorization);
      expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      const token = authorization.slice('Bearer '.length);
      t.secrets.add(token);
      const claims = await verifyDownstream(token);
      expect(claims.azp).toBe(account);
      expect(claims.scope).toBe('read:data');
      expect(claims.realm_access).toEqual({ roles: ['orders-reader'] });
    });

    it("never passes the caller's own X-Auth-* headers on: each is absent or Keysmith's value", async () => {
      const forged = { 'x-auth-client-id': 'forged-client', 'x-auth-realm': 'forged-realm', 'x-auth-scopes': 'admin:all', 'x-auth-key-id': 'forged-key-id' };
      const before = backend.seen.length;
      const res = await through(name, '/api/orders/42', { 'x-api-key': reader.key, ...forged });
      expect(res.status).toBe(200);
      expect(backend.seen.length).toBe(before + 1);
      const seen = backend.seen.at(-1)!.headers;
      expect(String(seen.authorization)).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      t.secrets.add(String(seen.authorization).slice('Bearer '.length));
      const keysmith = { 'x-auth-client-id': account, 'x-auth-realm': REALM, 'x-auth-scopes': 'read:data', 'x-auth-key-id': reader.id };
      for (const header of Object.keys(forged) as (keyof typeof forged)[]) {
        if (seen[header] !== undefined) expect({ [header]: seen[header] }).toEqual({ [header]: keysmith[header] });
      }
      expect(JSON.stringify(seen)).not.toMatch(/forged|admin:all/);
    });

    it('keeps the key and the caller away from the backend when the key is refused or cannot be exchanged', async () => {
      const before = backend.seen.length;
      const missing = await through(name, '/api/orders', {});
      expect(missing.status).toBe(401);
      // Another last character (a key ending in x would otherwise be sent unchanged, and pass).
      const last = reader.key.endsWith('x') ? 'y' : 'x';
      const bad = await through(name, '/api/orders', { 'x-api-key': `${reader.key.slice(0, -1)}${last}` });
      expect(bad.status).toBe(401);
      const notEnabled = await through(name, '/api/orders', { 'x-api-key': plainKey });
      expect(notEnabled.status).toBe(403);
      expect(backend.seen.length).toBe(before);
    });
  });

  describe('Traefik and Envoy (not packaged by Debian): the requests their recipes make', () => {
    interface TraefikRecipe { http: { middlewares: Record<string, { forwardAuth?: { address: string; authRequestHeaders: string[]; authResponseHeaders: string[] } }> } }
    interface EnvoyService { path_prefix: string; authorization_response: { allowed_upstream_headers: { patterns: { exact: string }[] } } }
    type EnvoyFilter = { name: string; typed_config: { http_service: EnvoyService; mutations?: { request_mutations: { remove?: string }[] } } };
    type EnvoyRecipe = { static_resources: { listeners: { filter_chains: { filters: { typed_config: { http_filters: EnvoyFilter[] } }[] }[] }[] } };
    const keysmith = (path: string) => `${t.baseUrl}${path}`;

    it('Traefik: GET to the forwardAuth address with the key; Authorization and every X-Auth-* are copied upstream', async () => {
      const { forwardAuth } = loadYamlRecipe<TraefikRecipe>('../phantom-token/traefik.yml').http.middlewares['keysmith-exchange']!;
      // Traefik removes every listed header the caller sent: all four X-Auth-* are listed.
      expect(forwardAuth!.authResponseHeaders).toEqual(['Authorization', 'X-Auth-Client-Id', 'X-Auth-Realm', 'X-Auth-Scopes', 'X-Auth-Key-Id']);
      const url = new URL(forwardAuth!.address);
      const res = await send(keysmith(url.pathname), { headers: { 'x-api-key': reader.key, 'x-required-scopes': 'read:data', 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/api/orders' } });
      expect(res.status).toBe(200);
      expect(String(res.headers.authorization)).toMatch(/^Bearer /);
    });

    it('Envoy: the caller\'s X-Auth-* removed first; the caller\'s method and path_prefix + the caller\'s path; only 200 passes, with authorization allowed upstream', async () => {
      const recipe = loadYamlRecipe<EnvoyRecipe>('../phantom-token/envoy.yaml');
      const filters = recipe.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
      const service = filters.find((filter) => filter.name === 'envoy.filters.http.ext_authz')!.typed_config.http_service;
      expect(service.authorization_response.allowed_upstream_headers.patterns.map((p) => p.exact)).toContain('authorization');
      // ext_authz adds only the headers Keysmith's answer has: the caller's X-Auth-* are removed before it.
      const names = filters.map((filter) => filter.name);
      const mutation = names.indexOf('envoy.filters.http.header_mutation');
      expect(mutation).toBeGreaterThanOrEqual(0);
      expect(mutation).toBeLessThan(names.indexOf('envoy.filters.http.ext_authz'));
      expect(filters[mutation]!.typed_config.mutations!.request_mutations.map((m) => m.remove)).toEqual(['x-auth-client-id', 'x-auth-realm', 'x-auth-scopes', 'x-auth-key-id']);
      const res = await send(keysmith(`${service.path_prefix}/api/orders/42`), { method: 'PUT', headers: { 'x-api-key': reader.key, 'content-length': '0' } });
      expect(res.status).toBe(200);
      const token = String(res.headers.authorization).slice('Bearer '.length);
      t.secrets.add(token);
      expect((await verifyDownstream(token)).azp).toBe(account);
    });
  });

  it('logs no secret, key or token this suite knows of', () => {
    expectNoSecretInLogs('phantom-token');
  });
});
