import { jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from './support/test-app.js';
import { pendingSchemaChanges } from './support/schema-check.js';
import { KeycloakProcess } from './support/keycloak-process.js';
import { adminToken, authHeaders, remember } from './support/auth.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { poll } from './support/poll.js';

// A freshly started Keycloak answers its first calls slowly: more than jest's default 5 s.
jest.setTimeout(120_000);

describe('Foundation: health, errors, request ids, docs, metrics', () => {
  let t: TestApp;
  let auth: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp({ env: { KEYCLOAK_TIMEOUT_MS: '1500' } });
    auth = authHeaders(remember(t.secrets, await adminToken()));
  });
  afterAll(() => t.close());

  it('answers liveness without credentials', async () => {
    const res = await t.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the database and Keycloak answer', async () => {
    const res = await t.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().details).toMatchObject({ database: { status: 'up' }, keycloak: { status: 'up' } });
    // Rotation support is probed in the background: `unknown` until the first probe answered.
    const rotation = res.json().details.secretRotation.graceWindow !== 'unknown'
      ? res.json().details.secretRotation
      : await poll(async () => (await t.inject({ method: 'GET', url: '/readyz' })).json().details.secretRotation, (value) => value.graceWindow !== 'unknown', 60_000);
    expect(rotation).toMatchObject({ status: 'up', graceWindow: true, realms: { platform: { feature: true, policy: true } } });
  });

  it('stays ready while Keycloak is stopped (degraded), its own probe fails, and both recover when it is back', async () => {
    const keycloak = new KeycloakProcess();
    const [whileStopped, keycloakProbe] = await keycloak.whilePaused(() =>
      Promise.all([t.inject({ method: 'GET', url: '/readyz' }), t.inject({ method: 'GET', url: '/readyz/keycloak' })]),
    );
    expect(whileStopped.statusCode).toBe(200);
    expect(whileStopped.json().status).toBe('degraded');
    expect(whileStopped.json().details.keycloak.status).toBe('degraded');
    expect(whileStopped.json().details.database.status).toBe('up');
    expect(keycloakProbe.statusCode).toBe(503);

    const after = await poll(() => t.inject({ method: 'GET', url: '/readyz/keycloak' }), (res) => res.statusCode === 200, 60_000);
    expect(after.statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/readyz' })).json().details.keycloak.status).toBe('up');
  });

  it('answers unknown routes with problem+json carrying code and requestId', async () => {
    const res = await t.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ status: 404, code: 'NOT_FOUND', title: expect.any(String), detail: expect.any(String), type: expect.stringMatching(/^https:\/\//) });
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('echoes a caller X-Request-Id on every response, and replaces an unsafe one', async () => {
    const echoed = await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-42.abc' } });
    expect(echoed.headers['x-request-id']).toBe('trace-42.abc');
    const problem = await t.inject({ method: 'GET', url: '/v1/nothing-here', headers: { 'x-request-id': 'trace-43' } });
    expect(problem.json().requestId).toBe('trace-43');
    const unsafe = await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a b\tc' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names each bad query field in a validation problem', async () => {
    const res = await t.inject({ method: 'GET', url: '/v1/audit-events?limit=abc&colour=blue', headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.json().errors).toEqual(
      expect.arrayContaining([
        { field: 'query.limit', message: 'must be a whole number from 1 to 500' },
        { field: 'query.colour', message: 'is not a known field' },
      ]),
    );
  });

  it('refuses an audit window whose until is not later than its since, on the list and the export', async () => {
    for (const path of ['/v1/audit-events', '/v1/audit-events/export']) {
      const swapped = await t.inject({ method: 'GET', url: `${path}?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z`, headers: auth });
      expect(swapped.statusCode).toBe(400);
      expect(swapped.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(swapped.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'query.until', message: 'must be later than since' }] });
      const empty = await t.inject({ method: 'GET', url: `${path}?since=2030-01-01T00:00:00Z&until=2030-01-01T01:00:00%2B01:00`, headers: auth });
      expect(empty.json().errors).toEqual([{ field: 'query.until', message: 'must be later than since' }]);
      const open = await t.inject({ method: 'GET', url: `${path}?since=2020-01-01T00:00:00Z&until=2030-01-01T00:00:00Z`, headers: auth });
      expect(open.statusCode).toBe(200);
    }
  });

  it('refuses control characters in names, labels and descriptions, naming the field', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    const errorsOf = async (url: string, body: unknown) => {
      const res = await t.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(body) });
      expect(res.statusCode).toBe(400);
      return res.json().errors;
    };
    expect(await errorsOf('/v1/realms/platform/service-accounts', { clientId: 'ctl-chars', owner: 'team', description: 'ok\n\u001b[2Jcleared' })).toEqual([
      { field: 'description', message: 'must not contain control characters other than tabs and line breaks' },
    ]);
    expect(await errorsOf('/v1/realms/platform/service-accounts/ctl-chars/api-keys', { name: 'ci\nforged line', scopes: [] })).toEqual([
      { field: 'name', message: 'must not contain control characters (such as a newline, a tab or NUL)' },
    ]);
    expect(await errorsOf('/v1/gitops/apply', { definitions: [], source: 'c0ffee\u0000' })).toEqual([
      { field: 'source', message: 'must not contain control characters (such as a newline, a tab or NUL)' },
    ]);
  });

  it('refuses a body that is not JSON with a 4xx problem', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: { ...auth, 'content-type': 'application/json' }, payload: '{not json' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_REQUEST', detail: 'The body is not valid JSON (at character 2).' });
  });

  it('names the reason a JSON body is refused, on the verification routes and the others alike', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    // The verification route (served by the hot door's instance) and a route of the app's instance.
    for (const url of ['/v1/api-keys/verify', '/v1/realms/platform/service-accounts']) {
      const poisoned = await t.inject({ method: 'POST', url, headers: json, payload: '{"__proto__":{"owner":"x"},"clientId":"abc-def"}' });
      expect(poisoned.statusCode).toBe(400);
      expect(poisoned.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(poisoned.json()).toMatchObject({ code: 'MALFORMED_REQUEST', detail: expect.stringContaining('forbidden property name: "__proto__"') });
      const broken = await t.inject({ method: 'POST', url, headers: json, payload: '{"key":"sk_live_abc" "x"}' });
      expect(broken.json()).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', detail: 'The body is not valid JSON (at character 22).' });
      expect(broken.body).not.toContain('sk_live_abc');
    }
  });

  it('reads an empty body sent as JSON as no body, on the verification routes and the others alike', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    const verify = await t.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: json, payload: '' });
    expect(verify.statusCode).toBe(400);
    expect(verify.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'key', message: 'is required' }] });
    const create = await t.inject({ method: 'POST', url: '/v1/realms/platform/service-accounts', headers: json, payload: '' });
    expect(create.json().errors).toEqual(expect.arrayContaining([{ field: 'clientId', message: 'is required' }, { field: 'owner', message: 'is required' }]));
    // A DELETE from a client that sends the header on every request reaches its route.
    const revoke = await t.inject({ method: 'DELETE', url: '/v1/api-keys/key_0000000000000000000000', headers: json, payload: '' });
    expect(revoke.statusCode).toBe(404);
    expect(revoke.json()).toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    // The body no longer stops such a request first: the credential check still does.
    const anonymous = await t.inject({ method: 'DELETE', url: '/v1/api-keys/key_0000000000000000000000', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'AUTHENTICATION_REQUIRED' });
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'Keysmith' } });
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/audit-events']));
    const ui = await t.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui');
  });

  it('exposes Prometheus metrics with process metrics and the HTTP duration histogram', async () => {
    await t.inject({ method: 'GET', url: '/healthz' });
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
    expect(res.body).toMatch(/keysmith_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
  });

  it('runs every migration at start-up, and the entities need no further one', async () => {
    const dataSource = t.app.get(DataSource);
    expect(await dataSource.showMigrations()).toBe(false);
    expect(await pendingSchemaChanges(dataSource)).toEqual([]);
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('foundation');
  });
});
