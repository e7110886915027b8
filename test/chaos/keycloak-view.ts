import { keycloakEnv } from '../support/keycloak-env.js';
import { normalize, type Grants } from './model.js';

/**
 * Keycloak as the chaos checks see it: read through the admin API as the bootstrap admin, so the
 * check is independent of Keysmith's own view. Also the client-credentials proof of a secret.
 */
const BASE_SCOPES = ['basic', 'roles', 'service_account', 'acr', 'web-origins', 'profile', 'email', 'address', 'phone', 'offline_access', 'microprofile-jwt', 'organization'];

let cached: { token: string; until: number } | undefined;

async function adminToken(): Promise<string> {
  if (cached && Date.now() < cached.until) return cached.token;
  const env = keycloakEnv();
  const response = await fetch(`${env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: env.KEYCLOAK_BOOTSTRAP_USER, password: env.KEYCLOAK_BOOTSTRAP_PASSWORD }),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 200) throw new Error(`Keycloak refused the bootstrap admin (${response.status})`);
  const json = (await response.json()) as { access_token: string };
  cached = { token: json.access_token, until: Date.now() + 30_000 };
  return cached.token;
}

async function admin<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const env = keycloakEnv();
  const response = await fetch(`${env.KEYCLOAK_URL}/admin/realms${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok && response.status !== 404) throw new Error(`Keycloak admin ${method} ${path}: ${response.status}`);
  if (response.status === 204 || method !== 'GET') return undefined as T;
  return (response.status === 404 ? undefined : await response.json()) as T;
}

export interface KeycloakClient {
  id: string;
  clientId: string;
}

/** Clients of a realm whose clientId starts with `prefix`. */
export async function clientsWithPrefix(realm: string, prefix: string): Promise<KeycloakClient[]> {
  const found = await admin<KeycloakClient[]>(`/${realm}/clients?clientId=${encodeURIComponent(prefix)}&search=true&max=10000`);
  return (found ?? []).filter((client) => client.clientId.startsWith(prefix));
}

export async function findClient(realm: string, clientId: string): Promise<KeycloakClient | undefined> {
  const found = await admin<KeycloakClient[]>(`/${realm}/clients?clientId=${encodeURIComponent(clientId)}`);
  return (found ?? []).find((client) => client.clientId === clientId);
}

/** The roles of the client's service-account user and its client scopes, base scopes left out. */
export async function grantsOf(realm: string, client: KeycloakClient): Promise<Grants> {
  const user = await admin<{ id: string }>(`/${realm}/clients/${client.id}/service-account-user`);
  const mappings = await admin<{ realmMappings?: { name: string }[]; clientMappings?: Record<string, { client: string; mappings: { name: string }[] }> }>(
    `/${realm}/users/${user.id}/role-mappings`,
  );
  const defaults = await admin<{ name: string }[]>(`/${realm}/clients/${client.id}/default-client-scopes`);
  const optionals = await admin<{ name: string }[]>(`/${realm}/clients/${client.id}/optional-client-scopes`);
  const notBase = (scopes: { name: string }[]) => scopes.map((s) => s.name).filter((name) => !BASE_SCOPES.includes(name));
  return normalize({
    realmRoles: (mappings.realmMappings ?? []).map((r) => r.name).filter((name) => name !== `default-roles-${realm}`),
    clientRoles: Object.fromEntries(Object.entries(mappings.clientMappings ?? {}).map(([name, entry]) => [name, entry.mappings.map((r) => r.name)])),
    defaultScopes: notBase(defaults),
    optionalScopes: notBase(optionals),
  });
}

/** A confidential client made behind Keysmith's back (to prove that the orphan check sees it). */
export async function createClient(realm: string, clientId: string): Promise<void> {
  await admin(`/${realm}/clients`, 'POST', { clientId, publicClient: false, serviceAccountsEnabled: true, standardFlowEnabled: false });
}

export async function deleteClient(realm: string, client: KeycloakClient): Promise<void> {
  await admin(`/${realm}/clients/${client.id}`, 'DELETE');
}

/** A real client-credentials request: true when Keycloak issues a token for this secret. */
export async function secretAuthenticates(realm: string, clientId: string, secret: string): Promise<boolean> {
  const env = keycloakEnv();
  const response = await fetch(`${env.KEYCLOAK_URL}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
    signal: AbortSignal.timeout(30_000),
  });
  await response.body?.cancel();
  return response.status === 200;
}
