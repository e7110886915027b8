import KcAdminClient from '@keycloak/keycloak-admin-client';
import { keycloakEnv } from './keycloak-env.js';
import { harvest, rememberSecret } from './secret-scan.js';

/**
 * Keycloak's Admin API as the bootstrap admin, for tests to look at what Keysmith did (and to set
 * up what Keysmith must not touch). Keysmith itself never uses these credentials.
 */
export async function keycloakAdmin(): Promise<KcAdminClient> {
  const env = keycloakEnv();
  const kc = new KcAdminClient({ baseUrl: env.KEYCLOAK_URL, realmName: 'master' });
  await kc.auth({ grantType: 'password', clientId: 'admin-cli', username: env.KEYCLOAK_BOOTSTRAP_USER, password: env.KEYCLOAK_BOOTSTRAP_PASSWORD });
  rememberSecret(kc.accessToken);
  return kc;
}

/** A real client-credentials token request; returns the decoded access-token claims on success. */
export async function clientCredentialsToken(realm: string, clientId: string, clientSecret: string): Promise<{ status: number; token?: string; claims?: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const env = keycloakEnv();
  rememberSecret(clientSecret);
  const response = await fetch(`${env.KEYCLOAK_URL}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  const body = (await response.json()) as { access_token?: string };
  harvest(body);
  if (!response.ok || !body.access_token) return { status: response.status };
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString('utf8'));
  return { status: response.status, token: body.access_token, claims };
}

/** A client id unique to this test run, so suites can share one Keycloak. */
export function uniqueClientId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 63);
}
