import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticateSuite } from './support/auth.js';
import { httpRequest } from './support/http.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function operations(document: Json): [string, Json][] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method): [string, Json] => [`${method.toUpperCase()} ${path}`, item[method]]),
  );
}

/** Every schema object in the document, with where it is. */
function schemas(value: unknown, at = '#'): [string, Json][] {
  if (!value || typeof value !== 'object') return [];
  const here: [string, Json][] = [[at, value as Json]];
  return here.concat(Object.entries(value).flatMap(([name, child]) => schemas(child, `${at}/${name}`)));
}

/**
 * Uses the generated client the way a caller would. Each line compiles only if openapi-typescript
 * made the required fields required (strict mode: an optional field is `T | undefined`).
 */
const CLIENT_USAGE = `import type { components, paths } from './keysmith-api.js';
type Json<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { 'application/json': infer B } } } } ? B : never;
type Issued = Json<paths['/v1/realms/{realm}/service-accounts/{clientId}/api-keys']['post'], 201>;
type Key = Json<paths['/v1/api-keys/{id}']['get'], 200>;
type Account = Json<paths['/v1/realms/{realm}/service-accounts/{clientId}']['get'], 200>;
type Problem = components['schemas']['Problem'];
declare const issued: Issued;
declare const key: Key;
declare const account: Account;
declare const problem: Problem;
export const required: string[] = [issued.key, issued.id, key.hint, key.status, account.clientId, account.owner, problem.code, problem.requestId];
export const count: number = key.useCount + account.secretRotation.everyDays;
// @ts-expect-error lastUsedAt is null until the key is used
export const lastUsed: string = key.lastUsedAt;
`;

describe('The OpenAPI document', () => {
  let t: TestApp;
  let document: Json;

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    document = res.json();
  });
  afterAll(() => t.close());

  it('is valid OpenAPI 3.1 for swagger-parser (0 errors)', () => {
    expect(document.openapi).toBe('3.1.0');
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
      let output: string;
      try {
        output = execFileSync(process.execPath, ['scripts/validate-openapi.mjs', join(dir, 'openapi.json')], { encoding: 'utf8' });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout);
      }
      process.stdout.write(`openapi.json: ${output}`);
      expect(output.trim().split('\n').pop()).toMatch(/ 0 errors$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses 3.1 schemas only: no 3.0 `nullable`, nulls as type null', () => {
    expect(schemas(document).filter(([, schema]) => 'nullable' in schema).map(([at]) => at)).toEqual([]);
    expect(JSON.stringify(document)).toContain('"type":"null"');
  });

  it('marks required fields in response schemas', () => {
    const issued = document.paths['/v1/realms/{realm}/service-accounts/{clientId}/api-keys'].post.responses['201'].content['application/json'].schema;
    expect(issued.required).toEqual(expect.arrayContaining(['id', 'key', 'hint', 'scopes', 'expiresAt', 'lastUsedAt', 'status']));
    expect(document.components.schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId']));
  });

  it('documents a success and the problem+json errors of every operation; 204s, NDJSON, 414 and 429 included', () => {
    for (const [label, operation] of operations(document)) {
      const statuses = Object.keys(operation.responses);
      expect([label, statuses.some((status) => /^2\d\d$/.test(status))]).toEqual([label, true]);
      expect([label, statuses]).toEqual([label, expect.arrayContaining(['500'])]);
      for (const status of statuses.filter((s) => Number(s) >= 400 && !(['GET /readyz', 'GET /readyz/keycloak'].includes(label) && s === '503'))) {
        // The OAuth token endpoint answers its own errors as OAuth does (RFC 6749 section 5.2); the body parser's stay problems.
        if (label === 'POST /v1/token' && ['400', '429', '500', '503'].includes(status)) {
          expect([label, status, Object.keys(operation.responses[status].content)]).toEqual([label, status, ['application/json']]);
          expect(operation.responses[status].content['application/json'].schema.required).toEqual(['error']);
          continue;
        }
        expect([label, status, operation.responses[status].content]).toEqual([label, status, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }]);
      }
      if (label.startsWith('GET /v1/') && !label.startsWith('GET /v1/auth/check')) expect([label, statuses]).toEqual([label, expect.arrayContaining(['401', '403', '429'])]);
      if (label.includes('{') && !/\/v1\/auth\/(check|exchange)\//.test(label)) expect([label, statuses]).toEqual([label, expect.arrayContaining(['414'])]);
    }
    expect(Object.keys(document.paths['/v1/api-keys/{id}'].delete.responses)).toContain('204');
    expect(Object.keys(document.paths['/v1/realms/{realm}/service-accounts/{clientId}'].delete.responses)).toContain('204');
    expect(Object.keys(document.paths['/v1/audit-events/export'].get.responses['200'].content)).toEqual(['application/x-ndjson']);
    expect(document.paths['/v1/api-keys/verify'].post.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('answers an over-long path parameter with a 414 problem+json that does not echo the path', async () => {
    const long = `key_${'x'.repeat(120)}`;
    const res = await httpRequest(t.baseUrl, { method: 'GET', url: `/v1/api-keys/${long}` });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 414, code: 'URI_TOO_LONG', requestId: res.headers['x-request-id'] });
    expect(res.body).not.toContain(long);
  });

  it('gives a TypeScript client (openapi-typescript) that compiles, with the required fields required', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-openapi-client-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
      execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', join(dir, 'openapi.json'), '-o', join(dir, 'keysmith-api.ts')], { stdio: 'pipe' });
      writeFileSync(join(dir, 'usage.ts'), CLIENT_USAGE);
      const tsc = ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'usage.ts')];
      let output = '';
      try {
        execFileSync(process.execPath, tsc, { stdio: 'pipe' });
      } catch (error) {
        output = String((error as { stdout?: Buffer }).stdout ?? error);
      }
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs none of the secrets, keys and tokens this suite saw', () => {
    expectNoSecretInLogs('openapi');
  });
});
