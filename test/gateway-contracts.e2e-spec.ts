import { randomBytes } from 'node:crypto';
import { checksumOf, createAccount, deleteAccount, issueKey } from './support/api-keys.js';
import { authenticateSuite } from './support/auth.js';
import { loadYamlRecipe, RECIPE_ADDRESSES, send, type ClientResponse } from './support/gateways/index.js';
import { uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

/**
 * Envoy and Traefik are not packaged by Debian, so these tests send exactly the requests they
 * send, built from the recipes in examples/gateways/, and check Keysmith answers in ways they
 * accept. The proxies' behaviour is taken from their source:
 *
 * - Envoy, source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc (envoyproxy/envoy):
 *   RawHttpClientImpl::check sends Content-Length: 0, the original :method, :path prefixed with
 *   `path_prefix`, :authority, Authorization and the headers matched by
 *   `authorization_request.allowed_headers`, plus `headers_to_add`; toResponse treats only 200 as
 *   OK (copying headers matched by `allowed_upstream_headers` to the upstream request), any 5xx as
 *   an error (403 to the caller), and any other status as a denial passed to the caller with its
 *   headers.
 * - Traefik, pkg/middlewares/auth/forward.go (traefik/traefik v3): ServeHTTP sends GET (the
 *   original method with `preserveRequestMethod`) to `address` with no body; writeHeader copies the
 *   caller's headers (only `authRequestHeaders` when set) and sets X-Forwarded-For to the caller's
 *   address, X-Forwarded-Method, -Proto, -Host and -Uri; a 2xx copies `authResponseHeaders` onto the
 *   request, anything else goes back to the caller with its headers and body.
 */

const REALM = 'platform';

interface TraefikRecipe {
  http: { middlewares: Record<string, { forwardAuth?: { address: string; authRequestHeaders?: string[]; authResponseHeaders: string[] }; headers?: { customRequestHeaders: Record<string, string> } }> };
}

interface EnvoyHttpService {
  path_prefix: string;
  authorization_request: { allowed_headers: { patterns: { exact: string }[] }; headers_to_add: { key: string; value: string }[] };
  authorization_response: { allowed_upstream_headers: { patterns: { exact: string }[] } };
}

function unknownKey(): string {
  const body = `sk_live_${randomBytes(32).toString('base64url').replace(/[-_]/g, 'A').slice(0, 43)}`;
  return body + checksumOf(body);
}

/** Go's http.CanonicalHeaderKey, as Traefik sends header names. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

function envoyHttpService(): EnvoyHttpService {
  const recipe = loadYamlRecipe<{ static_resources: { listeners: { filter_chains: { filters: { typed_config: { http_filters: { name: string; typed_config: { http_service: EnvoyHttpService } }[] } }[] }[] }[] } }>('envoy.yaml');
  const filters = recipe.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
  return filters.find((filter) => filter.name === 'envoy.filters.http.ext_authz')!.typed_config.http_service;
}

describe('Gateway contracts: the requests Envoy and Traefik send, and answers they accept', () => {
  let t: TestApp;
  let account: string;
  let limited: string;
  const keys: Record<string, string> = {};
  /** The recipes' Keysmith address, pointed at this test's instance. */
  const keysmithUrl = (recipeUrl: string) => recipeUrl.replace(`http://${RECIPE_ADDRESSES.keysmith}`, t.baseUrl);

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYSMITH_TRUSTED_PROXIES: '127.0.0.1/32' } });
    await authenticateSuite(t);
    account = uniqueClientId('gw-contract');
    limited = uniqueClientId('gw-contract-limited');
    await createAccount(t, REALM, account, { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
    await createAccount(t, REALM, limited, { defaultScopes: ['read:data'], apiKeyPolicy: { rateLimit: { requests: 1, perSeconds: 60 } } });
    for (const [name, clientId, scopes] of [
      ['reader', account, ['read:data']],
      ['writer', account, ['write:data']],
      ['limitedEnvoy', limited, ['read:data']],
      ['limitedTraefik', limited, ['read:data']],
    ] as const) {
      const res = await issueKey(t, REALM, clientId, { name, scopes: [...scopes] });
      expect(res.statusCode).toBe(201);
      keys[name] = res.json().key;
    }
  });

  afterAll(async () => {
    for (const clientId of [account, limited]) if (clientId) await deleteAccount(t, REALM, clientId);
    await t?.close();
  });

  describe('forward-auth takes any method and any path below /v1/auth/check/', () => {
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY'];
    // A percent-encoded path is served by Fastify rather than the lean lane (see lean-lane.ts): both must answer alike.
    const paths = ['/v1/auth/check', '/v1/auth/check/', '/v1/auth/check/orders/42?expand=items', '/v1/auth/check/a/b/c', '/v1/auth/check/%6Frders/42'];

    it.each(methods)('%s: 200 with an empty body and the X-Auth-* headers, on every path', async (method) => {
      for (const path of paths) {
        const res = await send(`${t.baseUrl}${path}`, { method, headers: { 'x-api-key': keys.reader!, 'x-required-scopes': 'read:data' } });
        expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 200, body: '' });
        expect(res.headers['x-auth-client-id']).toBe(account);
        expect(res.headers['x-auth-scopes']).toBe('read:data');
      }
    });

    it('ignores a request body and its Content-Type, empty or not', async () => {
      const url = `${t.baseUrl}/v1/auth/check/orders`;
      const headers = { 'x-api-key': keys.reader! };
      for (const [contentType, body] of [['application/json', ''], ['application/json', '{"a":1}'], ['multipart/form-data; boundary=x', '--x--'], ['text/plain', 'hi']]) {
        const res = await send(url, { method: 'POST', headers: { ...headers, 'content-type': contentType!, 'content-length': String(Buffer.byteLength(body!)) }, body });
        expect({ contentType, status: res.status }).toEqual({ contentType, status: 200 });
      }
    });

    it('answers a bad key below the path as problem+json 401, whatever the method', async () => {
      const res = await send(`${t.baseUrl}/v1/auth/check/orders/42`, { method: 'DELETE', headers: { 'x-api-key': unknownKey() } });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_CREDENTIALS', reason: 'NOT_FOUND' });
    });

    it('is documented in the OpenAPI document on both paths as a public route', async () => {
      const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/v1/auth/check', '/v1/auth/check/{path}']) {
        const operation = doc.paths[path].get;
        expect(operation['x-required-scopes']).toEqual([]);
        // Plus the 500 every route may give, and 400 for a path below it that is not a valid URL.
        expect(Object.keys(operation.responses).sort()).toEqual(path.endsWith('{path}') ? ['200', '400', '401', '403', '429', '500'] : ['200', '401', '403', '429', '500']);
        expect(operation.description).toContain('Any method');
      }
    });
  });

  describe('Envoy ext_authz (HTTP service), per examples/gateways/envoy.yaml', () => {
    const service = () => envoyHttpService();
    /** The check request Envoy makes for a caller's request. */
    const envoyCheck = (caller: { method: string; path: string; headers: Record<string, string>; address: string }): Promise<ClientResponse> => {
      const { path_prefix: prefix, authorization_request: request } = service();
      const allowed = new Set(['authorization', ...request.allowed_headers.patterns.map((pattern) => pattern.exact)]);
      // use_remote_address: Envoy appends the caller's address to any X-Forwarded-For it sent.
      const forwarded = { ...caller.headers, 'x-forwarded-for': [caller.headers['x-forwarded-for'], caller.address].filter(Boolean).join(',') };
      const headers: Record<string, string> = { host: 'api.example', 'content-length': '0', 'x-envoy-expected-rq-timeout-ms': '500' };
      for (const [name, value] of Object.entries(forwarded)) if (allowed.has(name)) headers[name] = value;
      for (const { key, value } of request.headers_to_add) headers[key] = value;
      return send(`${t.baseUrl}${prefix}${caller.path}`, { method: caller.method, headers });
    };

    it("removes the caller's own X-Auth-* headers before ext_authz, which adds only those Keysmith's answer has", () => {
      const recipe = loadYamlRecipe<{ static_resources: { listeners: { filter_chains: { filters: { typed_config: { http_filters: { name: string; typed_config: { mutations?: { request_mutations: { remove?: string }[] } } }[] } }[] }[] }[] } }>('envoy.yaml');
      const filters = recipe.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
      const names = filters.map((filter) => filter.name);
      const mutation = names.indexOf('envoy.filters.http.header_mutation');
      expect(mutation).toBeGreaterThanOrEqual(0);
      expect(mutation).toBeLessThan(names.indexOf('envoy.filters.http.ext_authz'));
      const removed = filters[mutation]!.typed_config.mutations!.request_mutations.map((m) => m.remove);
      expect(removed).toEqual(expect.arrayContaining(service().authorization_response.allowed_upstream_headers.patterns.map((p) => p.exact)));
    });

    it('uses path_prefix /v1/auth/check and lets Keysmith read the key and the caller address', () => {
      expect(service().path_prefix).toBe('/v1/auth/check');
      expect(service().authorization_request.allowed_headers.patterns.map((p) => p.exact)).toEqual(expect.arrayContaining(['x-api-key', 'x-forwarded-for']));
    });

    it.each([
      ['GET', '/'],
      ['POST', '/api/orders'],
      ['DELETE', '/api/orders/42?force=true'],
      ['PUT', '/api/orders/42'],
    ])('%s %s with a valid key: 200, the only status Envoy takes as OK, with every allowed upstream header', async (method, path) => {
      const res = await envoyCheck({ method, path, headers: { 'x-api-key': keys.reader! }, address: '198.51.100.7' });
      expect(res.status).toBe(200);
      for (const { exact } of service().authorization_response.allowed_upstream_headers.patterns) expect(res.headers[exact]).toEqual(expect.any(String));
      expect(res.headers['x-auth-client-id']).toBe(account);
    });

    it('denials are non-5xx statuses Envoy passes to the caller, 429 with Retry-After', async () => {
      const caller = (key: string | undefined) => ({ method: 'POST', path: '/api/orders', headers: (key ? { 'x-api-key': key } : {}) as Record<string, string>, address: '198.51.100.8' });
      expect((await envoyCheck(caller(undefined))).status).toBe(401);
      expect((await envoyCheck(caller(unknownKey()))).status).toBe(401);
      expect((await envoyCheck(caller(keys.writer))).status).toBe(403);
      expect((await envoyCheck(caller(keys.limitedEnvoy))).status).toBe(200);
      const limitedRes = await envoyCheck(caller(keys.limitedEnvoy));
      expect(limitedRes.status).toBe(429);
      expect(Number(limitedRes.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('Traefik ForwardAuth, per examples/gateways/traefik.yml', () => {
    const recipe = () => loadYamlRecipe<TraefikRecipe>('traefik.yml').http.middlewares;
    const forwardAuth = () => recipe()['keysmith-auth']!.forwardAuth!;
    /** The request Traefik makes to `address` for a caller's request. */
    const traefikCheck = (
      caller: { method: string; uri: string; headers: Record<string, string>; address: string },
      options: { preserveRequestMethod?: boolean; allHeaders?: boolean } = {},
    ): Promise<ClientResponse> => {
      const { address, authRequestHeaders } = forwardAuth();
      // The headers middleware before forwardAuth adds the route's required scopes.
      const incoming = { ...caller.headers, ...recipe()['keysmith-scopes']!.headers!.customRequestHeaders };
      const allowed = options.allHeaders || !authRequestHeaders ? undefined : new Set(authRequestHeaders.map(canonical));
      const headers: Record<string, string> = { 'User-Agent': 'Go-http-client/1.1', 'Accept-Encoding': 'gzip' };
      for (const [name, value] of Object.entries(incoming)) if (!allowed || allowed.has(canonical(name))) headers[canonical(name)] = value;
      Object.assign(headers, {
        'X-Forwarded-For': caller.address,
        'X-Forwarded-Method': caller.method,
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'api.example',
        'X-Forwarded-Uri': caller.uri,
      });
      const method = options.preserveRequestMethod ? caller.method : 'GET';
      // Go's client sends Content-Length: 0 for a bodiless POST, PUT or PATCH.
      if (['POST', 'PUT', 'PATCH'].includes(method)) headers['Content-Length'] = '0';
      return send(keysmithUrl(address), { method, headers });
    };
    const caller = (key: string | undefined, method = 'POST') => ({
      method,
      uri: '/api/orders?page=2',
      headers: { 'Content-Type': 'application/json', Cookie: 'session=abc', ...(key ? { 'X-Api-Key': key } : {}) },
      address: '198.51.100.9',
    });

    it('points at /v1/auth/check and copies back every X-Auth-* header', () => {
      expect(new URL(forwardAuth().address).pathname).toBe('/v1/auth/check');
      expect(forwardAuth().authResponseHeaders).toEqual(['X-Auth-Client-Id', 'X-Auth-Realm', 'X-Auth-Scopes', 'X-Auth-Key-Id']);
    });

    it.each([
      ['GET (the default)', {}],
      ['the original method (preserveRequestMethod)', { preserveRequestMethod: true }],
      ['every caller header, Content-Type included (no authRequestHeaders)', { preserveRequestMethod: true, allHeaders: true }],
    ])('with %s: a 2xx carrying every authResponseHeaders entry', async (_, options) => {
      const res = await traefikCheck(caller(keys.reader), options);
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      for (const name of forwardAuth().authResponseHeaders) expect(res.headers[name.toLowerCase()]).toEqual(expect.any(String));
    });

    it('denials are the answers Traefik hands back as they are: 401, 403, and 429 with Retry-After', async () => {
      expect((await traefikCheck(caller(undefined))).status).toBe(401);
      expect((await traefikCheck(caller(unknownKey()))).status).toBe(401);
      expect((await traefikCheck(caller(keys.writer))).status).toBe(403);
      expect((await traefikCheck(caller(keys.limitedTraefik))).status).toBe(200);
      const limitedRes = await traefikCheck(caller(keys.limitedTraefik));
      expect(limitedRes.status).toBe(429);
      expect(Number(limitedRes.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  it('logs no secret this suite knows of', () => {
    for (const key of Object.values(keys)) t.secrets.add(key);
    expectNoSecretInLogs('gateway-contracts');
  });
});
