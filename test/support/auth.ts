import { request as httpRequest } from 'node:http';
import { keycloakEnv } from './keycloak-env.js';
import type { TestRequest, TestResponse } from './http.js';
import { harvest, rememberSecret } from './secret-scan.js';

/**
 * Credentials for Keysmith's own API in e2e suites: real Keycloak tokens from real
 * client_credentials requests against the seeded clients (scripts/seed-keycloak.mjs).
 *
 *   const headers = authHeaders(await adminToken());   // every Keysmith scope, no owner
 *   await t.inject({ method: 'GET', url: '/v1/audit-events', headers });
 *
 * Add the tokens and secrets a suite uses to `t.secrets` (see `remember`) so the suite's closing
 * log check covers them. Keysmith checks `exp` against the injected clock; the harness pins that
 * check to real time unless a suite asks for `createTestApp({ tokenClock: 'test' })`, so suites
 * that move `t.clock` days ahead stay authenticated. API keys expire with `t.clock`.
 */

/** Seeded callers in the JWT realm (`platform`) and what their tokens carry. */
export const SEEDED_CALLERS = {
  /** Every Keysmith scope and the audience; no owner. */
  tester: 'keysmith-tester',
  /** `audit:read` and the audience. */
  auditor: 'keysmith-auditor',
  /** `audit:read` and the audience, tokens live 60 s. */
  shortLived: 'keysmith-short-lived',
  /** Every Keysmith scope but not the audience. */
  noAudience: 'keysmith-no-audience',
  /** The audience and no Keysmith scope. */
  scopeless: 'keysmith-scopeless',
  /** Service-account, api-key and secret scopes, owner claim `team-a`. */
  teamA: 'keysmith-team-a',
  /** Service-account, api-key and secret scopes, owner claim `team-b`. */
  teamB: 'keysmith-team-b',
  /** Every Keysmith scope plus `keysmith:admin`, owner claim `team-a` (lifted by the admin scope). */
  operator: 'keysmith-operator',
} as const;

const seeded = () => keycloakEnv();
const secretCache = new Map<string, string>();
let masterToken: { value: string; until: number } | undefined;

async function form(url: string, body: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  rememberSecret(body.client_secret, body.password);
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(body) });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  harvest(json);
  return { status: response.status, json };
}

/** A token of Keycloak's master admin (bootstrap user), to read seeded client secrets. */
async function masterAdminToken(): Promise<string> {
  if (masterToken && Date.now() < masterToken.until) return masterToken.value;
  const env = seeded();
  const { status, json } = await form(`${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    grant_type: 'password',
    client_id: 'admin-cli',
    username: env.KEYCLOAK_BOOTSTRAP_USER,
    password: env.KEYCLOAK_BOOTSTRAP_PASSWORD,
  });
  if (status !== 200) throw new Error(`Keycloak refused the bootstrap admin (${status}): run scripts/keycloak.sh seed`);
  masterToken = { value: String(json.access_token), until: Date.now() + 30_000 };
  return masterToken.value;
}

/** The client secret of a seeded client, read from Keycloak's admin API. */
export async function seededSecret(clientId: string, realm = seeded().KEYSMITH_JWT_REALM): Promise<string> {
  const env = seeded();
  if (realm === env.KEYSMITH_JWT_REALM && clientId === env.KEYSMITH_TEST_CLIENT_ID) return env.KEYSMITH_TEST_CLIENT_SECRET;
  const cacheKey = `${realm}/${clientId}`;
  const cached = secretCache.get(cacheKey);
  if (cached) return cached;
  const headers = { authorization: `Bearer ${await masterAdminToken()}` };
  const admin = `${env.KEYCLOAK_URL}/admin/realms/${encodeURIComponent(realm)}`;
  const [client] = (await (await fetch(`${admin}/clients?clientId=${encodeURIComponent(clientId)}`, { headers })).json()) as { id: string }[];
  if (!client) throw new Error(`client ${clientId} not found in realm ${realm}: run scripts/keycloak.sh seed`);
  const { value } = (await (await fetch(`${admin}/clients/${client.id}/client-secret`, { headers })).json()) as { value: string };
  rememberSecret(value);
  secretCache.set(cacheKey, value);
  return value;
}

/** A fresh access token from a real client_credentials request. */
export async function tokenFor(clientId: string, secret?: string, realm = seeded().KEYSMITH_JWT_REALM): Promise<string> {
  const env = seeded();
  const { status, json } = await form(`${env.KEYCLOAK_URL}/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret ?? (await seededSecret(clientId, realm)),
  });
  if (status !== 200 || typeof json.access_token !== 'string') throw new Error(`no token for ${clientId} in ${realm}: ${status} ${String(json.error)}`);
  return json.access_token;
}

/**
 * A token of a seeded client requested through another host name: signed by the realm's real key
 * with the real audience, but Keycloak (hostname-strict off) issues it as `http://<host>/realms/...`.
 */
export async function tokenWithIssuerHost(clientId: string, host: string): Promise<string> {
  const env = seeded();
  const url = new URL(`${env.KEYCLOAK_URL}/realms/${env.KEYSMITH_JWT_REALM}/protocol/openid-connect/token`);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: await seededSecret(clientId) }).toString();
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve(data));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  harvest(text);
  return String((JSON.parse(text) as { access_token: string }).access_token);
}

/** The seeded test client's token: every Keysmith scope, the audience, no owner. */
export async function adminToken(): Promise<string> {
  const env = seeded();
  return tokenFor(env.KEYSMITH_TEST_CLIENT_ID, env.KEYSMITH_TEST_CLIENT_SECRET);
}

export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function apiKeyHeaders(key: string): Record<string, string> {
  return { 'x-api-key': key };
}

/** Adds credentials to a suite's secret set, returning the first one for chaining. */
export function remember<T extends string>(secrets: Set<string>, value: T, ...more: string[]): T {
  for (const item of [value, ...more]) secrets.add(item);
  return value;
}

/** The payload of a JWT, unverified: for assertions on what Keycloak put in it. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Makes every request of a suite authenticated by default: `t.inject` adds a bearer token of
 * `clientId` (the all-scopes test client by default) unless the request sets its own
 * `Authorization` or `X-API-Key`. The token is renewed before it expires (real time) and added to
 * `t.secrets`. For a request without any credential use `httpRequest(t.baseUrl, ...)`.
 */
export async function authenticateSuite(
  t: { inject: (request: TestRequest) => Promise<TestResponse>; secrets: Set<string> },
  clientId: string = seeded().KEYSMITH_TEST_CLIENT_ID,
): Promise<void> {
  let current: { token: string; renewAt: number } | undefined;
  const token = async () => {
    if (!current || Date.now() >= current.renewAt) {
      const value = remember(t.secrets, await tokenFor(clientId));
      const { exp } = claimsOf(value) as { exp: number };
      current = { token: value, renewAt: exp * 1000 - 60_000 };
    }
    return current.token;
  };
  await token();
  const inject = t.inject.bind(t);
  t.inject = async (request) => {
    const names = Object.keys(request.headers ?? {}).map((name) => name.toLowerCase());
    if (names.includes('authorization') || names.includes('x-api-key')) return inject(request);
    return inject({ ...request, headers: { ...authHeaders(await token()), ...request.headers } });
  };
  // One verified request fetches the realm's signing keys now, so the suite's first timed or
  // concurrent requests do not wait on that fetch.
  await t.inject({ method: 'GET', url: '/v1/audit-events?limit=1' });
}
