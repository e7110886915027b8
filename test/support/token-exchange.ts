import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { keycloakEnv } from './keycloak-env.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_KEY_TOKEN_TYPE = 'urn:keysmith:params:oauth:token-type:api-key';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface TokenEndpointAnswer {
  status: number;
  headers: Headers;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * An RFC 8693 token-exchange request as an OAuth client sends it: a form body built with
 * URLSearchParams, posted with Node's fetch. Extra form fields (such as `client_id`) pass through.
 */
export async function exchangeKey(baseUrl: string, key: string, extra: Record<string, string> = {}): Promise<TokenEndpointAnswer> {
  const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: key, subject_token_type: API_KEY_TOKEN_TYPE, ...extra });
  const response = await fetch(`${baseUrl}/v1/token`, { method: 'POST', body, headers: { accept: 'application/json' } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

/** What a downstream service does: verify the token's signature against the realm's JWKS, and its issuer. */
export async function verifyDownstream(token: string, realm = 'platform'): Promise<JWTPayload & Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const issuer = `${keycloakEnv().KEYCLOAK_URL}/realms/${realm}`;
  jwks ??= createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));
  const { payload } = await jwtVerify(token, jwks, { issuer, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] });
  return payload;
}
