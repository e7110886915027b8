import { API_SCOPES } from '../src/common/auth/scopes.decorator.js';
import { authHeaders, remember, SEEDED_CALLERS, seededSecret, tokenFor } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/**
 * The routes that need no credential. Adding one here is a security decision: it must be
 * reviewed, not slipped in with a new controller.
 */
const PUBLIC_OPERATIONS = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /v1/auth/check',
  'GET /v1/auth/check/{path}',
  // Token exchange: the API key in the body (or X-API-Key) is the only credential.
  'POST /v1/token',
  'GET /v1/auth/exchange',
  'GET /v1/auth/exchange/{path}',
]);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const PATH_PARAMETERS: Record<string, string> = { realm: 'platform', clientId: 'scope-probe', id: 'key_scopeprobe', name: 'key-expiry' };

interface Operation {
  label: string;
  method: string;
  url: string;
  scopes: unknown;
}

function operationsOf(document: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      label: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      url: path.replace(/\{(\w+)\}/g, (_, name: string) => PATH_PARAMETERS[name] ?? 'x'),
      scopes: item[method]['x-required-scopes'],
    })),
  );
}

describe('Every route of the OpenAPI document declares its scopes and the guard enforces them', () => {
  let t: TestApp;
  let operations: Operation[];
  let scopelessToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    remember(t.secrets, await seededSecret(SEEDED_CALLERS.scopeless));
    scopelessToken = remember(t.secrets, await tokenFor(SEEDED_CALLERS.scopeless));
    const doc = await t.inject({ method: 'GET', url: '/openapi.json' });
    operations = operationsOf(doc.json());
  });
  afterAll(() => t.close());

  const call = (operation: Operation, headers: Record<string, string>) =>
    t.inject({
      method: operation.method,
      url: operation.url,
      headers,
      // A body only where one is expected: Fastify refuses an empty JSON body on DELETE before any guard.
      ...(['POST', 'PUT', 'PATCH'].includes(operation.method) ? { payload: {} } : {}),
    });

  it('finds the routes of the service in the document', () => {
    expect(operations.map((o) => o.label)).toEqual(expect.arrayContaining(['GET /healthz', 'GET /v1/audit-events', 'GET /v1/audit-events/export']));
  });

  it('has x-required-scopes on every operation: known scopes, or empty only for an allow-listed public route', () => {
    const problems = operations.flatMap(({ label, scopes }) => {
      if (!Array.isArray(scopes)) return [`${label}: no x-required-scopes (add @RequireScopes or @PublicRoute)`];
      if (scopes.length === 0 && !PUBLIC_OPERATIONS.has(label)) return [`${label}: public but not in the allow-list of public routes`];
      if (scopes.length > 0 && PUBLIC_OPERATIONS.has(label)) return [`${label}: allow-listed as public but requires ${scopes.join(', ')}`];
      const unknown = scopes.filter((scope) => !(API_SCOPES as readonly string[]).includes(scope));
      return unknown.length ? [`${label}: unknown scopes ${unknown.join(', ')}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('answers 401 without credentials on every non-public operation', async () => {
    const problems: string[] = [];
    for (const operation of operations.filter((o) => !PUBLIC_OPERATIONS.has(o.label))) {
      const res = await call(operation, {});
      if (res.statusCode !== 401 || res.json().code !== 'AUTHENTICATION_REQUIRED') problems.push(`${operation.label}: ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(problems).toEqual([]);
  });

  it('answers 403 naming the declared scopes to a valid token without them on every non-public operation', async () => {
    const problems: string[] = [];
    for (const operation of operations.filter((o) => !PUBLIC_OPERATIONS.has(o.label))) {
      const res = await call(operation, authHeaders(scopelessToken));
      const body = res.headers['content-type']?.includes('json') ? res.json() : {};
      if (res.statusCode !== 403 || body.code !== 'INSUFFICIENT_SCOPE' || JSON.stringify(body.required) !== JSON.stringify(operation.scopes)) {
        problems.push(`${operation.label}: ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('logs no token or secret this suite used', () => {
    expect(t.logs.leaked(t.secrets)).toEqual([]);
  });
});
