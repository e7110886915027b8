import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app.js';
import type { TestResponse } from './http.js';

/**
 * Extra credentials for Keysmith's own API on the API-key suites' /v1 calls. Empty: the suites call
 * `authenticateSuite(t)` (support/auth.ts), which adds a bearer token to every request without one.
 */
export function apiHeaders(): Record<string, string> {
  return {};
}

/** A clientId unique to this run: Keycloak is shared between suites and runs. */
export function uniqueClientId(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}

export interface AccountSpec {
  owner?: string;
  defaultScopes?: string[];
  optionalScopes?: string[];
  apiKeyPolicy?: { defaultTtlDays?: number; maxTtlDays?: number; rateLimit?: { requests: number; perSeconds: number } | null };
}

/** Creates a real service account (and its Keycloak client) through the API. */
export async function createAccount(t: TestApp, realm: string, clientId: string, spec: AccountSpec = {}): Promise<TestResponse> {
  const res = await t.inject({
    method: 'POST',
    url: `/v1/realms/${realm}/service-accounts`,
    headers: apiHeaders(),
    payload: {
      clientId,
      owner: spec.owner ?? 'team-keys',
      defaultScopes: spec.defaultScopes ?? ['read:data'],
      optionalScopes: spec.optionalScopes ?? ['write:data'],
      apiKeyPolicy: { defaultTtlDays: 90, maxTtlDays: 90, rateLimit: null, ...spec.apiKeyPolicy },
    },
  });
  if (res.statusCode !== 201) throw new Error(`creating ${realm}/${clientId} answered ${res.statusCode}: ${res.body}`);
  const secret = res.json().clientSecret;
  if (typeof secret === 'string') t.secrets.add(secret);
  return res;
}

export async function deleteAccount(t: TestApp, realm: string, clientId: string): Promise<void> {
  await t.inject({ method: 'DELETE', url: `/v1/realms/${realm}/service-accounts/${clientId}`, headers: apiHeaders() });
}

/** Issues a key through the API; the key is added to the suite's secrets. */
export async function issueKey(t: TestApp, realm: string, clientId: string, body: Record<string, unknown>): Promise<TestResponse> {
  const res = await t.inject({ method: 'POST', url: `/v1/realms/${realm}/service-accounts/${clientId}/api-keys`, headers: apiHeaders(), payload: body });
  const key = res.statusCode === 201 ? res.json().key : undefined;
  if (typeof key === 'string') t.secrets.add(key);
  return res;
}

export async function verify(t: TestApp, key: string, requiredScopes?: string[]): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await t.inject({ method: 'POST', url: '/v1/api-keys/verify', headers: apiHeaders(), payload: requiredScopes ? { key, requiredScopes } : { key } });
  if (res.statusCode !== 200) throw new Error(`verify answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** A well-formed key (right prefix and checksum) that was never issued. */
export { checksumOf } from '../../src/api-keys/strategies/api-key-format.js';
