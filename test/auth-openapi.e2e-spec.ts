import { API_SCOPES } from '../src/common/auth/scopes.decorator.js';
import { apiKeyHeaders, authHeaders, remember, SEEDED_CALLERS, seededSecret, tokenFor } from './support/auth.js';
import type { TestResponse } from './support/http.js';
import { uniqueClientId } from './support/keycloak-admin.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

/**
 * The routes that need no credential. Adding one here is a security decision: it must be
 * reviewed, not slipped in with a new controller.
 */
const PUBLIC_OPERATIONS = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /readyz/keycloak',
  'GET /metrics',
  'GET /v1/auth/check',
  'GET /v1/auth/check/{path}',
  // Token exchange: the API key in the body (or X-API-Key) is the only credential.
  'POST /v1/token',
  'GET /v1/auth/exchange',
  'GET /v1/auth/exchange/{path}',
]);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const PATH_PARAMETERS: Record<string, string> = { realm: 'platform', clientId: 'scope-probe', id: 'key_scopeprobe', name: 'key-expiry', set: 'probe-set' };

/**
 * The owner boundary of every operation, checked for a caller bound to team A (an API key of a
 * team A account holding every API scope) against team B's resources. `hidden`: B's resource
 * answers 404 like a missing one (`hidden-each`: in a bundle answer's `failed`); `refused`: 403 OWNER_FORBIDDEN; `refused-each`: a bundle
 * answer (200) whose every definition of B is refused with OWNER_FORBIDDEN; `filtered`: lists only A's
 * items; `redacted`: job runs without counts, errors or details; `key-holder`: not owner-bound,
 * the caller presents the key it asks about; `public`: no credential at all. A new operation
 * without a rule here fails the suite.
 */
type OwnerRule = 'hidden' | 'hidden-each' | 'refused' | 'refused-each' | 'filtered' | 'redacted' | 'key-holder' | 'public';
const OWNER_RULES: Record<string, OwnerRule> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /readyz/keycloak': 'public',
  'GET /metrics': 'public',
  'GET /v1/auth/check': 'public',
  'GET /v1/auth/check/{path}': 'public',
  // Token exchange: the key presented is the only credential, and the answer is about it alone.
  'POST /v1/token': 'public',
  'GET /v1/auth/exchange': 'public',
  'GET /v1/auth/exchange/{path}': 'public',
  'POST /v1/realms/{realm}/service-accounts': 'refused',
  'GET /v1/realms/{realm}/service-accounts': 'filtered',
  'GET /v1/realms/{realm}/service-accounts/{clientId}': 'hidden',
  'PUT /v1/realms/{realm}/service-accounts/{clientId}': 'hidden',
  'PATCH /v1/realms/{realm}/service-accounts/{clientId}': 'hidden',
  'DELETE /v1/realms/{realm}/service-accounts/{clientId}': 'hidden',
  'GET /v1/realms/{realm}/service-accounts/{clientId}/secret': 'hidden',
  'POST /v1/realms/{realm}/service-accounts/{clientId}/secret/rotate': 'hidden',
  'POST /v1/realms/{realm}/service-accounts/{clientId}/api-keys': 'hidden',
  'GET /v1/realms/{realm}/service-accounts/{clientId}/api-keys': 'hidden',
  'POST /v1/api-keys/verify': 'key-holder',
  'GET /v1/api-keys/scope-report': 'filtered',
  'GET /v1/api-keys/{id}': 'hidden',
  'POST /v1/api-keys/{id}/rotate': 'hidden',
  'DELETE /v1/api-keys/{id}': 'hidden',
  'GET /v1/audit-events': 'filtered',
  'GET /v1/audit-events/export': 'filtered',
  'GET /v1/jobs': 'redacted',
  'GET /v1/jobs/{name}/runs': 'redacted',
  'GET /v1/jobs/{name}/runs/{runId}': 'redacted',
  'POST /v1/jobs/{name}/run': 'refused',
  'POST /v1/gitops/plan': 'refused-each',
  'POST /v1/gitops/apply': 'refused-each',
  'POST /v1/gitops/sets/{set}/assign': 'hidden-each',
};

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

  describe('the owner boundary', () => {
    const accountA = uniqueClientId('boundary-a');
    const accountB = uniqueClientId('boundary-b');
    let asA: Record<string, string>;
    let keyOfB: { id: string; key: string };
    let runId: string;
    const asTester = async () => authHeaders(remember(t.secrets, await tokenFor(SEEDED_CALLERS.tester)));

    beforeAll(async () => {
      const tester = await asTester();
      for (const [clientId, owner] of [[accountA, 'team-a'], [accountB, 'team-b']]) {
        const res = await t.inject({ method: 'POST', url: '/v1/realms/platform/service-accounts', headers: tester, payload: { clientId, owner, defaultScopes: [...API_SCOPES, 'read:data'] } });
        expect(res.statusCode).toBe(201);
        remember(t.secrets, res.json().clientSecret);
      }
      const issue = async (clientId: string, scopes: string[]) => {
        const res = await t.inject({ method: 'POST', url: `/v1/realms/platform/service-accounts/${clientId}/api-keys`, headers: tester, payload: { name: 'boundary', scopes } });
        expect(res.statusCode).toBe(201);
        return { id: res.json().id as string, key: remember(t.secrets, res.json().key as string) };
      };
      asA = apiKeyHeaders((await issue(accountA, [...API_SCOPES])).key);
      keyOfB = await issue(accountB, ['read:data']);
      const run = await t.inject({ method: 'POST', url: '/v1/jobs/key-expiry/run', headers: tester, payload: { dryRun: true } });
      expect(run.statusCode).toBe(202);
      runId = run.json().runId;
    });
    afterAll(async () => {
      const tester = await asTester();
      for (const clientId of [accountA, accountB]) await t.inject({ method: 'DELETE', url: `/v1/realms/platform/service-accounts/${clientId}`, headers: tester });
    });

    it('has an owner rule for every operation', () => {
      expect(operations.filter((o) => !(o.label in OWNER_RULES)).map((o) => o.label)).toEqual([]);
    });

    const definitionOfB = () => ({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: accountB, realm: 'platform', owner: 'team-b' }, spec: { defaultScopes: ['read:data'] } });
    /** What team A sends to reach team B, per operation. */
    const probeOf = (operation: Operation): { url: string; payload?: unknown } => {
      const url = operation.url.replace('/scope-probe', `/${accountB}`).replace('key_scopeprobe', keyOfB.id).replace('/runs/x', `/runs/${runId}`);
      const payloads: Record<string, unknown> = {
        'POST /v1/realms/{realm}/service-accounts': { clientId: uniqueClientId('boundary-c'), owner: 'team-b', defaultScopes: ['read:data'] },
        'PUT /v1/realms/{realm}/service-accounts/{clientId}': { owner: 'team-a', defaultScopes: ['read:data'] },
        'PATCH /v1/realms/{realm}/service-accounts/{clientId}': { description: 'taken over' },
        'POST /v1/realms/{realm}/service-accounts/{clientId}/secret/rotate': { graceHours: 0 },
        'POST /v1/realms/{realm}/service-accounts/{clientId}/api-keys': { name: 'stolen', scopes: ['read:data'] },
        'POST /v1/api-keys/verify': { key: keyOfB.key },
        'POST /v1/api-keys/{id}/rotate': { graceHours: 0 },
        'POST /v1/jobs/{name}/run': { dryRun: true },
        'POST /v1/gitops/plan': { definitions: [definitionOfB()] },
        'POST /v1/gitops/apply': { definitions: [definitionOfB()] },
        'POST /v1/gitops/sets/{set}/assign': { realm: 'platform', clientIds: [accountB] },
      };
      const filtered: Record<string, string> = {
        'GET /v1/realms/{realm}/service-accounts': `${url}?limit=500`,
        'GET /v1/audit-events': `${url}?limit=500`,
      };
      return { url: filtered[operation.label] ?? url, payload: payloads[operation.label] ?? (['POST', 'PUT', 'PATCH'].includes(operation.method) ? {} : undefined) };
    };
    const ownersIn = (res: TestResponse): Set<unknown> => {
      const items = res.headers['content-type']?.includes('ndjson') ? res.body.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : res.json().items;
      return new Set((items as { owner: unknown }[]).map((item) => item.owner));
    };
    const judge: Record<OwnerRule, (res: TestResponse) => boolean> = {
      hidden: (res) => res.statusCode === 404 && ['SERVICE_ACCOUNT_NOT_FOUND', 'API_KEY_NOT_FOUND'].includes(res.json().code),
      refused: (res) => res.statusCode === 403 && res.json().code === 'OWNER_FORBIDDEN',
      'refused-each': (res) => {
        if (res.statusCode !== 200) return false;
        const body = res.json();
        const outcomes = [...(body.accounts ?? []).map((a: { error?: { code: string } }) => a.error?.code), ...(body.failed ?? []).map((f: { code: string }) => f.code)];
        return outcomes.length === 1 && outcomes[0] === 'OWNER_FORBIDDEN' && (body.applied ?? []).length === 0;
      },
      'hidden-each': (res) => {
        if (res.statusCode !== 200) return false;
        const body = res.json();
        return body.assigned.length === 0 && body.failed.length === 1 && body.failed[0].code === 'SERVICE_ACCOUNT_NOT_FOUND';
      },
      filtered: (res) => res.statusCode === 200 && [...ownersIn(res)].every((owner) => owner === 'team-a'),
      redacted: (res) => {
        if (res.statusCode !== 200) return false;
        const body = res.json();
        const runs = body.items ? body.items.map((item: { lastRun?: unknown }) => ('lastRun' in item ? item.lastRun : item)).filter(Boolean) : [body];
        return runs.length > 0 && runs.every((run: { redacted?: boolean; errors: unknown[] }) => run.redacted === true && run.errors.length === 0);
      },
      'key-holder': (res) => res.statusCode === 200 && res.json().valid === true && res.json().owner === 'team-b',
      public: () => true,
    };

    it('keeps a caller bound to team A away from team B on every operation, as its rule says', async () => {
      const problems: string[] = [];
      for (const operation of operations.filter((o) => OWNER_RULES[o.label] !== 'public')) {
        const rule = OWNER_RULES[operation.label];
        const { url, payload } = probeOf(operation);
        const res = await t.inject({ method: operation.method, url, headers: asA, ...(payload !== undefined ? { payload } : {}) });
        if (!judge[rule](res)) problems.push(`${operation.label} (${rule}): ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
      expect(problems).toEqual([]);
      // Nothing of B's changed: its key still works and its account kept its description.
      expect((await t.inject({ method: 'GET', url: '/v1/auth/check', headers: apiKeyHeaders(keyOfB.key) })).statusCode).toBe(200);
      const b = await t.inject({ method: 'GET', url: `/v1/realms/platform/service-accounts/${accountB}`, headers: await asTester() });
      expect(b.json()).toMatchObject({ owner: 'team-b', description: '' });
    });
  });

  describe('at the end', () => {
    it('logs no token or secret this suite used', () => {
      expectNoSecretInLogs('auth-openapi');
    });
  });
});
